package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

func exerciseLeases(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("ExpiredLeaseIsRescuedAndStaleOutcomeIgnored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		j, err := b.client.Enqueue(ctx, "orphan", nil, nil)
		require.NoError(t, err)
		now := time.Now()
		// A worker takes the job and dies without a word.
		first, err := b.driver.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: jobs.QueueDefault, Max: 10, Now: now,
			LeaseOwner: "dead-worker", LeaseUntil: now.Add(time.Second)})
		require.NoError(t, err)
		require.Len(t, first.Jobs, 1)
		n, err := b.driver.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: jobs.QueueDefault, Now: now})
		require.NoError(t, err)
		require.Zero(t, n, "a live lease is not rescued")
		n, err = b.driver.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: jobs.QueueDefault, Now: now.Add(2 * time.Second)})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got, err := b.insp.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateReady, got.State)

		second, err := b.driver.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: jobs.QueueDefault, Max: 10, Now: now,
			LeaseOwner: "live-worker", LeaseUntil: now.Add(time.Hour)})
		require.NoError(t, err)
		require.Len(t, second.Jobs, 1)
		// The first worker comes back and reports: its lease is gone, so
		// nothing changes.
		res, err := b.driver.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now,
			Completions: []jobdriver.Completion{{Job: first.Jobs[0], Outcome: jobdriver.OutcomeDone}}})
		require.NoError(t, err)
		require.Equal(t, &jobdriver.JobCompleteManyResult{Stale: 1}, res)
		got, err = b.insp.Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateRunning, got.State)
		res, err = b.driver.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now,
			Completions: []jobdriver.Completion{{Job: second.Jobs[0], Outcome: jobdriver.OutcomeDone}}})
		require.NoError(t, err)
		require.Equal(t, &jobdriver.JobCompleteManyResult{Applied: 1}, res)
	})

	t.Run("ServerRescuesJobsOfDeadWorker", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		j, err := b.client.Enqueue(ctx, "orphan", nil, nil)
		require.NoError(t, err)
		now := time.Now()
		_, err = b.driver.JobFetch(ctx, &jobdriver.JobFetchParams{Queue: jobs.QueueDefault, Max: 10, Now: now,
			LeaseOwner: "dead-worker", LeaseUntil: now.Add(time.Second)})
		require.NoError(t, err)
		hs := jobs.NewHandlers()
		hs.Handle("orphan", func(ctx context.Context, j *jobs.Job) error { b.handled.add(j.ID); return nil }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, LeaseDuration: time.Second})
		require.Equal(t, []string{j.ID}, b.handled.wait(t, 1, 10*time.Second))
	})

	t.Run("LongJobKeepsItsLease", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("long", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("run")
			time.Sleep(3500 * time.Millisecond) // three and a half leases
			return nil
		}, nil)
		// Two servers, as two processes: the second rescues every half lease
		// and would take the job if the first stopped extending its lease.
		cfg := jobs.Config{Handlers: hs, LeaseDuration: time.Second, Concurrency: 2}
		startServer(t, b.driver, cfg)
		j, err := b.client.Enqueue(ctx, "long", nil, nil)
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		startServer(t, b.driver, cfg)
		eventually(t, 10*time.Second, "long job done", func() bool {
			_, err := b.insp.Job(ctx, j.ID)
			return err != nil
		})
		time.Sleep(200 * time.Millisecond)
		require.Equal(t, []string{"run"}, b.handled.all(), "the job ran once")
	})
}
