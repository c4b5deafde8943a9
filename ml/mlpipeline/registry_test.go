package mlpipeline_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/store"
)

// TestRefresh publishes versions to a real store and blob storage and
// checks that Refresh loads the active one, without a restart.
func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	blobs, err := blob.Open(ctx, "file://"+filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { blobs.Close() })

	a := newAnalyzer(t)
	require.NoError(t, mlpipeline.Refresh(ctx, a, st, blobs))
	require.Empty(t, a.Models())

	mv1, err := mlpipeline.Publish(ctx, st, blobs, &mlpipeline.PublishParams{Model: trainSmall(t, "1"), Activate: true})
	require.NoError(t, err)
	require.NoError(t, mlpipeline.Refresh(ctx, a, st, blobs))
	require.Len(t, a.Models(), 1)
	require.Equal(t, mv1.ID, a.Models()[0].ID)
	require.Equal(t, "1", a.Models()[0].Model.Version)

	// A version published but not active changes nothing.
	mv2, err := mlpipeline.Publish(ctx, st, blobs, &mlpipeline.PublishParams{Model: trainSmall(t, "2")})
	require.NoError(t, err)
	require.NoError(t, mlpipeline.Refresh(ctx, a, st, blobs))
	require.Equal(t, mv1.ID, a.Models()[0].ID)

	_, err = st.ActivateModelVersion(ctx, mv2.ID)
	require.NoError(t, err)
	require.NoError(t, mlpipeline.Refresh(ctx, a, st, blobs))
	require.Len(t, a.Models(), 1)
	require.Equal(t, mv2.ID, a.Models()[0].ID)
	// Refreshing again keeps the loaded model: no artifact is read twice.
	loaded := a.Models()[0].Model
	require.NoError(t, mlpipeline.Refresh(ctx, a, st, blobs))
	require.Same(t, loaded, a.Models()[0].Model)
	res, err := a.AnalyzeDocument(ctx, &ml.Document{Text: "invoice amount due, payment total"})
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(res, func(r *ml.Result) bool { return r.ModelVersion == mv2.ID }))

	versions, err := st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: mlpipeline.ModelKindClassifier})
	require.NoError(t, err)
	require.Len(t, versions, 2)
	require.Contains(t, string(versions[0].Metrics), `"artifact":"sha256/`)
	require.True(t, strings.HasPrefix(versions[0].ArtifactKey, "sha256/"), versions[0].ArtifactKey)

	// A version that names no artifact is reported, and the
	// version loaded before stays.
	bad, err := st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: mlpipeline.ModelKindClassifier,
		Name: "doctype", Version: "broken", Metrics: []byte(`{}`), Active: true})
	require.NoError(t, err)
	err = mlpipeline.Refresh(ctx, a, st, blobs)
	require.ErrorContains(t, err, bad.ID)
	require.Equal(t, mv2.ID, a.Models()[0].ID)
}

// TestReloader activates a new version while a reloader runs and checks
// that the analyzer serves it after the next tick, without a restart.
func TestReloader(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	blobs, err := blob.Open(ctx, "file://"+filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { blobs.Close() })

	mv1, err := mlpipeline.Publish(ctx, st, blobs, &mlpipeline.PublishParams{Model: trainSmall(t, "1"), Activate: true})
	require.NoError(t, err)
	mv2, err := mlpipeline.Publish(ctx, st, blobs, &mlpipeline.PublishParams{Model: trainSmall(t, "2")})
	require.NoError(t, err)

	a := newAnalyzer(t)
	ticks := make(chan time.Time)
	r, err := mlpipeline.NewReloader(&mlpipeline.ReloaderConfig{Analyzer: a, Store: st, Blobs: blobs,
		TickFunc: func() <-chan time.Time { return ticks }})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	// The first refresh runs at once; the second tick is taken only after
	// it finished, so once it is taken, version 1 is loaded.
	ticks <- time.Time{}
	require.Equal(t, mv1.ID, a.Models()[0].ID)

	_, err = st.ActivateModelVersion(ctx, mv2.ID)
	require.NoError(t, err)
	ticks <- time.Time{} // the refresh of this tick runs now
	ticks <- time.Time{} // taken only once it is over
	require.Equal(t, mv2.ID, a.Models()[0].ID)

	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	_, err = mlpipeline.NewReloader(&mlpipeline.ReloaderConfig{})
	require.ErrorContains(t, err, "Analyzer is required")
}
