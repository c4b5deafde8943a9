package jobstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

func exerciseOutcomes(t *testing.T, h Harness) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	stubbed := func(t *testing.T) (*bundle, *jobtype.StubClock) { return setupStubbed(t, h, t0) }

	t.Run("RetryWithBackoffThenSucceed", func(t *testing.T) {
		t.Parallel()
		b, clock := stubbed(t)
		hs := jobs.NewHandlers()
		hs.Handle("flaky", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(fmt.Sprint(j.Attempt))
			if j.Attempt < 3 {
				return fmt.Errorf("attempt %d: upstream unavailable", j.Attempt)
			}
			return nil
		}, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock, RetryDelayFunc: func(attempt int, err error) time.Duration {
			return time.Duration(attempt) * time.Minute
		}})
		j, err := b.client.Enqueue(ctx, "flaky", nil, nil)
		require.NoError(t, err)

		require.Equal(t, []string{"1"}, b.handled.wait(t, 1, 10*time.Second))
		r := findState(t, b, j.ID, jobs.StateRetry)
		require.Equal(t, 1, r.Attempt)
		require.Equal(t, "attempt 1: upstream unavailable", r.Error)
		require.Equal(t, t0, r.FailedAt)
		require.Equal(t, t0.Add(time.Minute), r.ScheduledAt)

		// Not due yet: nothing runs until the clock passes the retry time.
		clock.Advance(59 * time.Second)
		requireNothingDue(t, b, jobs.QueueDefault, clock.Now())
		require.Len(t, b.handled.all(), 1)
		clock.Advance(time.Second)
		require.Equal(t, []string{"2"}, b.handled.wait(t, 1, 10*time.Second))
		r = findState(t, b, j.ID, jobs.StateRetry)
		require.Equal(t, t0.Add(3*time.Minute), r.ScheduledAt)

		clock.Advance(2 * time.Minute)
		require.Equal(t, []string{"3"}, b.handled.wait(t, 1, 10*time.Second))
		eventually(t, 10*time.Second, "job gone after success", func() bool {
			_, err := b.insp.Job(ctx, j.ID)
			return errors.Is(err, jobs.ErrNotFound)
		})
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.EqualValues(t, 3, st.Processed)
		require.EqualValues(t, 2, st.Failed)
		require.Equal(t, "2026-11-28", st.Daily[0].Date)
		require.EqualValues(t, 3, st.Daily[0].Processed)
		require.EqualValues(t, 2, st.Daily[0].Failed)

		// Per minute: the tries at t0, t0+1m and t0+3m, in the minutes
		// they finished in, the current one first.
		if !h.lacks(CapabilityMinuteCounters) {
			ms, err := b.insp.Throughput(ctx, 5)
			require.NoError(t, err)
			m0 := t0.UTC().Truncate(time.Minute)
			require.Equal(t, []jobdriver.MinuteStats{
				{Minute: m0.Add(3 * time.Minute), Processed: 1},
				{Minute: m0.Add(2 * time.Minute)},
				{Minute: m0.Add(time.Minute), Processed: 1, Failed: 1},
				{Minute: m0, Processed: 1, Failed: 1},
				{Minute: m0.Add(-time.Minute)},
			}, ms)
		}
	})

	t.Run("DeadAfterLastAttemptThenRetryAndDelete", func(t *testing.T) {
		t.Parallel()
		b, clock := stubbed(t)
		hs := jobs.NewHandlers()
		hs.Handle("doomed", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(j.ID)
			return errors.New("always fails")
		}, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock,
			RetryDelayFunc: func(int, error) time.Duration { return time.Second }})
		j, err := b.client.Enqueue(ctx, "doomed", nil, &jobs.EnqueueOpts{MaxRetries: 1})
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		findState(t, b, j.ID, jobs.StateRetry)
		clock.Advance(time.Second)
		b.handled.wait(t, 1, 10*time.Second)
		d := findState(t, b, j.ID, jobs.StateDead)
		require.Equal(t, 2, d.Attempt)
		require.Equal(t, "always fails", d.Error)
		dead, err := b.insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
		require.NoError(t, err)
		require.Len(t, dead, 1)

		// Retrying a dead job by hand runs it once more.
		require.NoError(t, b.insp.Retry(ctx, jobs.StateDead, j.ID))
		b.handled.wait(t, 1, 10*time.Second)
		findState(t, b, j.ID, jobs.StateDead)
		require.NoError(t, b.insp.Delete(ctx, "", j.ID))
		_, err = b.insp.Job(ctx, j.ID)
		require.ErrorIs(t, err, jobs.ErrNotFound)
		require.ErrorIs(t, b.insp.Delete(ctx, "", j.ID), jobs.ErrNotFound)
	})

	t.Run("BackoffChosenAtEnqueue", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityJobBackoff)
		b, clock := stubbed(t)
		hs := jobs.NewHandlers()
		hs.Handle("flaky", func(ctx context.Context, j *jobs.Job) error { return errors.New("not yet") }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock})
		j, err := b.client.Enqueue(ctx, "flaky", nil, &jobs.EnqueueOpts{Backoff: &jobs.Backoff{Base: 10 * time.Second, Max: time.Minute}})
		require.NoError(t, err)
		r := findState(t, b, j.ID, jobs.StateRetry)
		// The job's own backoff, not the server's attempt⁴ + 15 s default.
		require.Equal(t, &jobs.Backoff{Base: 10 * time.Second, Max: time.Minute}, r.Backoff)
		require.GreaterOrEqual(t, r.ScheduledAt.Sub(t0), 10*time.Second)
		require.LessOrEqual(t, r.ScheduledAt.Sub(t0), 11*time.Second)
		clock.Advance(11 * time.Second)
		eventually(t, 10*time.Second, "second attempt", func() bool {
			r, err := b.insp.Job(ctx, j.ID)
			return err == nil && r.Attempt == 2 && r.State == jobs.StateRetry
		})
		r, err = b.insp.Job(ctx, j.ID)
		require.NoError(t, err)
		require.GreaterOrEqual(t, r.ScheduledAt.Sub(t0.Add(11*time.Second)), 20*time.Second)
		require.LessOrEqual(t, r.ScheduledAt.Sub(t0.Add(11*time.Second)), 22*time.Second)
	})

	t.Run("NoRetries", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("once", func(ctx context.Context, j *jobs.Job) error { return errors.New("no") }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs})
		j, err := b.client.Enqueue(ctx, "once", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		require.Equal(t, 1, findState(t, b, j.ID, jobs.StateDead).Attempt)
	})

	t.Run("Discard", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("bad-input", func(ctx context.Context, j *jobs.Job) error {
			return jobs.Discard(errors.New("document is encrypted"))
		}, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs})
		j, err := b.client.Enqueue(ctx, "bad-input", nil, nil)
		require.NoError(t, err)
		d := findState(t, b, j.ID, jobs.StateDead)
		require.Equal(t, 1, d.Attempt)
		require.Equal(t, 25, d.MaxRetries)
		require.Contains(t, d.Error, "document is encrypted")
	})

	t.Run("SnoozeKeepsAttempts", func(t *testing.T) {
		t.Parallel()
		b, clock := stubbed(t)
		hs := jobs.NewHandlers()
		hs.Handle("waiter", func(ctx context.Context, j *jobs.Job) error {
			b.handled.add(fmt.Sprint(j.Attempt))
			if len(b.handled.all()) < 3 {
				return jobs.Snooze(30 * time.Second)
			}
			return nil
		}, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock})
		j, err := b.client.Enqueue(ctx, "waiter", nil, nil)
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
		s := findState(t, b, j.ID, jobs.StateScheduled)
		require.Equal(t, t0.Add(30*time.Second), s.ScheduledAt)
		require.Zero(t, s.Attempt)
		// The clock moves on only once the snooze is recorded: the
		// handler has returned before it is, and a snooze recorded after
		// the clock moved would be due 30 seconds later still.
		clock.Advance(30 * time.Second)
		b.handled.wait(t, 1, 10*time.Second)
		require.Equal(t, t0.Add(60*time.Second), findState(t, b, j.ID, jobs.StateScheduled).ScheduledAt)
		clock.Advance(30 * time.Second)
		b.handled.wait(t, 1, 10*time.Second)
		require.Equal(t, []string{"1", "1", "1"}, b.handled.all())
		// The handler returned; its acknowledgement may still be in the completer's batch.
		eventually(t, 10*time.Second, "job gone after success", func() bool {
			_, err := b.insp.Job(ctx, j.ID)
			return errors.Is(err, jobs.ErrNotFound)
		})
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Processed)
		require.Zero(t, st.Failed)
	})

	t.Run("PanicIsRecoveredAndRetried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("explode", func(ctx context.Context, j *jobs.Job) error {
			var m map[string]int
			m["boom"]++ //nolint:staticcheck // SA5000: the nil map's panic is the test
			return nil
		}, nil)
		hs.Handle("fine", func(ctx context.Context, j *jobs.Job) error { b.handled.add("fine"); return nil }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Concurrency: 1})
		j, err := b.client.Enqueue(ctx, "explode", nil, nil)
		require.NoError(t, err)
		r := findState(t, b, j.ID, jobs.StateRetry)
		require.Contains(t, r.Error, "panic: assignment to entry in nil map")
		require.Contains(t, r.Error, "outcomes.go") // the stack names the handler's file
		// The single worker survived and runs the next job.
		_, err = b.client.Enqueue(ctx, "fine", nil, nil)
		require.NoError(t, err)
		b.handled.wait(t, 1, 10*time.Second)
	})

	t.Run("UnknownTypeRetries", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		startServer(t, b.driver, jobs.Config{Handlers: jobs.NewHandlers()})
		j, err := b.client.Enqueue(ctx, "added-in-next-release", nil, nil)
		require.NoError(t, err)
		r := findState(t, b, j.ID, jobs.StateRetry)
		require.Contains(t, r.Error, `no handler registered for job type "added-in-next-release"`)
	})

	t.Run("ScheduledRunsWhenDue", func(t *testing.T) {
		t.Parallel()
		b, clock := stubbed(t)
		hs := jobs.NewHandlers()
		hs.Handle("later", func(ctx context.Context, j *jobs.Job) error { b.handled.add(j.ID); return nil }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Clock: clock})
		j, err := b.client.Enqueue(ctx, "later", nil, &jobs.EnqueueOpts{RunIn: 10 * time.Minute})
		require.NoError(t, err)
		require.Equal(t, jobs.StateScheduled, j.State)
		requireNothingDue(t, b, jobs.QueueDefault, clock.Now())
		require.Empty(t, b.handled.all())
		clock.Advance(10 * time.Minute)
		require.Equal(t, []string{j.ID}, b.handled.wait(t, 1, 10*time.Second))
	})

	t.Run("Timeout", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityJobTimeout)
		b := setup(t, h)
		hs := jobs.NewHandlers()
		hs.Handle("slow", func(ctx context.Context, j *jobs.Job) error {
			<-ctx.Done()
			return ctx.Err()
		}, &jobs.HandlerOpts{Timeout: time.Hour})
		startServer(t, b.driver, jobs.Config{Handlers: hs})
		// The job's own timeout wins over the handler's.
		j, err := b.client.Enqueue(ctx, "slow", nil, &jobs.EnqueueOpts{Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		r := findState(t, b, j.ID, jobs.StateRetry)
		require.Contains(t, r.Error, "context deadline exceeded")
		require.Equal(t, 50*time.Millisecond, r.Timeout, "the timeout is stored with the job")
	})

	if h.PushRaw != nil {
		t.Run("GarbageEndsDead", func(t *testing.T) {
			t.Parallel()
			b := setup(t, h)
			hs := jobs.NewHandlers()
			hs.Handle("fine", func(ctx context.Context, j *jobs.Job) error { b.handled.add(j.ID); return nil }, nil)
			startServer(t, b.driver, jobs.Config{Handlers: hs, Concurrency: 2})
			for _, raw := range [][]byte{[]byte("\x00\xff garbage \x01"), []byte(`{"id":"x"}`), []byte(`[1,2,3]`)} {
				h.PushRaw(t, b.driver, jobs.QueueDefault, raw)
			}
			j, err := b.client.Enqueue(ctx, "fine", nil, nil)
			require.NoError(t, err)
			require.Equal(t, []string{j.ID}, b.handled.wait(t, 1, 10*time.Second), "garbage does not stop the queue")
			h.require(t, CapabilityWrapUndecodable)
			var dead []*jobs.Job
			eventually(t, 10*time.Second, "three dead entries", func() bool {
				dead, err = b.insp.Jobs(ctx, &jobs.ListParams{State: jobs.StateDead})
				return err == nil && len(dead) == 3
			})
			for _, d := range dead {
				require.Contains(t, d.Error, "undecodable job entry")
				require.NotEmpty(t, d.ID)
				require.Contains(t, string(d.Args), "raw")
			}
			// The wrapped entries are ordinary dead jobs: they can be deleted.
			require.NoError(t, b.insp.Delete(ctx, jobs.StateDead, dead[0].ID))
		})
	}
}
