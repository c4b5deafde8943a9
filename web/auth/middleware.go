package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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
	// Sessions, when set, authenticates a request without a bearer token
	// by its web UI session; a request that is not GET, HEAD or OPTIONS must
	// then carry the session's CSRF token in the X-CSRF-Token header.
	Sessions *Sessions
	// Limiter limits each token's requests; a request over the limit is
	// answered 429 with Retry-After. Nil allows every request.
	Limiter *Limiter
	// Logger logs token store failures. Defaults to slog.Default().
	Logger *slog.Logger
}

// Authenticate returns the token of a request and checks that it allows
// need.
func (a *Authenticator) Authenticate(r *http.Request, need Scope) (*Token, error) {
	raw, err := BearerToken(r)
	if errors.Is(err, ErrNoToken) && a.Sessions != nil {
		if t, serr := a.sessionToken(r); !errors.Is(serr, ErrNoSession) {
			if serr == nil && !t.Scope.Allows(need) {
				return t, &ScopeError{Have: t.Scope, Need: need}
			}
			return t, serr
		}
	}
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
	if tt, ok := a.Tokens.(TokenToucher); ok && now.Sub(t.LastUsedAt) >= time.Minute {
		// Last use is for people deciding what to revoke: a failure to
		// record it must not fail the request.
		if err := tt.TouchToken(r.Context(), t.ID, now); err != nil {
			a.logger().Warn("auth: cannot record a token's use", "token", t.ID, "error", err)
		}
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
			} else if errors.Is(err, ErrScope) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="quire", error="insufficient_scope", scope="%s"`, need))
			}
			a.errorFunc()(w, r, status, err)
			return
		}
		if ok, wait := a.Limiter.Allow(limitKey(t)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(RetryAfter(wait)))
			a.errorFunc()(w, r, http.StatusTooManyRequests, fmt.Errorf("%w: token %s: retry in %s", ErrRateLimited, t.ID, wait.Round(time.Millisecond)))
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
	case errors.Is(err, ErrScope), errors.Is(err, ErrCSRF):
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

// CSRFHeader carries a session's CSRF token on the API requests of the web
// UI's scripts.
const CSRFHeader = "X-CSRF-Token"

// sessionToken authenticates r by its web session, as a Token of the user.
func (a *Authenticator) sessionToken(r *http.Request) (*Token, error) {
	cur, err := a.Sessions.Get(r)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !CheckCSRF(cur.Session, r.Header.Get(CSRFHeader)) {
			return nil, fmt.Errorf("%w: a request with a session cookie must carry the session's CSRF token in %s", ErrCSRF, CSRFHeader)
		}
	}
	return &Token{ID: cur.User.ID, Name: cur.User.Email, Scope: cur.Scope(), User: true}, nil
}

// limitKey is the rate limiter's key of a token or a user.
func limitKey(t *Token) string {
	if t.User {
		return "user:" + t.ID
	}
	return "token:" + t.ID
}
