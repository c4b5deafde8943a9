package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseModelVersions(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		metrics := json.RawMessage(`{"accuracy": 0.964, "classes": ["ham", "spam"]}`)
		v1, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "1", Metrics: metrics})
		require.NoError(t, err)
		require.False(t, v1.Active)
		require.JSONEq(t, string(metrics), string(v1.Metrics))
		again, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "1"})
		require.NoError(t, err)
		require.Equal(t, v1, again, "registering twice returns the first")

		v2, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "2", Active: true})
		require.NoError(t, err)
		require.True(t, v2.Active)
		require.Nil(t, v2.Metrics)
		other, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "tags", Version: "1", Active: true})
		require.NoError(t, err)

		a, err := b.st.ActivateModelVersion(ctx, v1.ID)
		require.NoError(t, err)
		require.True(t, a.Active)
		got, err := b.st.GetModelVersion(ctx, v2.ID)
		require.NoError(t, err)
		require.False(t, got.Active, "activating v1 switched v2 off")
		got, err = b.st.GetModelVersion(ctx, other.ID)
		require.NoError(t, err)
		require.True(t, got.Active, "another model is untouched")

		list, err := b.st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: "classifier", Name: "doctype"})
		require.NoError(t, err)
		require.Equal(t, []string{v2.ID, v1.ID}, []string{list[0].ID, list[1].ID}, "newest first")
		active, err := b.st.ListModelVersions(ctx, &store.ListModelVersionsParams{ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, active, 2)

		require.NoError(t, b.st.DeleteModelVersion(ctx, v2.ID))
		_, err = b.st.GetModelVersion(ctx, v2.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.st.DeleteModelVersion(ctx, v2.ID), store.ErrNotFound)
		_, err = b.st.ActivateModelVersion(ctx, v2.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "k", Name: "n", Version: "v", Metrics: json.RawMessage(`[1]`)})
		require.ErrorIs(t, err, store.ErrInvalid)
	})

	t.Run("ArtifactAndLabelDigest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		v1, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "1",
			ArtifactKey: "sha256/ab/abcd", LabelDigest: "d1"})
		require.NoError(t, err)
		require.Equal(t, "sha256/ab/abcd", v1.ArtifactKey)
		require.Equal(t, "d1", v1.LabelDigest)
		_, err = b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "2", LabelDigest: "d2"})
		require.NoError(t, err)
		_, err = b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "tags", Version: "1", LabelDigest: "d1"})
		require.NoError(t, err)
		got, err := b.st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: "classifier", Name: "doctype", LabelDigest: "d1"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, *v1, got[0])
	})

	t.Run("ConcurrentActivation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				_, err := b.st.CreateModelVersion(ctx, &store.CreateModelVersionParams{
					Kind: "classifier", Name: "doctype", Version: fmt.Sprint(i), Active: true,
				})
				assertNoError(t, err)
			})
		}
		wg.Wait()
		active, err := b.st.ListModelVersions(ctx, &store.ListModelVersionsParams{ActiveOnly: true})
		require.NoError(t, err)
		require.Len(t, active, 1)
	})
}

func exerciseWebhooks(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("CRUD", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		w, err := b.st.CreateWebhook(ctx, &store.CreateWebhookParams{URL: "https://example.test/hook", Secret: "s3cret", Events: []string{"document.done"}})
		require.NoError(t, err)
		require.True(t, w.Active)
		require.True(t, w.Wants("document.done"))
		require.False(t, w.Wants("document.failed"))
		all, err := b.st.CreateWebhook(ctx, &store.CreateWebhookParams{URL: "http://127.0.0.1:9/all", Inactive: true})
		require.NoError(t, err)
		require.False(t, all.Active)
		require.Nil(t, all.Events)
		require.False(t, all.Wants("document.done"), "inactive")

		got, err := b.st.GetWebhook(ctx, w.ID)
		require.NoError(t, err)
		require.Equal(t, w, got)
		list, err := b.st.ListWebhooks(ctx)
		require.NoError(t, err)
		require.Equal(t, []store.Webhook{*w, *all}, list)

		up, err := b.st.UpdateWebhook(ctx, &store.UpdateWebhookParams{ID: all.ID, URL: "https://example.test/v2", Secret: "new", Active: true})
		require.NoError(t, err)
		require.True(t, up.Wants("anything"))
		require.Equal(t, "new", up.Secret)
		require.Equal(t, all.CreatedAt, up.CreatedAt)

		require.NoError(t, b.st.DeleteWebhook(ctx, w.ID))
		_, err = b.st.GetWebhook(ctx, w.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.st.DeleteWebhook(ctx, w.ID), store.ErrNotFound)
		_, err = b.st.UpdateWebhook(ctx, &store.UpdateWebhookParams{ID: w.ID, URL: "https://example.test"})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.CreateWebhook(ctx, &store.CreateWebhookParams{URL: "ftp://example.test"})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}
