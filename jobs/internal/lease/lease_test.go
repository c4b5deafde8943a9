package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/jobtype"
)

func TestSet(t *testing.T) {
	t.Parallel()

	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	type testBundle struct {
		set  *Set
		held []*Held
	}
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		s := NewSet()
		hs := s.Add([]*jobtype.Job{
			{ID: "a", Queue: "q", Type: "t", Lease: "la", Attempt: 1},
			{ID: "b", Queue: "q", Type: "t", Lease: "lb", Attempt: 1},
			{ID: "c", Queue: "q", Type: "t", Lease: "lc", Attempt: 2},
		})
		return &testBundle{set: s, held: hs}
	}
	ids := func(jobs []*jobtype.Job) []string {
		var out []string
		for _, j := range jobs {
			out = append(out, j.ID)
		}
		return out
	}

	t.Run("AddCopies", func(t *testing.T) {
		t.Parallel()
		j := &jobtype.Job{ID: "a", Lease: "la"}
		hs := NewSet().Add([]*jobtype.Job{j})
		j.ID = "changed"
		require.Equal(t, "a", hs[0].Job.ID)
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		require.Equal(t, 3, b.set.Len())
		n, _ := b.set.Busy(10)
		require.Zero(t, n)
		require.Empty(t, b.set.Running())
		require.Len(t, b.set.Extendable(), 3)

		b.set.Start(b.held[0], t0, func(error) {})
		n, busy := b.set.Busy(10)
		require.Equal(t, 1, n)
		require.Equal(t, "a", busy[0].ID)
		require.Equal(t, t0, busy[0].StartedAt)
		require.Equal(t, []string{"a"}, ids(b.set.Running()))

		require.True(t, b.set.Finish(b.held[0]))
		n, _ = b.set.Busy(10)
		require.Zero(t, n)
		require.Empty(t, b.set.Running())
		require.Len(t, b.set.Extendable(), 3, "a finished job keeps its lease until its outcome is recorded")

		b.set.Remove(b.held[0])
		require.Equal(t, 2, b.set.Len())
	})

	t.Run("BusyCapsJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, h := range b.held {
			b.set.Start(h, t0, func(error) {})
		}
		n, busy := b.set.Busy(2)
		require.Equal(t, 3, n)
		require.Len(t, busy, 2)
	})

	t.Run("HandBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.set.Start(b.held[0], t0, func(error) {})
		require.True(t, b.set.Finish(b.held[1]))
		back := b.set.HandBack()
		require.ElementsMatch(t, []*Held{b.held[0], b.held[2]}, back)
		require.Empty(t, b.set.HandBack(), "a job is handed back once")
		require.False(t, b.set.Finish(b.held[0]), "the outcome of a handed-back job is dropped")
		require.Equal(t, []string{"b"}, ids(b.set.Extendable()))
		require.Empty(t, b.set.Running())
	})

	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		cause := errors.New("cancelled")
		ctxA, cancelA := context.WithCancelCause(context.Background())
		ctxB, cancelB := context.WithCancelCause(context.Background())
		b.set.Start(b.held[0], t0, cancelA)
		b.set.Start(b.held[1], t0, cancelB)
		b.set.Cancel([]string{"a", "c", "unknown"}, cause)
		require.ErrorIs(t, context.Cause(ctxA), cause)
		require.NoError(t, ctxB.Err())
	})
}
