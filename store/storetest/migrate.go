package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseMigrate(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		applied := b.count(t, "SELECT count(*) FROM schema_migrations")
		require.Positive(t, applied)
		doc := newDocument(t, b.st)
		require.NoError(t, b.st.Migrate(ctx))
		again := Open(t, b.url) // another process, later
		require.NoError(t, again.Migrate(ctx))
		require.Equal(t, applied, b.count(t, "SELECT count(*) FROM schema_migrations"))
		got, err := again.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, doc.SHA256, got.SHA256)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		url := h.NewURL(t)
		// Several processes start at once on an empty database: each
		// migrates, none fails, and every migration is applied once.
		const n = 6
		stores := make([]store.Store, n)
		for i := range stores {
			st, err := store.Open(ctx, url)
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			stores[i] = st
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, st := range stores {
			wg.Go(func() { errs[i] = st.Migrate(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		b := &bundle{st: stores[0], url: url, h: h}
		versions := b.count(t, "SELECT count(DISTINCT version) FROM schema_migrations")
		require.Equal(t, versions, b.count(t, "SELECT count(*) FROM schema_migrations"))
		newDocument(t, stores[n-1])
	})

	t.Run("UnmigratedFailsClearly", func(t *testing.T) {
		t.Parallel()
		st, err := store.Open(ctx, h.NewURL(t))
		require.NoError(t, err)
		defer st.Close()
		require.NoError(t, st.Ping(ctx))
		_, err = st.GetDocument(ctx, "01J00000000000000000000000")
		require.Error(t, err)
		require.NotErrorIs(t, err, store.ErrNotFound)
	})
}
