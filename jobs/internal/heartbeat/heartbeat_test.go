package heartbeat

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/testdriver"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

func TestHeartbeat(t *testing.T) {
	t.Parallel()

	const (
		queue    = "default"
		leaseFor = 30 * time.Second
	)

	type testBundle struct {
		clock  *jobtype.StubClock
		driver *sqlitedriver.Driver
		leases *lease.Set
		quiet  bool
	}
	setup := func(t *testing.T, t0 time.Time) (*Heartbeat, *testBundle) {
		t.Helper()
		b := &testBundle{clock: jobtype.NewStubClock(t0), driver: testdriver.SQLite(t), leases: lease.NewSet()}
		h := New(b.driver, &Config{
			Clock: b.clock, Info: jobdriver.ProcessInfo{ID: "proc-1", Host: "h", Queues: []string{queue}},
			LeaseDuration: leaseFor, Leases: b.leases, ProcessHeartbeat: time.Hour, ProcessTTL: time.Hour,
			QuietFunc: func() bool { return b.quiet },
		})
		h.TestSignals.Beat.Init(t)
		h.TestSignals.Extended.Init(t)
		t.Cleanup(h.Stop)
		return h, b
	}
	rescued := func(t *testing.T, b *testBundle, at time.Time) int {
		t.Helper()
		n, err := b.driver.JobRescueExpired(t.Context(), &jobdriver.JobRescueExpiredParams{Queue: queue, Now: at, Max: 100})
		require.NoError(t, err)
		return n
	}

	t.Run("RunOnceExtendsLeases", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t, testdriver.T0)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 2, nil)
		b.leases.Add(testdriver.Fetch(t, b.driver, b.clock.Now(), queue, 2, leaseFor))
		b.clock.Advance(20 * time.Second)
		h.runOnce(t.Context(), true, false)
		require.Equal(t, 2, h.TestSignals.Extended.WaitOrTimeout())
		require.Zero(t, rescued(t, b, testdriver.T0.Add(leaseFor+time.Second)), "extended to 20s + the lease")
		require.Equal(t, 2, rescued(t, b, testdriver.T0.Add(20*time.Second+leaseFor+time.Second)))
	})

	t.Run("RunOnceSkipsHandedBack", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t, testdriver.T0)
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 2, nil)
		b.leases.Add(testdriver.Fetch(t, b.driver, b.clock.Now(), queue, 1, leaseFor))
		b.leases.HandBack()
		h.runOnce(t.Context(), true, false)
		require.Zero(t, h.TestSignals.Extended.WaitOrTimeout())
	})

	t.Run("RunOnceRecordsProcess", func(t *testing.T) {
		t.Parallel()
		// The driver lists the processes whose record is fresh by the wall
		// clock.
		h, b := setup(t, time.Now().UTC().Truncate(time.Millisecond))
		testdriver.Insert(t, b.driver, b.clock.Now(), queue, 2, nil)
		hs := b.leases.Add(testdriver.Fetch(t, b.driver, b.clock.Now(), queue, 2, leaseFor))
		b.leases.Start(hs[0], b.clock.Now(), func(error) {})
		b.quiet = true
		h.runOnce(t.Context(), false, true)
		h.TestSignals.Beat.WaitOrTimeout()
		procs, err := b.driver.ProcessList(t.Context(), &jobdriver.ProcessListParams{})
		require.NoError(t, err)
		require.Len(t, procs, 1)
		p := procs[0]
		require.Equal(t, "proc-1", p.ID)
		require.Equal(t, 1, p.Busy)
		require.True(t, p.Quiet)
		require.Len(t, p.Jobs, 1)
		require.Equal(t, hs[0].Job.ID, p.Jobs[0].ID)
		require.WithinDuration(t, b.clock.Now(), p.BeatAt, time.Millisecond)
	})

	t.Run("StartBeatsAtOnce", func(t *testing.T) {
		t.Parallel()
		h, b := setup(t, time.Now().UTC())
		require.NoError(t, h.Start(t.Context()))
		h.TestSignals.Beat.WaitOrTimeout()
		procs, err := b.driver.ProcessList(t.Context(), &jobdriver.ProcessListParams{})
		require.NoError(t, err)
		require.Len(t, procs, 1)
		h.Stop()
		h.Stop()
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { New(testdriver.SQLite(t), &Config{}) })
	})
}
