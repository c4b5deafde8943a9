package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/quirehq/quire/store"
)

// SessionCookie is the name of the web UI's session cookie. The __Host-
// prefix, used when the cookie is Secure, makes browsers refuse it unless it
// came over HTTPS for this exact host and path /, so a sibling subdomain
// cannot plant one.
const (
	SessionCookie       = "quire_session"
	SessionCookieSecure = "__Host-quire_session"
)

// Session timeouts' defaults.
const (
	// SessionIdleDefault ends a session unused for this long.
	SessionIdleDefault = 2 * time.Hour
	// SessionMaxDefault ends a session this long after the login, however
	// active.
	SessionMaxDefault = 12 * time.Hour
)

// touchEvery is how stale a session's last_seen_at may get before a request
// writes it again: a write per request would cost more than the idle
// timeout's precision is worth.
const touchEvery = time.Minute

// ErrNoSession means the request has no session cookie, or its session ended.
var ErrNoSession = errors.New("not signed in")

// SessionStore is the store's roles that Sessions uses: the sessions, and
// the users they are of.
type SessionStore interface {
	store.Sessions
	store.Users
}

// Sessions keeps the web UI's sessions in the store. The cookie holds a
// random id; the store holds its SHA-256, the user and the session's CSRF
// token.
type Sessions struct {
	// Store keeps sessions and users. Required.
	Store SessionStore
	// Secure marks the cookie Secure (HTTPS only), with the __Host- prefix.
	// Set it when users reach Quire over HTTPS, even through a proxy that
	// speaks plain HTTP to it.
	Secure bool
	// Idle ends a session unused this long. Defaults to SessionIdleDefault.
	Idle time.Duration
	// Max ends a session this long after the login. Defaults to
	// SessionMaxDefault.
	Max time.Duration
	// NowFunc tells the time. Defaults to time.Now.
	NowFunc func() time.Time
}

// Current is a request's signed-in session and user.
type Current struct {
	Session *store.Session
	User    *store.User
}

// Scope is the user's scope.
func (c *Current) Scope() Scope { return Scope(c.User.Scope) }

func (s *Sessions) now() time.Time {
	if s.NowFunc != nil {
		return s.NowFunc()
	}
	return time.Now()
}

func (s *Sessions) cookieName() string {
	if s.Secure {
		return SessionCookieSecure
	}
	return SessionCookie
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Login starts a session for u and sets its cookie. Any session the request
// came with ends: a new id at every login defeats session fixation.
func (s *Sessions) Login(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) (*store.Session, error) {
	if c, err := r.Cookie(s.cookieName()); err == nil {
		_ = s.Store.DeleteSession(ctx, hashID(c.Value))
	}
	id := randomToken()
	now := s.now().UTC()
	ss := &store.Session{IDHash: hashID(id), UserID: u.ID, CSRFToken: randomToken(),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.max())}
	if err := s.Store.CreateSession(ctx, ss); err != nil {
		return nil, fmt.Errorf("start a session for %s: %w", u.Email, err)
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: id, Path: "/", HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode, Expires: ss.ExpiresAt})
	// Expired sessions of everyone are swept now and then, at logins.
	_, _ = s.Store.DeleteExpiredSessions(ctx, now)
	return ss, nil
}

// Logout ends the request's session, if any, and clears its cookie.
func (s *Sessions) Logout(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return nil
	}
	if err := s.Store.DeleteSession(ctx, hashID(c.Value)); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// Get returns the request's session and user; ErrNoSession when there is
// none or it ended (idle too long, past its maximum age, or its user gone).
func (s *Sessions) Get(r *http.Request) (*Current, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return nil, ErrNoSession
	}
	ctx := r.Context()
	idHash := hashID(c.Value)
	ss, err := s.Store.GetSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read the session: %w", err)
	}
	now := s.now()
	if !now.Before(ss.ExpiresAt) || now.Sub(ss.LastSeenAt) >= s.idle() {
		_ = s.Store.DeleteSession(ctx, idHash)
		return nil, ErrNoSession
	}
	u, err := s.Store.GetUser(ctx, ss.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("read the session's user: %w", err)
	}
	if now.Sub(ss.LastSeenAt) >= touchEvery {
		if err := s.Store.TouchSession(ctx, idHash, now); err == nil {
			ss.LastSeenAt = now
		}
	}
	return &Current{Session: ss, User: u}, nil
}

// CheckCSRF reports whether token is the session's CSRF token, in constant
// time.
func CheckCSRF(ss *store.Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(ss.CSRFToken), []byte(token)) == 1
}

func (s *Sessions) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return SessionIdleDefault
}

func (s *Sessions) max() time.Duration {
	if s.Max > 0 {
		return s.Max
	}
	return SessionMaxDefault
}
