package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// errorMax caps the error text stored with a job.
const errorMax = 16 << 10

// executor runs one job at a time for a worker: it picks the handler chain
// and the timeout, calls the handler, recovers a panic, and turns the
// result into the job's outcome and, on failure, its retry time. It holds
// no state of its own once built but a counter; every worker shares one.
type executor struct {
	cfg     Config // Handlers, JobTimeout and RetryDelayFunc
	clock   jobtype.Clock
	log     *slog.Logger
	leases  *lease.Set
	chains  map[string]HandlerFunc // by job type, wrapped in the middleware
	noChain HandlerFunc            // for a type without a handler
	expired atomic.Int64           // jobs sent dead past their deadline
}

func newExecutor(cfg Config, leases *lease.Set) *executor {
	e := &executor{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, leases: leases}
	e.chains = make(map[string]HandlerFunc, len(cfg.Handlers.m))
	for t, h := range cfg.Handlers.m {
		e.chains[t] = e.wrap(limited(h.fn, h.opts.Limiters))
	}
	e.noChain = e.wrap(func(_ context.Context, j *Job) error { return &NoHandlerError{Type: j.Type} })
	return e
}

func (e *executor) wrap(fn HandlerFunc) HandlerFunc {
	for i := len(e.cfg.Middleware) - 1; i >= 0; i-- {
		fn = e.cfg.Middleware[i](fn)
	}
	return fn
}

// execute runs h's job under parent, the context that a hard stop cancels,
// and returns its outcome.
func (e *executor) execute(parent context.Context, h *lease.Held) jobdriver.Completion {
	j := h.Job // the handler's copy
	if c, ok := e.refuse(h, &j); ok {
		return c
	}
	fn := e.chains[j.Type]
	timeout := j.Timeout
	if fn == nil {
		fn = e.noChain
	} else if timeout == 0 {
		timeout = e.cfg.Handlers.m[j.Type].opts.Timeout
	}
	timeout = cmpOr(timeout, e.cfg.JobTimeout)
	ctx, cancelJob := context.WithCancelCause(parent)
	if j.BatchID != "" {
		ctx = WithBatch(ctx, j.BatchID) // what the handler enqueues joins its batch
	}
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	e.leases.Start(h, e.clock.Now(), cancelJob)
	err := safeCall(ctx, fn, &j)
	cancel()
	cancelJob(nil)
	if err != nil && errors.Is(context.Cause(ctx), ErrJobCancelled) {
		// Whatever the handler made of its cancellation, the job is over.
		err = fmt.Errorf("%w: %w", ErrJobCancelled, err)
	}
	return e.outcome(&h.Job, err)
}

// refuse decides, before any middleware or handler runs, whether the job
// must not run: it missed its deadline, it was rescued more than
// MaxRescues times, or its arguments cannot be decrypted. Each sends it to
// the dead set; none is mended by a retry. It decrypts the handler's copy j
// in place.
func (e *executor) refuse(h *lease.Held, j *Job) (jobdriver.Completion, bool) {
	now := e.clock.Now()
	if e.cfg.MaxRescues >= 0 && j.Rescues > e.cfg.MaxRescues {
		err := fmt.Errorf("its worker stopped %d times while it ran (the lease ran out each time), more than %d: not run again",
			j.Rescues, e.cfg.MaxRescues)
		e.log.Error("jobs: job rescued too often, sent to the dead set", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue,
			"rescues", j.Rescues)
		return e.dead(&h.Job, err, now), true
	}
	if expired(j, now) {
		e.expired.Add(1)
		err := expiredError(j)
		e.log.Info("jobs: job expired before it started", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue,
			"expires_at", j.ExpiresAt)
		return e.dead(&h.Job, err, now), true
	}
	if e.cfg.Keyring != nil || ArgsEncrypted(j.Args) {
		plain, err := e.cfg.Keyring.Decrypt(j.Type, j.Args)
		if err != nil {
			err = fmt.Errorf("job %s (%s): %w", j.ID, j.Type, err)
			e.log.Warn("jobs: job arguments cannot be decrypted", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue,
				"error", err)
			return e.dead(&h.Job, err, now), true
		}
		j.Args = plain
	}
	return jobdriver.Completion{}, false
}

// dead is the completion that sends held job j to the dead set with err as
// its reason, without counting an attempt against its retries.
func (e *executor) dead(j *Job, err error, now time.Time) jobdriver.Completion {
	u := *j
	u.Lease = ""
	u.Error, u.FailedAt = err.Error(), now
	return jobdriver.Completion{Job: j, Outcome: jobdriver.OutcomeDead, Updated: &u}
}

func cmpOr(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

func safeCall(ctx context.Context, fn HandlerFunc, j *Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return fn(ctx, j)
}

// outcome turns a handler's result into where the job goes next.
func (e *executor) outcome(j *Job, err error) jobdriver.Completion {
	c := jobdriver.Completion{Job: j, Outcome: jobdriver.OutcomeDone}
	if err == nil {
		return c
	}
	now := e.clock.Now()
	u := *j
	u.Lease = ""
	var snooze *SnoozeError
	if errors.As(err, &snooze) {
		u.Attempt--
		u.ScheduledAt = now.Add(snooze.Delay)
		c.Outcome, c.Updated = jobdriver.OutcomeSnooze, &u
		return c
	}
	msg := err.Error()
	if len(msg) > errorMax {
		msg = msg[:errorMax] + "…"
	}
	u.Error, u.FailedAt = msg, now
	var discard *DiscardError
	var panicked *PanicError
	switch {
	case errors.Is(err, ErrJobCancelled):
		c.Outcome = jobdriver.OutcomeDead
		e.log.Info("jobs: running job cancelled", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt)
	case errors.As(err, &discard):
		c.Outcome = jobdriver.OutcomeDead
		e.log.Warn("jobs: job discarded", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt, "error", msg)
	case j.Attempt > j.MaxRetries:
		c.Outcome = jobdriver.OutcomeDead
		e.log.Warn("jobs: job dead after its last attempt", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt, "error", msg)
	default:
		c.Outcome = jobdriver.OutcomeRetry
		u.ScheduledAt = now.Add(e.retryDelay(j, err))
		level := slog.LevelInfo
		if errors.As(err, &panicked) {
			level = slog.LevelError
		}
		e.log.Log(context.Background(), level, "jobs: job failed, will retry", "job_id", j.ID, "job_type", j.Type,
			"queue", j.Queue, "attempt", j.Attempt, "retry_at", u.ScheduledAt, "error", msg)
	}
	c.Updated = &u
	return c
}

func (e *executor) retryDelay(j *Job, err error) time.Duration {
	if j.Backoff != nil {
		return backoffDelay(j.Backoff, j.Attempt)
	}
	if h := e.cfg.Handlers.m[j.Type]; h != nil && h.opts.RetryDelayFunc != nil {
		return h.opts.RetryDelayFunc(j.Attempt, err)
	}
	return e.cfg.RetryDelayFunc(j.Attempt, err)
}
