package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

// exerciseExpire checks expiring jobs: a job fetched after its deadline goes
// to the dead set with a clear reason and never runs, and one fetched in time
// runs.
func exerciseExpire(t *testing.T, h Harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("LateJobGoesDeadUnrun", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityExpiresAt)
		b, clock := setupStubbed(t, h, t0)
		late, err := b.client.Enqueue(ctx, "notify", nil, &jobs.EnqueueOpts{ExpiresIn: time.Minute})
		require.NoError(t, err)
		require.Equal(t, t0.Add(time.Minute), late.ExpiresAt)
		inTime, err := b.client.Enqueue(ctx, "notify", nil, &jobs.EnqueueOpts{ExpiresAt: t0.Add(time.Hour)})
		require.NoError(t, err)
		got, err := b.insp.Job(ctx, late.ID)
		require.NoError(t, err)
		require.True(t, got.ExpiresAt.Equal(late.ExpiresAt), "the deadline is stored: %s", got.ExpiresAt)

		clock.Advance(2 * time.Minute) // past the first deadline, before the second
		hs := jobs.NewHandlers()
		hs.Handle("notify", func(_ context.Context, j *jobs.Job) error {
			b.handled.add(j.ID)
			return nil
		}, nil)
		srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock})
		require.Equal(t, []string{inTime.ID}, b.handled.wait(t, 1, 10*time.Second))
		dead := findState(t, b, late.ID, jobs.StateDead)
		require.Contains(t, dead.Error, "expired before it started")
		require.Contains(t, dead.Error, late.ExpiresAt.Format(time.RFC3339))
		require.NotContains(t, b.handled.all(), late.ID)
		eventually(t, 10*time.Second, "the expired job is counted", func() bool { return srv.Expired() == 1 })
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Failed, "an expired job counts as failed")
	})

	t.Run("InvalidDeadlines", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityExpiresAt)
		b, _ := setupStubbed(t, h, t0)
		for name, opts := range map[string]*jobs.EnqueueOpts{
			"passed":          {ExpiresAt: t0.Add(-time.Second)},
			"negative":        {ExpiresIn: -time.Second},
			"both":            {ExpiresAt: t0.Add(time.Hour), ExpiresIn: time.Hour},
			"before schedule": {RunIn: time.Hour, ExpiresIn: time.Minute},
		} {
			_, err := b.client.Enqueue(ctx, "notify", nil, opts)
			require.Error(t, err, name)
		}
	})
}

// exerciseHeaders checks that a job's headers travel from the enqueuer to the
// handler and to listings, on every driver.
func exerciseHeaders(t *testing.T, h Harness) {
	ctx := context.Background()
	b := setup(t, h)
	want := map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tenant": "acme"}
	hs := jobs.NewHandlers()
	seen := make(chan map[string]string, 1)
	hs.Handle("report", func(_ context.Context, j *jobs.Job) error {
		seen <- j.Headers
		return nil
	}, nil)
	j, err := b.client.Enqueue(ctx, "report", nil, &jobs.EnqueueOpts{Headers: want, RunIn: time.Hour})
	require.NoError(t, err)
	got, err := b.insp.Job(ctx, j.ID)
	require.NoError(t, err)
	require.Equal(t, want, got.Headers)
	require.NoError(t, b.insp.Retry(ctx, jobs.StateScheduled, j.ID))
	startServer(t, b.driver, jobs.Config{Handlers: hs})
	select {
	case h := <-seen:
		require.Equal(t, want, h)
	case <-time.After(10 * time.Second):
		t.Fatal("the job did not run")
	}
}
