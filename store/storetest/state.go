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
			{"SkipStages", store.SetStateParams{From: from(store.StateReceived), To: store.StateDone}, store.ErrIllegalTransition},
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
