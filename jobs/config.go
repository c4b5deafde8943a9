package jobs

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/jobtype"
)

// Defaults and limits of Config.
const (
	ConcurrencyDefault       = 10
	FetchBatchSizeDefault    = 200
	FetchBatchSizeMax        = 1000
	LeaseDurationDefault     = 30 * time.Second
	LeaseDurationMin         = time.Second
	MaxRescuesDefault        = 3
	PollIntervalDefault      = time.Second
	ProcessHeartbeatDefault  = 5 * time.Second
	ShutdownTimeoutDefault   = 25 * time.Second
	completeBatchMax         = 1000
	processRecordTTLMultiple = 12 // a process record outlives 12 missed heartbeats
)

// Config configures a Server.
type Config struct {
	// Handlers run the jobs. Required.
	Handlers *Handlers
	// Queues maps each queue to work on to its weight. With the default
	// weighted order, each fetch tries queues in a random order in which a
	// queue comes first with a probability proportional to its weight, as in
	// Sidekiq; with StrictPriority, queues are always tried by descending
	// weight. Defaults to {"default": 1}.
	Queues map[string]int
	// StrictPriority tries queues strictly by descending weight (ties by
	// name), so a lower queue runs only when every higher one is empty.
	StrictPriority bool
	// QueueGlobalLimits caps, per queue of Queues, how many of its jobs run
	// at once across every process on the broker, whatever their
	// Concurrency: a fetch takes only the room left, checked in the same
	// atomic step. A job counts from its fetch (waiting for a worker
	// included) until its outcome is recorded. Give every process of a
	// queue the same cap: each fetch applies its own process's. A process
	// that finds a queue at its cap tries it again when one of its own jobs
	// of the queue completes, or within 100ms. Drivers that cannot count
	// held jobs (the Sidekiq format) refuse it. Defaults to no caps.
	QueueGlobalLimits map[string]int
	// Concurrency is how many jobs run at once. Defaults to 10.
	Concurrency int
	// FetchBatchSize is the most jobs one fetch takes; a process holds at
	// most Concurrency plus this many jobs, the excess waiting in memory under
	// a lease. Defaults to 200, the size that gave the most throughput;
	// 1 fetches one job at a time.
	FetchBatchSize int
	// JobTimeout bounds one execution of a job that has no timeout of its
	// own or of its handler. Defaults to none.
	JobTimeout time.Duration
	// LeaseDuration is how long a fetched job is held without a heartbeat
	// before another process may run it. Leases of running jobs are extended
	// every third of it. Defaults to 30 seconds; at least 1 second.
	LeaseDuration time.Duration
	// MaxRescues is how many times a job may go back to its queue because
	// its lease ran out while it ran (its worker died, was killed or froze)
	// before it is sent to the dead set unrun, with that as its reason: a
	// job that takes down every worker that runs it must not go from one to
	// the next for ever. A rescue uses no attempt, as the job did not fail.
	// Defaults to 3; negative for no limit.
	MaxRescues int
	// PollInterval is the longest a due scheduled job or retry waits before
	// it is moved to its queue, and the safety net of an idle fetcher, which
	// otherwise blocks on the broker. Defaults to 1 second.
	PollInterval time.Duration
	// ProcessHeartbeat is how often the process records that it is alive.
	// Defaults to 5 seconds.
	ProcessHeartbeat time.Duration
	// ShutdownTimeout is how long Stop lets running jobs finish before it
	// cancels them and hands them back to their queues. Defaults to 25
	// seconds; -1 waits forever.
	ShutdownTimeout time.Duration
	// PeriodicJobs are enqueued on their schedules while the server runs
	// (until it goes quiet). Every server may carry the same list: each
	// tick is enqueued once.
	PeriodicJobs []PeriodicJob
	// Middleware wraps every execution; the first is the outermost.
	Middleware []Middleware
	// RetryDelayFunc picks the delay before a retry. Defaults to
	// DefaultRetryDelay.
	RetryDelayFunc RetryDelayFunc
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
	// Logger receives the server's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// ProcessID names this process in heartbeats and leases. Defaults to
	// host:pid:random.
	ProcessID string
	// Version is shown with the process, e.g. the build version.
	Version string
	// Labels are shown with the process.
	Labels map[string]string

	// Batches (issue #21).

	// BatchRetention is how long a batch stays after it finished or was
	// cancelled. Defaults to BatchRetentionDefault (7 days).
	BatchRetention time.Duration
	// BatchFiringGrace is how long a claimed batch callback may stay
	// unfired before the batch sweep fires it. Defaults to
	// BatchFiringGraceDefault (1 minute).
	BatchFiringGrace time.Duration
	// BatchSweepInterval is how often the batch sweep looks for batch
	// callbacks left firing by a process that died. One server of those
	// sharing the broker sweeps, elected through the leader lock. Defaults to
	// BatchSweepIntervalDefault (1 minute); -1 turns the sweep off.
	BatchSweepInterval time.Duration

	// Keyring decrypts the arguments of jobs that a client encrypted (see
	// Keyring) before the middleware and handler see them. A job whose
	// arguments it cannot open goes to the dead set with
	// ErrArgsUndecryptable. Defaults to none: encrypted jobs go dead.
	Keyring *Keyring
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	if len(c.Queues) == 0 {
		c.Queues = map[string]int{QueueDefault: 1}
	}
	c.Concurrency = cmp.Or(c.Concurrency, ConcurrencyDefault)
	c.FetchBatchSize = cmp.Or(c.FetchBatchSize, FetchBatchSizeDefault)
	c.LeaseDuration = cmp.Or(c.LeaseDuration, LeaseDurationDefault)
	c.MaxRescues = cmp.Or(c.MaxRescues, MaxRescuesDefault)
	c.PollInterval = cmp.Or(c.PollInterval, PollIntervalDefault)
	c.ProcessHeartbeat = cmp.Or(c.ProcessHeartbeat, ProcessHeartbeatDefault)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, ShutdownTimeoutDefault)
	c.BatchRetention = cmp.Or(c.BatchRetention, BatchRetentionDefault)
	c.BatchFiringGrace = cmp.Or(c.BatchFiringGrace, BatchFiringGraceDefault)
	c.BatchSweepInterval = cmp.Or(c.BatchSweepInterval, BatchSweepIntervalDefault)
	if c.RetryDelayFunc == nil {
		c.RetryDelayFunc = DefaultRetryDelay
	}
	if c.Clock == nil {
		c.Clock = jobtype.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Handlers == nil {
		errs = append(errs, errors.New("Handlers is required"))
	}
	for q, w := range c.Queues {
		if err := ValidateQueueName(q); err != nil {
			errs = append(errs, fmt.Errorf("Queues: %w", err))
		}
		if w < 1 {
			errs = append(errs, fmt.Errorf("Queues: weight of queue %q is %d; it must be at least 1", q, w))
		}
	}
	for q, n := range c.QueueGlobalLimits {
		if _, ok := c.Queues[q]; !ok {
			errs = append(errs, fmt.Errorf("QueueGlobalLimits: queue %q is not in Queues", q))
		}
		if n < 1 {
			errs = append(errs, fmt.Errorf("QueueGlobalLimits: limit of queue %q is %d; it must be at least 1", q, n))
		}
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("Concurrency %d must be at least 1", c.Concurrency))
	}
	if c.FetchBatchSize < 1 || c.FetchBatchSize > FetchBatchSizeMax {
		errs = append(errs, fmt.Errorf("FetchBatchSize %d must be between 1 and %d", c.FetchBatchSize, FetchBatchSizeMax))
	}
	if c.LeaseDuration < LeaseDurationMin {
		errs = append(errs, fmt.Errorf("LeaseDuration %s must be at least %s", c.LeaseDuration, LeaseDurationMin))
	}
	if c.JobTimeout < 0 {
		errs = append(errs, fmt.Errorf("JobTimeout %s must not be negative", c.JobTimeout))
	}
	if c.PollInterval < time.Millisecond || c.ProcessHeartbeat < time.Millisecond {
		errs = append(errs, errors.New("PollInterval and ProcessHeartbeat must be at least 1ms"))
	}
	if c.ShutdownTimeout < -1 {
		errs = append(errs, fmt.Errorf("ShutdownTimeout %s: use a positive duration or -1 to wait forever", c.ShutdownTimeout))
	}
	if c.BatchRetention < 0 || c.BatchFiringGrace < 0 || c.BatchSweepInterval < -1 {
		errs = append(errs, errors.New("BatchRetention and BatchFiringGrace must not be negative, BatchSweepInterval positive or -1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("jobs: invalid server config: %w", err)
	}
	return nil
}
