package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Authenticator checks requests' bearer tokens against a TokenStore.
type Authenticator struct {
	// Tokens holds the tokens. Required.
	Tokens TokenStore
	// ErrorFunc answers a request that is refused: err matches ErrNoToken
	// or ErrInvalidToken (answer 401), ErrScope (403), or anything else (the
	// token store failed: 503). Defaults to a plain-text answer.
	ErrorFunc func(w http.ResponseWriter, r *http.Request, status int, err error)
	// NowFunc tells the time, to check expiry. Defaults to time.Now.
	NowFunc func() time.Time
	// Logger logs token store failures. Defaults to slog.Default().
	Logger *slog.Logger
}

// Authenticate returns the token of a request and checks that it allows
// need.
func (a *Authenticator) Authenticate(r *http.Request, need Scope) (*Token, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if a.NowFunc != nil {
		now = a.NowFunc()
	}
	t, err := Verify(r.Context(), a.Tokens, raw, now)
	if err != nil {
		return nil, err
	}
	if !t.Scope.Allows(need) {
		return t, &ScopeError{Have: t.Scope, Need: need}
	}
	return t, nil
}

// Require returns next behind a check that the request's token allows need.
// The token is in the request's context for next (FromContext).
func (a *Authenticator) Require(need Scope, next http.Handler) http.Handler {
	if !need.Valid() {
		// A route without a valid scope is a programming error: failing
		// open would expose it.
		panic(fmt.Sprintf("auth: Require: unknown scope %q", need))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := a.Authenticate(r, need)
		if err != nil {
			status := StatusOf(err)
			if status == http.StatusServiceUnavailable {
				a.logger().Error("auth: token check failed", "error", err)
			}
			if status == http.StatusUnauthorized {
				// RFC 6750 section 3: a 401 names the scheme.
				w.Header().Set("WWW-Authenticate", `Bearer realm="quire"`)
			} else if status == http.StatusForbidden {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="quire", error="insufficient_scope", scope="%s"`, need))
			}
			a.errorFunc()(w, r, status, err)
			return
		}
		// WithContext copies r; the mux's r.Pattern, which metrics read
		// from the original, is set before this runs.
		next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), t)))
	})
}

// StatusOf is the HTTP status that answers an authentication error.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrInvalidToken):
		return http.StatusUnauthorized
	case errors.Is(err, ErrScope):
		return http.StatusForbidden
	default:
		return http.StatusServiceUnavailable
	}
}

func (a *Authenticator) errorFunc() func(http.ResponseWriter, *http.Request, int, error) {
	if a.ErrorFunc != nil {
		return a.ErrorFunc
	}
	return func(w http.ResponseWriter, _ *http.Request, status int, err error) {
		http.Error(w, err.Error(), status)
	}
}

func (a *Authenticator) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
