package auth_test

import (
	"context"
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
