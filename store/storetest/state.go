package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseState(t *testing.T, h Harness) {
	ctx := context.Background()
	from := func(s ...store.State) []store.State { return s }

	t.Run("HappyPath", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		prev := doc.UpdatedAt
		for _, step := range [][2]store.State{
			{store.StateReceived, store.StateExtracting},
			{store.StateExtracting, store.StateAnalyzing},
			{store.StateAnalyzing, store.StateIndexed},
			{store.StateIndexed, store.StateDone},
		} {
			time.Sleep(2 * time.Millisecond) // so updated_at moves visibly
			got, err := b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(step[0]), To: step[1]})
			require.NoError(t, err)
			require.Equal(t, step[1], got.State)
			require.True(t, got.UpdatedAt.After(prev), "updated_at moves on %s", step[1])
			prev = got.UpdatedAt
		}
		done, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, store.StateDone, done.State)
		require.Equal(t, done.UpdatedAt, done.DoneAt)
		require.Empty(t, done.FailureReason)
	})

	t.Run("FailAndReprocess", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateExtracting)
		failed, err := b.st.SetState(ctx, &store.SetStateParams{
			ID: doc.ID, From: from(store.StateExtracting), To: store.StateFailed,
			Reason: "The PDF is encrypted: upload it again without a password.",
		})
		require.NoError(t, err)
		require.Equal(t, store.StateFailed, failed.State)
		require.Equal(t, "The PDF is encrypted: upload it again without a password.", failed.FailureReason)
		require.Equal(t, "extracting", failed.FailedStage, "defaults to the state it failed in")

		// Reprocessing starts again and forgets the failure.
		again, err := b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(store.StateFailed, store.StateDone), To: store.StateReceived})
		require.NoError(t, err)
		require.Equal(t, store.StateReceived, again.State)
		require.Empty(t, again.FailureReason)
		require.Empty(t, again.FailedStage)

		failed, err = b.st.SetState(ctx, &store.SetStateParams{
			ID: doc.ID, From: from(store.StateReceived), To: store.StateFailed, Reason: "too many pages (4,000; the limit is 2,000)", Stage: "ingest",
		})
		require.NoError(t, err)
		require.Equal(t, "ingest", failed.FailedStage)

		done := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateDone)
		again, err = b.st.SetState(ctx, &store.SetStateParams{ID: done.ID, From: from(store.StateDone), To: store.StateReceived})
		require.NoError(t, err)
		require.True(t, again.DoneAt.IsZero())
	})

	t.Run("IllegalTransitions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		tests := []struct {
			name string
			p    store.SetStateParams
			want error
		}{
			{"SkipStages", store.SetStateParams{From: from(store.StateReceived), To: store.StateIndexed}, store.ErrIllegalTransition},
			{"Backwards", store.SetStateParams{From: from(store.StateAnalyzing), To: store.StateExtracting}, store.ErrIllegalTransition},
			{"FailedToDone", store.SetStateParams{From: from(store.StateFailed), To: store.StateDone}, store.ErrIllegalTransition},
			{"OneBadFrom", store.SetStateParams{From: from(store.StateReceived, store.StateIndexed), To: store.StateExtracting}, store.ErrIllegalTransition},
			{"UnknownState", store.SetStateParams{From: from(store.StateReceived), To: "lost"}, store.ErrInvalid},
			{"NoFrom", store.SetStateParams{To: store.StateExtracting}, store.ErrInvalid},
			{"FailWithoutReason", store.SetStateParams{From: from(store.StateReceived), To: store.StateFailed, Reason: "  "}, store.ErrInvalid},
		}
		for _, tt := range tests {
			tt.p.ID = doc.ID
			_, err := b.st.SetState(ctx, &tt.p)
			require.ErrorIs(t, err, tt.want, tt.name)
		}
		got, err := b.st.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, doc, got, "unchanged")

		_, err = b.st.SetState(ctx, &store.SetStateParams{ID: "01J00000000000000000000000", From: from(store.StateReceived), To: store.StateExtracting})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateAnalyzing)
		_, err := b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(store.StateReceived), To: store.StateExtracting})
		require.ErrorIs(t, err, store.ErrStateConflict)
		var conflict *store.StateConflictError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, store.StateAnalyzing, conflict.Current)
		require.Contains(t, err.Error(), "is analyzing, not received")
	})

	t.Run("WithResults", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateExtracting)
		started := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
		extracted := &store.SetStateParams{
			ID: doc.ID, From: from(store.StateExtracting), To: store.StateAnalyzing,
			Pages: []store.Page{{Number: 1, Text: "Quarterly report"}, {Number: 2, Text: "Revenue grew", OCR: true}},
			Text:  &store.SaveTextParams{Text: "Quarterly report\nRevenue grew", Title: "Q3", Author: "Finance"},
			Events: []store.AddEventParams{
				{Stage: "extract", Type: store.EventStarted, At: started},
				{Stage: "extract", Type: store.EventDone, Attempt: 2},
			},
		}
		got, err := b.st.SetState(ctx, extracted)
		require.NoError(t, err)
		require.Equal(t, store.StateAnalyzing, got.State)
		require.Equal(t, 2, got.PageCount)
		require.Equal(t, 4, got.WordCount)
		require.Equal(t, "Q3", got.Title)
		require.Equal(t, "Finance", got.Author)
		pages, err := b.st.ListPages(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, extracted.Pages, pages)
		text, err := b.st.GetText(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "Quarterly report\nRevenue grew", text)
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "revenue"})
		require.NoError(t, err)
		require.Len(t, res.Hits, 1, "the text is searchable once the move commits")
		events, err := b.st.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.Equal(t, store.EventStarted, events[0].Type)
		require.True(t, events[0].At.Equal(started), "a stage's start keeps its own time: %v", events[0].At)
		require.Equal(t, 2, events[1].Attempt)

		// A repeated run finds the document moved and writes nothing twice.
		again, err := b.st.SetState(ctx, extracted)
		require.NoError(t, err)
		require.Equal(t, got, again)
		events, err = b.st.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		require.Len(t, events, 2)

		// Unsynced: the same, without waiting for the disk.
		analyzed, err := b.st.SetState(ctx, &store.SetStateParams{
			ID: doc.ID, From: from(store.StateAnalyzing), To: store.StateIndexed, Unsynced: true,
			Analyses: []*store.SaveAnalysisParams{
				{ModelVersion: "lang@1", Language: "en", Entities: []store.Entity{{Kind: "org", Value: "Finance", Start: 0, End: 7, Confidence: 0.9}}},
				{ModelVersion: "doctype@3", Summary: "A quarterly report.", Classifications: []store.Classification{{Label: "report", Confidence: 0.8}}},
			},
		})
		require.NoError(t, err)
		require.Equal(t, "en", analyzed.Language)
		require.Equal(t, "A quarterly report.", analyzed.Summary)
		a, err := b.st.GetAnalysis(ctx, doc.ID)
		require.NoError(t, err)
		require.Len(t, a.Entities, 1)
		require.Equal(t, "lang@1", a.Entities[0].ModelVersion)
		require.Len(t, a.Classifications, 1)
		require.Equal(t, "doctype@3", a.Classifications[0].ModelVersion)

		// A small document goes from received to done in one commit that
		// carries every stage's results.
		small := newDocument(t, b.st)
		finished, err := b.st.SetState(ctx, &store.SetStateParams{
			ID: small.ID, From: from(store.StateReceived, store.StateExtracting), To: store.StateDone,
			Pages:    []store.Page{{Number: 1, Text: "Short note"}},
			Text:     &store.SaveTextParams{Text: "Short note"},
			Analyses: []*store.SaveAnalysisParams{{ModelVersion: "lang@1", Language: "en"}},
			Events: []store.AddEventParams{
				{Stage: "extract", Type: store.EventStarted}, {Stage: "extract", Type: store.EventDone},
				{Stage: "analyze", Type: store.EventStarted}, {Stage: "analyze", Type: store.EventDone},
			},
		})
		require.NoError(t, err)
		require.Equal(t, store.StateDone, finished.State)
		require.False(t, finished.DoneAt.IsZero())
		require.Equal(t, 2, finished.WordCount)
		require.Equal(t, "en", finished.Language)
		require.Equal(t, 4, b.count(t, "SELECT count(*) FROM processing_events WHERE document_id = $1", small.ID))

		// A move that conflicts saves none of its results.
		other := moveTo(t, b.st, newDocument(t, b.st).ID, store.StateIndexed)
		_, err = b.st.SetState(ctx, &store.SetStateParams{
			ID: other.ID, From: from(store.StateExtracting), To: store.StateAnalyzing,
			Pages:  []store.Page{{Number: 1, Text: "stale"}},
			Text:   &store.SaveTextParams{Text: "stale"},
			Events: []store.AddEventParams{{Stage: "extract", Type: store.EventDone}},
		})
		require.ErrorIs(t, err, store.ErrStateConflict)
		require.Zero(t, b.count(t, "SELECT count(*) FROM pages WHERE document_id = $1", other.ID))
		require.Zero(t, b.count(t, "SELECT count(*) FROM document_text WHERE document_id = $1", other.ID))
		require.Zero(t, b.count(t, "SELECT count(*) FROM processing_events WHERE document_id = $1", other.ID))

		// Invalid results refuse the whole move.
		_, err = b.st.SetState(ctx, &store.SetStateParams{
			ID: other.ID, From: from(store.StateAnalyzing), To: store.StateIndexed,
			Analyses: []*store.SaveAnalysisParams{{ModelVersion: "x@1", Classifications: []store.Classification{{Label: "a", Confidence: 2}}}},
		})
		require.ErrorIs(t, err, store.ErrInvalid)
		_, err = b.st.SetState(ctx, &store.SetStateParams{
			ID: other.ID, From: from(store.StateAnalyzing), To: store.StateIndexed,
			Pages: []store.Page{{Number: 0}},
		})
		require.ErrorIs(t, err, store.ErrInvalid)
		still, err := b.st.GetDocument(ctx, other.ID)
		require.NoError(t, err)
		require.Equal(t, store.StateIndexed, still.State)
	})

	t.Run("RepeatedStageIsHarmless", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		doc := newDocument(t, b.st)
		first, err := b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(store.StateReceived), To: store.StateExtracting})
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond)
		second, err := b.st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from(store.StateReceived), To: store.StateExtracting})
		require.NoError(t, err, "a job that runs twice")
		require.Equal(t, first, second, "nothing changed the second time")

		// Many runs racing: all succeed, the document moves once.
		d2 := newDocument(t, b.st)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := b.st.SetState(ctx, &store.SetStateParams{ID: d2.ID, From: from(store.StateReceived), To: store.StateExtracting})
				assertNoError(t, err)
			})
		}
		wg.Wait()
		got, err := b.st.GetDocument(ctx, d2.ID)
		require.NoError(t, err)
		require.Equal(t, store.StateExtracting, got.State)
	})
}
