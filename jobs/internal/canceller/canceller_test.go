package canceller

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

var errCancelled = errors.New("cancelled")

func TestCanceller(t *testing.T) {
	t.Parallel()

	const queue = "default"

	type testBundle struct {
		driver *testdriver.Faulty
		leases *lease.Set
	}
	setup := func(t *testing.T) (*Canceller, *testBundle) {
		t.Helper()
		b := &testBundle{driver: &testdriver.Faulty{Driver: testdriver.SQLite(t)}, leases: lease.NewSet()}
		c := New(b.driver, &Config{Cause: errCancelled, Interval: time.Millisecond, Leases: b.leases})
		c.TestSignals.Checked.Init(t)
		t.Cleanup(c.Stop)
		return c, b
	}
	// running holds n jobs and starts them; it returns their contexts.
	running := func(t *testing.T, b *testBundle, n int) ([]*jobtype.Job, []context.Context) {
		t.Helper()
		testdriver.Insert(t, b.driver, testdriver.T0, queue, n, nil)
		jobs := testdriver.Fetch(t, b.driver, testdriver.T0, queue, n, time.Hour)
		ctxs := make([]context.Context, n)
		for i, h := range b.leases.Add(jobs) {
			var cancel context.CancelCauseFunc
			ctxs[i], cancel = context.WithCancelCause(t.Context())
			b.leases.Start(h, testdriver.T0, cancel)
		}
		return jobs, ctxs
	}
	cancelJob := func(t *testing.T, b *testBundle, id string) {
		t.Helper()
		res, err := b.driver.JobCancel(t.Context(), &jobdriver.JobCancelParams{ID: id, Reason: "test", Now: testdriver.T0})
		require.NoError(t, err)
		require.Equal(t, jobtype.StateRunning, res.Was)
	}

	t.Run("RunOnceCancelsRequested", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		jobs, ctxs := running(t, b, 2)
		require.Zero(t, c.runOnce(t.Context()))
		cancelJob(t, b, jobs[1].ID)
		require.Equal(t, 1, c.runOnce(t.Context()))
		require.NoError(t, ctxs[0].Err())
		require.ErrorIs(t, context.Cause(ctxs[1]), errCancelled)
	})

	t.Run("RunOnceIdleAsksNothing", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		require.Zero(t, c.runOnce(t.Context()))
		require.Zero(t, b.driver.CancelRequestedCalls.Load())
	})

	t.Run("StartChecksEveryInterval", func(t *testing.T) {
		t.Parallel()
		c, b := setup(t)
		jobs, ctxs := running(t, b, 1)
		cancelJob(t, b, jobs[0].ID)
		require.NoError(t, c.Start(t.Context()))
		require.Equal(t, 1, c.TestSignals.Checked.WaitOrTimeout())
		<-ctxs[0].Done()
		c.Stop()
		c.Stop()
	})

	t.Run("InvalidConfigPanics", func(t *testing.T) {
		t.Parallel()
		require.Panics(t, func() { New(testdriver.SQLite(t), &Config{}) })
	})
}
