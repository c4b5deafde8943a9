package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseAudit(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		var added []store.Event
		for _, p := range []store.AddEventParams{
			{Stage: "extract", Type: store.EventStarted},
			{Stage: "extract", Type: store.EventFailed, Message: "pdfium: timeout after 30s", Attempt: 1},
			{Stage: "extract", Type: store.EventRetried, Message: "in 12s", Attempt: 1},
			{Stage: "extract", Type: store.EventStarted, Attempt: 2},
			{Stage: "extract", Type: store.EventDone, Attempt: 2},
		} {
			p.DocumentID = doc.ID
			e, err := b.st.AddEvent(ctx, &p)
			require.NoError(t, err)
			added = append(added, *e)
		}
		require.Equal(t, 1, added[0].Attempt, "defaults to the first attempt")
		got, err := b.st.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, added, got)
		for i := 1; i < len(got); i++ {
			require.Greater(t, got[i].ID, got[i-1].ID)
		}

		other := newDocument(t, b.st)
		got, err = b.st.ListEvents(ctx, other.ID)
		require.NoError(t, err)
		require.Empty(t, got)
		_, err = b.st.ListEvents(ctx, "01J00000000000000000000000")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.AddEvent(ctx, &store.AddEventParams{DocumentID: "01J00000000000000000000000", Stage: "x", Type: store.EventDone})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.AddEvent(ctx, &store.AddEventParams{DocumentID: doc.ID, Stage: "x", Type: "exploded"})
		require.ErrorIs(t, err, store.ErrInvalid)
	})

	t.Run("Labels", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		d1, d2 := newDocument(t, b.st), newDocument(t, b.st)
		l1, err := b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d1.ID, Label: "invoice", SetBy: "ana"})
		require.NoError(t, err)
		again, err := b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d1.ID, Label: "invoice", SetBy: "ben"})
		require.NoError(t, err)
		require.Equal(t, l1, again, "labelling twice keeps the first")
		_, err = b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d1.ID, Label: "urgent", SetBy: "ana"})
		require.NoError(t, err)
		_, err = b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d2.ID, Label: "invoice", SetBy: "ben"})
		require.NoError(t, err)

		all, err := b.st.ListLabels(ctx, nil)
		require.NoError(t, err)
		require.Len(t, all, 3)
		mine, err := b.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: d1.ID})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"invoice", "urgent"}, []string{mine[0].Label, mine[1].Label})
		invoices, err := b.st.ListLabels(ctx, &store.ListLabelsParams{Label: "invoice"})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{d1.ID, d2.ID}, []string{invoices[0].DocumentID, invoices[1].DocumentID})

		require.NoError(t, b.st.DeleteLabel(ctx, d1.ID, "invoice"))
		require.NoError(t, b.st.DeleteLabel(ctx, d1.ID, "invoice"), "already gone")
		all, err = b.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: d1.ID})
		require.NoError(t, err)
		require.Len(t, all, 1)

		_, err = b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: "01J00000000000000000000000", Label: "x", SetBy: "ana"})
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.st.AddLabel(ctx, &store.AddLabelParams{DocumentID: d1.ID, Label: "x"})
		require.ErrorIs(t, err, store.ErrInvalid)
	})
}
