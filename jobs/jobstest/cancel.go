package jobstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

func exerciseCancel(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("WaitingJobGoesDead", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityCancel)
		b := setup(t, h)
		for _, opts := range []*jobs.EnqueueOpts{nil, {RunIn: time.Hour}} {
			j, err := b.client.Enqueue(ctx, "report", nil, opts)
			require.NoError(t, err)
			was, err := b.insp.Cancel(ctx, j.ID, "superseded by a newer upload")
			require.NoError(t, err)
			require.Equal(t, j.State, was)
			dead := findState(t, b, j.ID, jobs.StateDead)
			require.Equal(t, "superseded by a newer upload", dead.Error)
			require.False(t, dead.FailedAt.IsZero())
			// A cancelled job can be run after all, like any dead job.
			require.NoError(t, b.insp.Retry(ctx, jobs.StateDead, j.ID))
			findState(t, b, j.ID, jobs.StateReady)
			require.NoError(t, b.insp.Delete(ctx, "", j.ID))
		}
		_, err := b.insp.Cancel(ctx, "01NOSUCHJOB0000000000000000", "")
		require.ErrorIs(t, err, jobs.ErrNotFound)
	})

	t.Run("RunningJobIsCancelled", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityCancel)
		h.require(t, CapabilityUnique)
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("convert", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("started")
			<-ctx.Done()
			if errors.Is(context.Cause(ctx), jobs.ErrJobCancelled) {
				b.handled.add("cancelled")
			} else {
				b.handled.add("done for another reason: " + context.Cause(ctx).Error())
			}
			return ctx.Err()
		}, nil)
		hs.Handle("finish", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add("started")
			<-ctx.Done()
			return nil // finished its work anyway
		}, nil)
		// A long lease: the cancellation must not wait for the heartbeat.
		startServer(t, b.driver, jobs.Config{Handlers: hs, LeaseDuration: time.Hour, ProcessHeartbeat: time.Hour})
		j, err := b.client.Enqueue(ctx, "convert", nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{}})
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		was, err := b.insp.Cancel(ctx, j.ID, "")
		require.NoError(t, err)
		require.Equal(t, jobs.StateRunning, was)
		require.Equal(t, []string{"cancelled"}, b.handled.wait(t, 1, 5*time.Second))
		dead := findState(t, b, j.ID, jobs.StateDead)
		require.Contains(t, dead.Error, "job cancelled")
		require.Equal(t, 1, dead.Attempt)
		// The cancelled job released its unique key.
		again, err := b.client.Enqueue(ctx, "convert", nil, &jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{}, RunIn: time.Hour})
		require.NoError(t, err)
		require.False(t, again.Duplicate)

		f, err := b.client.Enqueue(ctx, "finish", nil, nil)
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		_, err = b.insp.Cancel(ctx, f.ID, "")
		require.NoError(t, err)
		eventually(t, 5*time.Second, "a handler that finished anyway completes its job", func() bool {
			_, err := b.insp.Job(ctx, f.ID)
			return errors.Is(err, jobs.ErrNotFound)
		})
	})

	if h.ProcessEnv != nil {
		t.Run("AcrossProcesses", func(t *testing.T) {
			t.Parallel()
			h.require(t, CapabilityCancel)
			b := setup(t, h)
			dir := t.TempDir()
			startWorkerProcess(t, h, b.driver, dir, 0, workerOpts{lease: time.Hour, shutdown: time.Second, concurrency: 2})
			j, err := b.client.Enqueue(ctx, "sleep", []int{600_000}, nil) // ten minutes
			require.NoError(t, err)
			findState(t, b, j.ID, jobs.StateRunning)
			eventually(t, 10*time.Second, "handler started", func() bool { return readTallies(t, dir, "start")[j.ID] == 1 })
			was, err := b.insp.Cancel(ctx, j.ID, "")
			require.NoError(t, err)
			require.Equal(t, jobs.StateRunning, was)
			dead := findState(t, b, j.ID, jobs.StateDead)
			require.Contains(t, dead.Error, "job cancelled")
			require.Equal(t, 1, readTallies(t, dir, "cancelled")[j.ID])
		})
	}
}
