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

// TestStoreTokens issues a token into an SQLite store, reopens the store,
// as a restarted server would, and checks the token still works.
func TestStoreTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quire.db")
	open := func() store.Store {
		st, err := store.Open(ctx, path)
		require.NoError(t, err)
		require.NoError(t, st.Migrate(ctx))
		return st
	}
	st := open()
	raw, tok, err := auth.Issue(ctx, &auth.StoreTokens{Store: st}, &auth.IssueParams{Name: "ci", Scope: auth.ScopeWrite})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	st = open()
	defer st.Close()
	ts := &auth.StoreTokens{Store: st}
	got, err := auth.Verify(ctx, ts, raw, time.Now())
	require.NoError(t, err)
	require.Equal(t, tok.ID, got.ID)
	require.Equal(t, auth.ScopeWrite, got.Scope)
	list, err := ts.ListTokens(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)

	_, err = auth.Import(ctx, ts, &auth.ImportParams{Token: raw, Name: "ci", Scope: auth.ScopeWrite})
	require.ErrorIs(t, err, auth.ErrInvalid, "imported twice")
	require.NoError(t, ts.DeleteToken(ctx, tok.ID))
	_, err = auth.Verify(ctx, ts, raw, time.Now())
	require.ErrorIs(t, err, auth.ErrInvalidToken)
	require.ErrorIs(t, ts.DeleteToken(ctx, tok.ID), auth.ErrNotFound)
}

// TestStoreTokensLastUsed: a request records when its token was last used,
// to the minute, which `quire admin token list` shows.
func TestStoreTokensLastUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "quire.db"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	ts := &auth.StoreTokens{Store: st}
	raw, tok, err := auth.Issue(ctx, ts, &auth.IssueParams{Name: "ci", Scope: auth.ScopeRead})
	require.NoError(t, err)
	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	a := &auth.Authenticator{Tokens: ts, NowFunc: func() time.Time { return now }}
	h := a.Require(auth.ScopeRead, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	call := func() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+raw)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
	}
	lastUsed := func() time.Time {
		got, err := st.GetAPIToken(ctx, tok.ID)
		require.NoError(t, err)
		return got.LastUsedAt
	}
	require.True(t, lastUsed().IsZero())
	call()
	require.Equal(t, now, lastUsed())
	first := now
	now = now.Add(30 * time.Second)
	call()
	require.Equal(t, first, lastUsed(), "not written again within the minute")
	now = now.Add(time.Minute)
	call()
	require.Equal(t, now, lastUsed())
}
