package jobstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// exerciseRescues checks the count of a job's rescues (its lease ran out
// while it ran), and that a job rescued too often goes dead unrun rather
// than take down one worker after another.
func exerciseRescues(t *testing.T, h Harness) {
	ctx := context.Background()
	h.require(t, CapabilityRescueCount)

	rescue := func(t *testing.T, b *bundle) *jobs.Job { return RescueOne(t, b.driver, jobs.QueueDefault) }

	t.Run("Counted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		enq, err := b.client.Enqueue(ctx, "poison", map[string]int{"n": 1}, nil)
		require.NoError(t, err)
		for want := range 3 {
			j := rescue(t, b)
			require.Equal(t, enq.ID, j.ID)
			require.Equal(t, want, j.Rescues)
			require.Equal(t, 0, j.Attempt, "a rescue uses no attempt")
		}
		got, err := b.insp.Job(ctx, enq.ID)
		require.NoError(t, err)
		require.Equal(t, 3, got.Rescues)
		require.JSONEq(t, `{"n":1}`, string(got.Args))
	})

	t.Run("TooManyGoDeadUnrun", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("poison", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(fmt.Sprintf("%s ran after %d rescues", j.Args, j.Rescues))
			return nil
		}, nil)
		poison, err := b.client.Enqueue(ctx, "poison", "poison", nil)
		require.NoError(t, err)
		for range 3 {
			rescue(t, b)
		}
		_, err = b.client.Enqueue(ctx, "poison", "fresh", nil)
		require.NoError(t, err)
		srv := startServer(t, b.driver, jobs.Config{Handlers: hs, MaxRescues: 2})
		require.Equal(t, []string{`"fresh" ran after 0 rescues`}, b.handled.wait(t, 1, 10*time.Second))
		eventually(t, 10*time.Second, "the job rescued 3 times dead", func() bool {
			j, err := b.insp.Job(ctx, poison.ID)
			return err == nil && j.State == jobs.StateDead
		})
		j, err := b.insp.Job(ctx, poison.ID)
		require.NoError(t, err)
		require.Contains(t, j.Error, "stopped 3 times")

		// A person's retry is a fresh start: the job runs.
		require.NoError(t, b.insp.Retry(ctx, jobs.StateDead, poison.ID))
		require.Equal(t, []string{`"poison" ran after 0 rescues`}, b.handled.wait(t, 1, 10*time.Second))
		require.NoError(t, srv.Stop(ctx))
	})
}

// RescueOne plays a worker that dies holding a job: it fetches the one
// ready job of queue, and rescues it once its lease has run out, as the
// maintainer does after a crash. It returns the job as fetched.
func RescueOne(t testing.TB, d jobs.Driver, queue string) *jobs.Job {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	res, err := d.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: queue, Max: 10,
		LeaseUntil: now.Add(time.Second), LeaseOwner: "a-worker-that-dies", Now: now})
	require.NoError(t, err)
	require.Len(t, res.Jobs, 1)
	n, err := d.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: queue, Now: now.Add(2 * time.Second)})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	return res.Jobs[0]
}
