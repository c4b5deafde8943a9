package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exercisePreviews(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("SaveGetReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		_, err := b.st.GetPreview(ctx, doc.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "no preview yet")

		params := &store.SavePreviewParams{DocumentID: doc.ID, BlobKey: "previews/xx/" + doc.ID + ".jpg",
			MIMEType: "image/jpeg", Version: 1, Width: 283, Height: 400, Size: 12345}
		saved, err := b.st.SavePreview(ctx, params)
		require.NoError(t, err)
		require.False(t, saved.CreatedAt.IsZero())
		got, err := b.st.GetPreview(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, saved, got)
		require.Equal(t, store.Preview{DocumentID: doc.ID, BlobKey: params.BlobKey, MIMEType: "image/jpeg",
			Version: 1, Width: 283, Height: 400, Size: 12345, CreatedAt: saved.CreatedAt}, *got)

		params.Version, params.Width, params.Height, params.Size = 2, 400, 300, 999
		_, err = b.st.SavePreview(ctx, params)
		require.NoError(t, err, "saving again replaces")
		got, err = b.st.GetPreview(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, []int{2, 400, 300}, []int{got.Version, got.Width, got.Height})
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM document_previews WHERE document_id = $1", doc.ID))
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		with, without := newDocument(t, b.st), newDocument(t, b.st)
		_, err := b.st.SavePreview(ctx, &store.SavePreviewParams{DocumentID: with.ID, BlobKey: "k", MIMEType: "image/jpeg",
			Version: 1, Width: 10, Height: 20})
		require.NoError(t, err)
		got, err := b.st.ListPreviews(ctx, []string{with.ID, without.ID, "no-such-document"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, 20, got[with.ID].Height)
		empty, err := b.st.ListPreviews(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, empty)
		_, err = b.st.ListPreviews(ctx, make([]string, store.ListLimitMax+1))
		require.ErrorIs(t, err, store.ErrInvalid)
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		for _, p := range []store.SavePreviewParams{
			{DocumentID: doc.ID, BlobKey: "k", MIMEType: "image/jpeg", Version: 0, Width: 1, Height: 1},
			{DocumentID: doc.ID, BlobKey: "k", MIMEType: "image/jpeg", Version: 1, Width: 0, Height: 1},
			{DocumentID: doc.ID, BlobKey: "", MIMEType: "image/jpeg", Version: 1, Width: 1, Height: 1},
			{DocumentID: doc.ID, BlobKey: "k", MIMEType: "", Version: 1, Width: 1, Height: 1},
		} {
			_, err := b.st.SavePreview(ctx, &p)
			require.ErrorIs(t, err, store.ErrInvalid, "%+v", p)
		}
		_, err := b.st.SavePreview(ctx, &store.SavePreviewParams{DocumentID: "no-such-document", BlobKey: "k",
			MIMEType: "image/jpeg", Version: 1, Width: 1, Height: 1})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("DeletedWithItsDocument", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc, keep := newDocument(t, b.st), newDocument(t, b.st)
		for _, d := range []*store.Document{doc, keep} {
			_, err := b.st.SavePreview(ctx, &store.SavePreviewParams{DocumentID: d.ID, BlobKey: "k", MIMEType: "image/jpeg",
				Version: 1, Width: 1, Height: 1})
			require.NoError(t, err)
		}
		require.NoError(t, b.st.DeleteDocument(ctx, doc.ID))
		_, err := b.st.GetPreview(ctx, doc.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.GetPreview(ctx, keep.ID)
		require.NoError(t, err)
	})
}
