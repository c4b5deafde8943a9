package maintenance

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/internal/testdriver"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

const queue = "default"

type testBundle struct {
	clock  *jobtype.StubClock
	driver *sqlitedriver.Driver
	wakes  atomic.Int64
}

func newBundle(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{clock: jobtype.NewStubClock(testdriver.T0), driver: testdriver.SQLite(t)}
}

func ready(t *testing.T, b *testBundle) int {
	t.Helper()
	st, err := b.driver.QueueStats(t.Context(), &jobdriver.QueueStatsParams{Queue: queue, Now: b.clock.Now()})
	require.NoError(t, err)
	return int(st.Ready)
}

func TestPromoter(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) (*Promoter, *testBundle) {
		t.Helper()
		b := newBundle(t)
		p := NewPromoter(b.driver, &Config{
			Clock: b.clock, Interval: time.Hour, Queues: []string{queue, "other"},
			WakeFunc: func() { b.wakes.Add(1) },
		})
		p.TestSignals.Promoted.Init(t)
		t.Cleanup(p.Stop)
		return p, b
	}

	t.Run("RunOnceMovesDueJobs", func(t *testing.T) {
		t.Parallel()
		p, b := setup(t)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 3, &testdriver.InsertOpts{ScheduledAt: b.clock.Now().Add(time.Minute)})

		n, wait := p.runOnce(t.Context())
		require.Zero(t, n)
		require.Equal(t, time.Minute, wait, "sleep until the next job is due")
		require.Zero(t, b.wakes.Load())

		b.clock.Advance(time.Minute)
		n, wait = p.runOnce(t.Context())
		require.Equal(t, 3, n)
		require.Greater(t, wait, 30*time.Minute, "nothing left: sleep a jittered interval")
		require.EqualValues(t, 1, b.wakes.Load(), "wake the fetcher")
		require.Equal(t, 3, ready(t, b))
	})

	t.Run("RunOnceMovesMoreThanABatch", func(t *testing.T) {
		t.Parallel()
		p, b := setup(t)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, BatchMax+5, &testdriver.InsertOpts{ScheduledAt: b.clock.Now().Add(time.Second)})
		b.clock.Advance(time.Second)
		n, _ := p.runOnce(t.Context())
		require.Equal(t, BatchMax+5, n)
	})

	t.Run("StartPromotesAtOnce", func(t *testing.T) {
		t.Parallel()
		p, b := setup(t)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 1, &testdriver.InsertOpts{ScheduledAt: b.clock.Now().Add(time.Second)})
		b.clock.Advance(time.Second)
		require.NoError(t, p.Start(t.Context()))
		require.Equal(t, 1, p.TestSignals.Promoted.WaitOrTimeout())
		p.Stop()
		p.Stop()
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { NewPromoter(testdriver.SQLite(t), &Config{}) })
	})
}

func TestRescuer(t *testing.T) {
	t.Parallel()

	const lease = 30 * time.Second

	setup := func(t *testing.T) (*Rescuer, *testBundle) {
		t.Helper()
		b := newBundle(t)
		r := NewRescuer(b.driver, &Config{
			Clock: b.clock, Interval: time.Hour, Queues: []string{queue},
			WakeFunc: func() { b.wakes.Add(1) },
		})
		r.TestSignals.Rescued.Init(t)
		t.Cleanup(r.Stop)
		return r, b
	}

	t.Run("RunOnceReturnsExpiredJobs", func(t *testing.T) {
		t.Parallel()
		r, b := setup(t)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 2, nil)
		jobs := testdriver.Fetch(t, b.driver, b.clock.Now(), queue, 2, lease)
		require.Len(t, jobs, 2)

		b.clock.Advance(lease - time.Second)
		require.Zero(t, r.runOnce(t.Context()), "the leases live")
		require.Zero(t, b.wakes.Load())

		b.clock.Advance(2 * time.Second)
		require.Equal(t, 2, r.runOnce(t.Context()))
		require.EqualValues(t, 1, b.wakes.Load())
		again := testdriver.Fetch(t, b.driver, b.clock.Now(), queue, 2, lease)
		require.Len(t, again, 2, "the rescued jobs run again")
	})

	t.Run("StartRescuesAtOnce", func(t *testing.T) {
		t.Parallel()
		r, b := setup(t)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 1, nil)
		testdriver.Fetch(t, b.driver, b.clock.Now().Add(-time.Hour), queue, 1, lease)
		require.NoError(t, r.Start(t.Context()))
		require.Equal(t, 1, r.TestSignals.Rescued.WaitOrTimeout(), "a process that died before this one started")
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { NewRescuer(testdriver.SQLite(t), &Config{}) })
	})
}
