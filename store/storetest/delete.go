package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseDelete(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("Cascades", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		email := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.Name = "mail.eml" })
		attachment := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.ParentID = email.ID })
		keep := newDocument(t, b.st)
		for _, d := range []*store.Document{email, keep} {
			require.NoError(t, b.st.SavePages(ctx, d.ID, []store.Page{{Number: 1, Text: "zebra crossing"}}))
			require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: "zebra crossing"}))
			require.NoError(t, b.st.SaveAnalysis(ctx, &store.SaveAnalysisParams{
				DocumentID: d.ID, ModelVersion: "m@1",
				Entities:        []store.Entity{{Kind: "animal", Value: "zebra", Start: 0, End: 5, Confidence: 1}},
				Classifications: []store.Classification{{Label: "note", Confidence: 0.5}},
			}))
			_, err := b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d.ID, Label: "x", SetBy: "ana"})
			require.NoError(t, err)
			_, err = b.st.AddEvent(ctx, &store.AddEventParams{DocumentID: d.ID, Stage: "extract", Type: store.EventDone})
			require.NoError(t, err)
		}

		require.NoError(t, b.st.DeleteDocument(ctx, email.ID))
		_, err := b.st.GetDocument(ctx, email.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		for _, table := range []string{"pages", "document_text", "entities", "classifications", "labels", "processing_events"} {
			require.Zero(t, b.count(t, "SELECT count(*) FROM "+table+" WHERE document_id = $1", email.ID), table)
			require.Equal(t, 1, b.count(t, "SELECT count(*) FROM "+table+" WHERE document_id = $1", keep.ID), table)
		}
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "zebra"})
		require.NoError(t, err)
		hits := res.Hits
		require.Len(t, hits, 1, "the index forgot the deleted text")
		require.Equal(t, keep.ID, hits[0].Document.ID)

		orphan, err := b.st.GetDocument(ctx, attachment.ID)
		require.NoError(t, err, "an attachment outlives its email")
		require.Empty(t, orphan.ParentID)

		require.ErrorIs(t, b.st.DeleteDocument(ctx, email.ID), store.ErrNotFound)
		// The same content can come back as a new document.
		_, created, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
			SHA256: email.SHA256, Name: "mail.eml", Source: store.SourceInbox, BlobKey: email.BlobKey,
		})
		require.NoError(t, err)
		require.True(t, created)
	})
}
