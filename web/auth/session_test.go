package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// TestSessions: a login sets a cookie that finds the user; a session ends
// when idle too long, when too old however active, at logout, and when a
// new login replaces it.
func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "quire.db"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	u, err := auth.CreateUser(ctx, st, &auth.CreateUserParams{Email: "ada@example.org", Password: "correct horse battery staple"})
	require.NoError(t, err)
	require.Equal(t, "admin", u.Scope, "admin by default")
	_, err = auth.CheckLogin(ctx, st, "ADA@example.org", "correct horse battery staple")
	require.NoError(t, err)
	_, err = auth.CheckLogin(ctx, st, "ada@example.org", "wrong")
	require.ErrorIs(t, err, auth.ErrBadLogin)
	_, err = auth.CheckLogin(ctx, st, "eve@example.org", "correct horse battery staple")
	require.ErrorIs(t, err, auth.ErrBadLogin)

	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	s := &auth.Sessions{Store: st, Idle: time.Hour, Max: 3 * time.Hour, NowFunc: func() time.Time { return now }}
	login := func(old *http.Cookie) *http.Cookie {
		req := httptest.NewRequest(http.MethodPost, "/login", nil)
		if old != nil {
			req.AddCookie(old)
		}
		rec := httptest.NewRecorder()
		_, err := s.Login(ctx, rec, req, u)
		require.NoError(t, err)
		cs := rec.Result().Cookies()
		require.Len(t, cs, 1)
		require.Equal(t, auth.SessionCookie, cs[0].Name)
		require.True(t, cs[0].HttpOnly)
		return cs[0]
	}
	get := func(c *http.Cookie) error {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		cur, err := s.Get(req)
		if err == nil {
			require.Equal(t, u.ID, cur.User.ID)
		}
		return err
	}

	c := login(nil)
	require.NoError(t, get(c))
	// Active every 50 minutes, it outlives the idle timeout...
	for range 3 {
		now = now.Add(50 * time.Minute)
		require.NoError(t, get(c))
	}
	// ...but not the maximum age.
	now = now.Add(40 * time.Minute)
	require.ErrorIs(t, get(c), auth.ErrNoSession)

	c = login(nil)
	now = now.Add(61 * time.Minute)
	require.ErrorIs(t, get(c), auth.ErrNoSession, "idle too long")

	c = login(nil)
	c2 := login(c)
	require.ErrorIs(t, get(c), auth.ErrNoSession, "a new login ends the session it came with")
	require.NoError(t, get(c2))

	req := httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.AddCookie(c2)
	rec := httptest.NewRecorder()
	require.NoError(t, s.Logout(ctx, rec, req))
	require.ErrorIs(t, get(c2), auth.ErrNoSession)
	require.Less(t, rec.Result().Cookies()[0].MaxAge, 0, "the cookie is cleared")

	// A Secure session's cookie is __Host- prefixed.
	secure := &auth.Sessions{Store: st, Secure: true}
	rec = httptest.NewRecorder()
	_, err = secure.Login(ctx, rec, httptest.NewRequest(http.MethodPost, "/login", nil), u)
	require.NoError(t, err)
	ck := rec.Result().Cookies()[0]
	require.Equal(t, auth.SessionCookieSecure, ck.Name)
	require.True(t, ck.Secure)
	require.Equal(t, "/", ck.Path)
}
