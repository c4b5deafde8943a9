package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

func exerciseLeader(t *testing.T, h Harness) {
	t.Run("OneLeaderAndTakeOverAfterTTL", func(t *testing.T) {
		t.Parallel()
		d := h.New(t)
		ctx := context.Background()
		const ttl = 300 * time.Millisecond
		elect := func(token string) bool {
			t.Helper()
			ok, err := d.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: token, TTL: ttl, Now: time.Now()})
			require.NoError(t, err)
			return ok
		}
		require.True(t, elect("a"), "the first candidate leads")
		require.False(t, elect("b"), "a second one does not while the term runs")
		require.True(t, elect("a"), "the leader renews")
		require.False(t, elect("b"))
		// Another name has a leader of its own.
		ok, err := d.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "other", Token: "b", TTL: ttl, Now: time.Now()})
		require.NoError(t, err)
		require.True(t, ok)

		// a stops renewing, as a killed process does: b takes over once the
		// term has run out, and a cannot renew after that.
		start := time.Now()
		require.Eventually(t, func() bool { return elect("b") }, 10*time.Second, 20*time.Millisecond)
		require.GreaterOrEqual(t, time.Since(start), ttl/2, "b took over well before a's term ended")
		require.False(t, elect("a"), "the old leader lost its term")

		// A resignation hands over at once; resigning a term one does not
		// hold changes nothing.
		require.NoError(t, d.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "scheduler", Token: "a"}))
		require.False(t, elect("a"))
		require.NoError(t, d.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "scheduler", Token: "b"}))
		require.True(t, elect("a"))
	})

	t.Run("SchedulersElectOne", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		cfg := &jobs.SchedulerConfig{
			PeriodicJobs: []jobs.PeriodicJob{{Name: "sweep", Schedule: "@every 100ms", Type: "tick"}},
			LeaderTTL:    300 * time.Millisecond,
			Logger:       quietLogger,
		}
		var scheds []*jobs.Scheduler
		for range 3 {
			s, err := jobs.NewScheduler(b.driver, cfg)
			require.NoError(t, err)
			require.NoError(t, s.Start(context.Background()))
			t.Cleanup(func() { _ = s.Stop(context.Background()) })
			scheds = append(scheds, s)
		}
		leaders := func() (n int, leader *jobs.Scheduler) {
			for _, s := range scheds {
				if s.Leader() {
					n++
					leader = s
				}
			}
			return n, leader
		}
		require.Eventually(t, func() bool { n, _ := leaders(); return n == 1 }, 10*time.Second, 10*time.Millisecond)
		for range 10 {
			n, _ := leaders()
			require.LessOrEqual(t, n, 1, "two schedulers lead at once")
			time.Sleep(30 * time.Millisecond)
		}
		_, first := leaders()
		require.True(t, first.Ready())
		// The leader stops: it resigns, and a standby takes over.
		require.NoError(t, first.Stop(context.Background()))
		require.False(t, first.Leader())
		require.False(t, first.Ready())
		require.Eventually(t, func() bool { n, l := leaders(); return n == 1 && l != first }, 10*time.Second, 10*time.Millisecond)

		h.require(t, CapabilityUnique) // a tick's enqueue is unique
		// Only the leader enqueued: the ticks are in the queue, each once.
		require.Eventually(t, func() bool {
			js, err := b.insp.Jobs(context.Background(), &jobs.ListParams{Queue: jobs.QueueDefault, State: jobs.StateReady, Limit: 1000})
			require.NoError(t, err)
			return len(js) >= 3
		}, 10*time.Second, 20*time.Millisecond)
		js, err := b.insp.Jobs(context.Background(), &jobs.ListParams{Queue: jobs.QueueDefault, State: jobs.StateReady, Limit: 1000})
		require.NoError(t, err)
		keys := map[string]bool{}
		for _, j := range js {
			require.False(t, keys[j.UniqueKey], "tick %s enqueued twice", j.UniqueKey)
			keys[j.UniqueKey] = true
		}
	})

	t.Run("InvalidSchedulerConfig", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		_, err := jobs.NewScheduler(b.driver, nil)
		require.ErrorContains(t, err, "PeriodicJobs")
		_, err = jobs.NewScheduler(b.driver, &jobs.SchedulerConfig{
			PeriodicJobs: []jobs.PeriodicJob{{Name: "a", Schedule: "@hourly", Type: "x"}}, LeaderTTL: time.Millisecond})
		require.ErrorContains(t, err, "LeaderTTL 1ms must be at least 100ms")
	})
}
