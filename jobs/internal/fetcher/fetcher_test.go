package fetcher

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/testdriver"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

func TestFetcher(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		clock  *jobtype.StubClock
		driver *sqlitedriver.Driver
		leases *lease.Set

		mu         sync.Mutex
		handedBack []*lease.Held
	}
	setup := func(t *testing.T, cfg *Config) (*Fetcher, *testBundle) {
		t.Helper()
		b := &testBundle{
			clock:  jobtype.NewStubClock(testdriver.T0),
			driver: testdriver.SQLite(t),
			leases: lease.NewSet(),
		}
		c := Config{
			BatchSize: 10, LeaseDuration: time.Minute, LeaseOwner: "test", MaxHeld: 20,
			Queues: []string{"high", "low"}, StrictPriority: true,
			// A poll interval no test waits for: the waiters wake the loop.
			PollInterval: time.Hour,
		}
		if cfg != nil {
			c = *cfg
		}
		c.Clock, c.Leases = b.clock, b.leases
		c.HandBackFunc = func(h *lease.Held) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.handedBack = append(b.handedBack, h)
		}
		f := New(b.driver, &c)
		f.TestSignals.Fetched.Init(t)
		t.Cleanup(f.Stop)
		return f, b
	}
	receive := func(t *testing.T, f *Fetcher, n int) []*lease.Held {
		t.Helper()
		hs := make([]*lease.Held, 0, n)
		for len(hs) < n {
			select {
			case h := <-f.Work():
				hs = append(hs, h)
			case <-time.After(10 * time.Second):
				t.Fatalf("received %d jobs of %d", len(hs), n)
			}
		}
		return hs
	}

	t.Run("RunOnceHoldsAndHandsOut", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		jobs := testdriver.Insert(t, b.driver, b.clock.Now(), "high", 3, nil)
		got, err := f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.Equal(t, 3, got)
		require.Equal(t, 3, f.TestSignals.Fetched.WaitOrTimeout())
		hs := receive(t, f, 3)
		for i, h := range hs {
			require.Equal(t, jobs[i].ID, h.Job.ID)
			require.Equal(t, 1, h.Job.Attempt, "the attempt counts this run")
			require.NotEmpty(t, h.Job.Lease)
		}
		require.Equal(t, 3, b.leases.Len())
		require.EqualValues(t, 3, f.held.Load())
		f.Release()
		require.EqualValues(t, 2, f.held.Load())
	})

	t.Run("RunOnceTakesAtMostFree", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 25, nil)
		got, err := f.runOnce(t.Context(), 15)
		require.NoError(t, err)
		require.Equal(t, 15, got, "a whole batch of 10, then 5")
	})

	t.Run("RunOnceStrictPriority", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "low", 5, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 12, nil)
		got, err := f.runOnce(t.Context(), 15)
		require.NoError(t, err)
		require.Equal(t, 15, got)
		queues := map[string]int{}
		for _, h := range receive(t, f, 15) {
			queues[h.Job.Queue]++
		}
		require.Equal(t, map[string]int{"high": 12, "low": 3}, queues, "a later queue only once the first ran dry")
	})

	t.Run("RunOnceWeighted", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, &Config{
			BatchSize: 1, LeaseDuration: time.Minute, LeaseOwner: "test", MaxHeld: 1000,
			Queues: []string{"high", "low"}, Weights: map[string]int{"high": 3, "low": 1}, PollInterval: time.Hour,
		})
		firsts := map[string]int{}
		for range 400 {
			firsts[f.queueOrder()[0]]++
		}
		// 3:1 in expectation; 400 draws put "high" first 300 ± 50 times
		// with overwhelming probability.
		require.InDelta(t, 300, firsts["high"], 60)
		testdriver.Insert(t, b.driver, b.clock.Now(), "low", 1, nil)
		got, err := f.runOnce(t.Context(), 5)
		require.NoError(t, err)
		require.Equal(t, 1, got, "an empty queue does not stop the round")
	})

	t.Run("RunOnceNotDue", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 1, &testdriver.InsertOpts{ScheduledAt: b.clock.Now().Add(time.Minute)})
		got, err := f.runOnce(t.Context(), 5)
		require.NoError(t, err)
		require.Zero(t, got)
	})

	t.Run("RunOncePausedQueue", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 1, nil)
		require.NoError(t, b.driver.QueuePause(t.Context(), &jobdriver.QueuePauseParams{Queue: "high"}))
		got, err := f.runOnce(t.Context(), 5)
		require.NoError(t, err)
		require.Zero(t, got)
		f.mu.Lock()
		require.True(t, f.paused["high"], "the waiter of a paused queue rests")
		f.mu.Unlock()
	})

	t.Run("RunOnceCappedQueue", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, &Config{
			BatchSize: 10, LeaseDuration: time.Minute, LeaseOwner: "test", MaxHeld: 20,
			Queues: []string{"high", "low"}, StrictPriority: true, PollInterval: time.Hour,
			MaxRunning: map[string]int{"high": 2},
		})
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 5, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "low", 1, nil)
		got, err := f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.Equal(t, 3, got, "two of the capped queue, then the next queue")
		got, err = f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.Zero(t, got)
		f.mu.Lock()
		_, capped := f.capped["high"]
		f.mu.Unlock()
		require.True(t, capped, "the capped queue and its waiter rest")
		require.True(t, f.isCapped("high", time.Now()))

		hs := receive(t, f, 3)
		var done []jobdriver.Completion
		for _, h := range hs {
			if h.Job.Queue == "high" {
				done = append(done, jobdriver.Completion{Job: &h.Job, Outcome: jobdriver.OutcomeDone})
				break
			}
		}
		_, err = b.driver.JobCompleteMany(t.Context(), &jobdriver.JobCompleteManyParams{Completions: done, Now: b.clock.Now()})
		require.NoError(t, err)
		got, err = f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.Zero(t, got, "a resting queue is not tried")
		f.Uncap("high", "low")
		require.False(t, f.isCapped("high", time.Now()), "a completion here ends the rest")
		got, err = f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.Equal(t, 1, got, "the completed job's room")
		_, err = f.runOnce(t.Context(), 20)
		require.NoError(t, err)
		require.True(t, f.isCapped("high", time.Now()))
		require.False(t, f.isCapped("high", time.Now().Add(CapRetry)), "so does CapRetry")
	})

	t.Run("WaiterWakesIdleLoop", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		require.False(t, f.Ready())
		require.NoError(t, f.Start(t.Context()))
		require.True(t, f.Ready())
		require.Zero(t, f.TestSignals.Fetched.WaitOrTimeout(), "nothing to fetch: the loop idles")
		// The poll interval is an hour: only a waiter can wake the loop.
		jobs := testdriver.Insert(t, b.driver, b.clock.Now(), "low", 1, nil)
		for got := 0; got == 0; {
			got = f.TestSignals.Fetched.WaitOrTimeout()
		}
		require.Equal(t, jobs[0].ID, receive(t, f, 1)[0].Job.ID)
		require.False(t, f.Beat().IsZero())
	})

	t.Run("StopHandsBackWaitingJobs", func(t *testing.T) {
		t.Parallel()
		f, b := setup(t, nil)
		testdriver.Insert(t, b.driver, b.clock.Now(), "high", 4, nil)
		require.NoError(t, f.Start(t.Context()))
		require.Equal(t, 4, f.TestSignals.Fetched.WaitOrTimeout())
		f.Stop()
		require.False(t, f.Ready())
		b.mu.Lock()
		require.Len(t, b.handedBack, 4, "no worker took them")
		b.mu.Unlock()
		_, open := <-f.Work()
		require.False(t, open, "the work channel is closed")
		f.Stop() // idempotent
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { New(testdriver.SQLite(t), &Config{}) })
	})
}
