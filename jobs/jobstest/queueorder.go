package jobstest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

func exerciseQueueOrder(t *testing.T, h Harness) {
	ctx := context.Background()

	// fill enqueues n jobs of type "mark" on each queue before any server runs.
	fill := func(t *testing.T, b *bundle, n int, queues ...string) {
		var ps []jobs.EnqueueParams
		for _, q := range queues {
			for range n {
				ps = append(ps, jobs.EnqueueParams{Type: "mark", Args: []string{q}, Opts: &jobs.EnqueueOpts{Queue: q}})
			}
		}
		_, err := b.client.EnqueueMany(ctx, ps)
		require.NoError(t, err)
	}
	markHandlers := func(b *bundle) *jobs.Handlers {
		hs := jobs.NewHandlers()
		jobs.HandleArgs(hs, "mark", func(ctx context.Context, j *jobs.Job, q []string) error {
			b.handled.add(q[0])
			return nil
		}, nil)
		return hs
	}

	t.Run("Strict", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		fill(t, b, 30, "low", "high", "mid")
		startServer(t, b.driver, jobs.Config{Handlers: markHandlers(b), Concurrency: 1, FetchBatchSize: 1,
			StrictPriority: true, Queues: map[string]int{"high": 3, "mid": 2, "low": 1}})
		got := strings.Join(b.handled.wait(t, 90, 30*time.Second), ",")
		want := strings.Repeat("high,", 30) + strings.Repeat("mid,", 30) + strings.TrimSuffix(strings.Repeat("low,", 30), ",")
		require.Equal(t, want, got)
	})

	t.Run("Weighted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		fill(t, b, 400, "heavy", "light")
		startServer(t, b.driver, jobs.Config{Handlers: markHandlers(b), Concurrency: 1, FetchBatchSize: 1,
			Queues: map[string]int{"heavy": 3, "light": 1}})
		first := b.handled.wait(t, 200, 30*time.Second)
		heavy := 0
		for _, q := range first {
			if q == "heavy" {
				heavy++
			}
		}
		// Expected 150 of 200 (3:1); the bounds are over seven standard
		// deviations away, and strict order would give 200.
		require.Greater(t, heavy, 105, "heavy queue share of the first 200 jobs")
		require.Less(t, heavy, 190, "light queue must not starve")
	})

	t.Run("PauseAndResume", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityQueuePause)
		b := setup(t, h)
		require.NoError(t, b.insp.PauseQueue(ctx, "paused"))
		fill(t, b, 3, "paused")
		startServer(t, b.driver, jobs.Config{Handlers: markHandlers(b), Queues: map[string]int{"paused": 1, "open": 1}})
		fill(t, b, 1, "open")
		require.Equal(t, []string{"open"}, b.handled.wait(t, 1, 10*time.Second))
		q, err := b.insp.Queue(ctx, "paused")
		require.NoError(t, err)
		require.True(t, q.Paused)
		require.EqualValues(t, 3, q.Ready)
		require.NoError(t, b.insp.ResumeQueue(ctx, "paused"))
		require.Equal(t, []string{"paused", "paused", "paused"}, b.handled.wait(t, 3, 10*time.Second))
	})
}
