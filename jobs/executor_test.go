package jobs

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

func TestExecutor(t *testing.T) {
	t.Parallel()

	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	type testBundle struct {
		clock  *jobtype.StubClock
		leases *lease.Set
	}
	setup := func(t *testing.T, fn HandlerFunc, opts *HandlerOpts, cfg *Config) (*executor, *testBundle) {
		t.Helper()
		b := &testBundle{clock: jobtype.NewStubClock(t0), leases: lease.NewSet()}
		hs := NewHandlers()
		hs.Handle("work", fn, opts)
		var c Config
		if cfg != nil {
			c = *cfg
		}
		c.Handlers, c.Clock = hs, b.clock
		if c.RetryDelayFunc == nil {
			c.RetryDelayFunc = func(int, error) time.Duration { return time.Minute }
		}
		return newExecutor(c.WithDefaults(), b.leases), b
	}
	held := func(b *testBundle, j Job) *lease.Held {
		j.ID, j.Queue, j.Lease = "job-1", QueueDefault, "lease-1"
		j.Type = cmp.Or(j.Type, "work")
		j.Attempt = max(j.Attempt, 1)
		j.MaxRetries = max(j.MaxRetries, 3)
		return b.leases.Add([]*Job{&j})[0]
	}

	tests := []struct {
		name    string
		fn      HandlerFunc
		job     Job
		outcome jobdriver.Outcome
		check   func(t *testing.T, c jobdriver.Completion)
	}{
		{
			name:    "Done",
			fn:      func(context.Context, *Job) error { return nil },
			outcome: jobdriver.OutcomeDone,
			check:   func(t *testing.T, c jobdriver.Completion) { require.Nil(t, c.Updated) },
		},
		{
			name:    "ErrorRetries",
			fn:      func(context.Context, *Job) error { return errors.New("boom") },
			outcome: jobdriver.OutcomeRetry,
			check: func(t *testing.T, c jobdriver.Completion) {
				require.Equal(t, "boom", c.Updated.Error)
				require.Equal(t, t0, c.Updated.FailedAt)
				require.Equal(t, t0.Add(time.Minute), c.Updated.ScheduledAt)
				require.Empty(t, c.Updated.Lease)
				require.Equal(t, "lease-1", c.Job.Lease, "the completion is fenced by the held lease")
			},
		},
		{
			name:    "LastAttemptDies",
			fn:      func(context.Context, *Job) error { return errors.New("boom") },
			job:     Job{Attempt: 4, MaxRetries: 3},
			outcome: jobdriver.OutcomeDead,
		},
		{
			name:    "Discard",
			fn:      func(context.Context, *Job) error { return Discard(errors.New("bad input")) },
			outcome: jobdriver.OutcomeDead,
		},
		{
			name:    "Snooze",
			fn:      func(context.Context, *Job) error { return Snooze(time.Hour) },
			job:     Job{Attempt: 2},
			outcome: jobdriver.OutcomeSnooze,
			check: func(t *testing.T, c jobdriver.Completion) {
				require.Equal(t, 1, c.Updated.Attempt, "a snooze uses no attempt")
				require.Equal(t, t0.Add(time.Hour), c.Updated.ScheduledAt)
			},
		},
		{
			name:    "PanicRetries",
			fn:      func(context.Context, *Job) error { panic("oops") },
			outcome: jobdriver.OutcomeRetry,
			check: func(t *testing.T, c jobdriver.Completion) {
				require.Contains(t, c.Updated.Error, "oops")
			},
		},
		{
			name:    "NoHandler",
			job:     Job{Type: "unknown"},
			outcome: jobdriver.OutcomeRetry,
			check: func(t *testing.T, c jobdriver.Completion) {
				require.Contains(t, c.Updated.Error, "no handler")
			},
		},
		{
			name:    "LongErrorCapped",
			fn:      func(context.Context, *Job) error { return errors.New(strings.Repeat("x", errorMax+100)) },
			outcome: jobdriver.OutcomeRetry,
			check: func(t *testing.T, c jobdriver.Completion) {
				require.Len(t, c.Updated.Error, errorMax+len("…"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := tt.fn
			if fn == nil {
				fn = func(context.Context, *Job) error { return nil }
			}
			e, b := setup(t, fn, nil, nil)
			h := held(b, tt.job)
			c := e.execute(t.Context(), h)
			require.Equal(t, tt.outcome, c.Outcome)
			require.Same(t, &h.Job, c.Job)
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}

	t.Run("CancelledDies", func(t *testing.T) {
		t.Parallel()
		// The canceller cancels a running job through the lease set.
		started := make(chan struct{})
		e, b := setup(t, func(ctx context.Context, j *Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}, nil, nil)
		h := held(b, Job{})
		go func() {
			<-started
			b.leases.Cancel([]string{h.Job.ID}, ErrJobCancelled)
		}()
		c := e.execute(t.Context(), h)
		require.Equal(t, jobdriver.OutcomeDead, c.Outcome)
		require.Contains(t, c.Updated.Error, ErrJobCancelled.Error())
	})

	t.Run("Timeouts", func(t *testing.T) {
		t.Parallel()
		deadline := func(t *testing.T, opts *HandlerOpts, cfg *Config, job Job) time.Duration {
			t.Helper()
			var got time.Duration
			e, b := setup(t, func(ctx context.Context, _ *Job) error {
				if d, ok := ctx.Deadline(); ok {
					got = time.Until(d).Round(time.Hour)
				}
				return nil
			}, opts, cfg)
			e.execute(t.Context(), held(b, job))
			return got
		}
		require.Zero(t, deadline(t, nil, nil, Job{}), "none by default")
		require.Equal(t, time.Hour, deadline(t, nil, &Config{JobTimeout: time.Hour}, Job{}))
		require.Equal(t, 2*time.Hour, deadline(t, &HandlerOpts{Timeout: 2 * time.Hour}, &Config{JobTimeout: time.Hour}, Job{}))
		require.Equal(t, 3*time.Hour, deadline(t, &HandlerOpts{Timeout: 2 * time.Hour}, nil, Job{Timeout: 3 * time.Hour}))
	})

	t.Run("RetryDelayOrder", func(t *testing.T) {
		t.Parallel()
		fail := func(context.Context, *Job) error { return errors.New("boom") }
		e, b := setup(t, fail, &HandlerOpts{RetryDelayFunc: func(int, error) time.Duration { return 2 * time.Minute }}, nil)
		c := e.execute(t.Context(), held(b, Job{}))
		require.Equal(t, t0.Add(2*time.Minute), c.Updated.ScheduledAt, "the handler's delay over the server's")
		e, b = setup(t, fail, &HandlerOpts{RetryDelayFunc: func(int, error) time.Duration { return 2 * time.Minute }}, nil)
		c = e.execute(t.Context(), held(b, Job{Backoff: &Backoff{Base: time.Hour}}))
		require.WithinRange(t, c.Updated.ScheduledAt, t0.Add(time.Hour), t0.Add(66*time.Minute), "the job's own backoff first")
	})

	t.Run("Middleware", func(t *testing.T) {
		t.Parallel()
		var order []string
		mw := func(name string) Middleware {
			return func(next HandlerFunc) HandlerFunc {
				return func(ctx context.Context, j *Job) error {
					order = append(order, name)
					return next(ctx, j)
				}
			}
		}
		e, b := setup(t, func(context.Context, *Job) error { order = append(order, "handler"); return nil },
			nil, &Config{Middleware: []Middleware{mw("outer"), mw("inner")}})
		e.execute(t.Context(), held(b, Job{}))
		require.Equal(t, []string{"outer", "inner", "handler"}, order)
	})
}
