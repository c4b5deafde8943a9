package jobstest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

func exerciseShutdown(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("FinishWithinTimeoutHandBackTheRest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("quick", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("quick started")
			time.Sleep(200 * time.Millisecond)
			b.handled.add("quick done")
			return nil
		}, nil)
		hs.Handle("stubborn", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("stubborn started")
			<-ctx.Done()
			b.handled.add("stubborn cancelled")
			return ctx.Err()
		}, nil)
		srv, err := jobs.NewServer(b.driver, &jobs.Config{Handlers: hs, Concurrency: 4,
			ShutdownTimeout: 700 * time.Millisecond, LeaseDuration: time.Hour, PollInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, srv.Start(ctx))
		stubborn, err := b.client.Enqueue(ctx, "stubborn", nil, nil)
		require.NoError(t, err)
		_, err = b.client.Enqueue(ctx, "quick", nil, nil)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"quick started", "stubborn started"}, b.handled.wait(t, 2, 10*time.Second))

		require.NoError(t, srv.Stop(ctx))
		require.ElementsMatch(t, []string{"quick done", "stubborn cancelled"}, b.handled.all()[2:])
		// Handed back at once: ready now, not after the hour-long lease.
		got, err := b.insp.Job(ctx, stubborn.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateReady, got.State)
		require.Zero(t, got.Attempt, "a job cut short by shutdown keeps its attempts")
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Processed)
		require.Zero(t, st.Failed)
		require.Zero(t, st.Running)
		require.EqualValues(t, 1, st.Ready)
		require.NoError(t, srv.Stop(ctx), "Stop is safe to call twice")
	})

	// An idle server's fetcher waits on the broker for a ready job: the
	// wait must end with its context, not at its timeout, or every stop of
	// an idle server waits it out.
	t.Run("WaitEndsWithItsContext", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		for _, after := range []time.Duration{0, time.Millisecond, 200 * time.Millisecond} {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(after, cancel)
			ready, err := b.driver.QueueWait(ctx, &jobdriver.QueueWaitParams{Queue: "empty", Timeout: time.Minute})
			require.ErrorIs(t, err, context.Canceled, "cancelled after %s", after)
			require.False(t, ready)
			cancel()
		}
	})

	t.Run("QuietHandsBackJobsNotStarted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		release := make(chan struct{})
		hs := jobs.NewHandlers()
		hs.Handle("block", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("started")
			<-release
			return nil
		}, nil)
		for range 4 {
			_, err := b.client.Enqueue(ctx, "block", nil, nil)
			require.NoError(t, err)
		}
		srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Concurrency: 1, LeaseDuration: time.Hour})
		b.handled.wait(t, 1, 10*time.Second)
		eventually(t, 5*time.Second, "one job running and one prefetched", func() bool {
			q, err := b.insp.Queue(ctx, jobs.QueueDefault)
			return err == nil && q.Running == 2 && q.Ready == 2
		})
		srv.Quiet()
		eventually(t, 5*time.Second, "prefetched job handed back", func() bool {
			q, err := b.insp.Queue(ctx, jobs.QueueDefault)
			return err == nil && q.Running == 1 && q.Ready == 3
		})
		require.False(t, srv.Ready())
		close(release)
		require.NoError(t, srv.Stop(ctx))
		q, err := b.insp.Queue(ctx, jobs.QueueDefault)
		require.NoError(t, err)
		require.EqualValues(t, 3, q.Ready)
		require.EqualValues(t, 1, q.Processed)
		require.Len(t, b.handled.all(), 1)
	})
}
