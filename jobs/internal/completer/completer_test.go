package completer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/testdriver"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

func TestCompleter(t *testing.T) {
	t.Parallel()

	const queue = "default"

	type testBundle struct {
		clock  *jobtype.StubClock
		driver *testdriver.Faulty
		leases *lease.Set
	}
	setup := func(t *testing.T) (*Completer, *testBundle) {
		t.Helper()
		b := &testBundle{
			clock:  jobtype.NewStubClock(testdriver.T0),
			driver: &testdriver.Faulty{Driver: testdriver.SQLite(t)},
			leases: lease.NewSet(),
		}
		c := New(b.driver, &Config{Capacity: 100, Clock: b.clock, Leases: b.leases})
		c.TestSignals.Flushed.Init(t)
		t.Cleanup(c.Stop)
		return c, b
	}
	// held inserts and fetches n jobs and holds them.
	held := func(t *testing.T, b *testBundle, n int) []*lease.Held {
		t.Helper()
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, n, nil)
		jobs := testdriver.Fetch(t, b.driver, b.clock.Now(), queue, n, time.Minute)
		require.Len(t, jobs, n)
		return b.leases.Add(jobs)
	}
	done := func(h *lease.Held) jobdriver.Completion {
		return jobdriver.Completion{Job: &h.Job, Outcome: jobdriver.OutcomeDone}
	}
	requireGone := func(t *testing.T, b *testBundle, hs []*lease.Held) {
		t.Helper()
		for _, h := range hs {
			_, err := b.driver.JobGet(t.Context(), &jobdriver.JobGetParams{ID: h.Job.ID})
			require.ErrorIs(t, err, jobtype.ErrNotFound)
		}
	}

	t.Run("RunOnceRecordsBatch", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		hs := held(t, b, 3)
		batch := make([]completion, len(hs))
		for i, h := range hs {
			batch[i] = completion{h: h, c: done(h)}
		}
		c.runOnce(t.Context(), batch, false)
		require.Equal(t, 3, c.TestSignals.Flushed.WaitOrTimeout())
		requireGone(t, b, hs)
		require.Zero(t, b.leases.Len(), "recorded jobs are forgotten")
		require.EqualValues(t, 1, b.driver.CompleteCalls.Load(), "one round trip")
	})

	t.Run("RunOnceRetriesUntilItWorks", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		hs := held(t, b, 1)
		b.driver.CompleteFailures.Store(4)
		c.runOnce(t.Context(), []completion{{h: hs[0], c: done(hs[0])}}, false)
		require.EqualValues(t, 5, b.driver.CompleteCalls.Load())
		requireGone(t, b, hs)
	})

	t.Run("RunOnceStoppingGivesUp", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		hs := held(t, b, 1)
		b.driver.CompleteFailures.Store(100)
		c.runOnce(t.Context(), []completion{{h: hs[0], c: done(hs[0])}}, true)
		require.EqualValues(t, StopTries, b.driver.CompleteCalls.Load())
		require.Zero(t, b.leases.Len(), "given up: the lease expires and the job is rescued")
		_, err := b.driver.JobGet(t.Context(), &jobdriver.JobGetParams{ID: hs[0].Job.ID})
		require.NoError(t, err)
	})

	t.Run("CompleteWithRetryEndsWithContext", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		b.driver.CompleteFailures.Store(1 << 30)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := c.CompleteWithRetry(ctx, []jobdriver.Completion{}, 0)
		require.True(t, errors.Is(err, testdriver.ErrInjected))
	})

	t.Run("StartBatchesAndStopFlushes", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		hs := held(t, b, 50)
		require.NoError(t, c.Start(t.Context()))
		for _, h := range hs[:10] {
			c.Complete(h, done(h))
		}
		n := 0
		for n < 10 {
			n += c.TestSignals.Flushed.WaitOrTimeout()
		}
		requireGone(t, b, hs[:10])
		// What is queued when Stop is called is recorded before it returns.
		for _, h := range hs[10:] {
			c.Complete(h, done(h))
		}
		c.Stop()
		requireGone(t, b, hs)
		require.Zero(t, b.leases.Len())
		c.Stop() // idempotent
	})

	t.Run("StopBeforeStart", func(t *testing.T) {
		t.Parallel()
		c, _ := setup(t)
		c.Stop()
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { New(testdriver.SQLite(t), &Config{}) })
	})
}
