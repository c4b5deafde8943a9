// Package canceller cancels the running jobs whose cancellation was
// requested through the broker, possibly by another process.
package canceller

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// Defaults of Config.
const (
	// IntervalDefault is how often a busy process asks the broker whether
	// any of its running jobs was cancelled: a cancelled job's context is
	// done within about this long, in whichever process runs it.
	IntervalDefault = 500 * time.Millisecond
	// CallTimeout bounds one call to the driver.
	CallTimeout = 5 * time.Second
)

// Driver is what the canceller needs of a driver.
type Driver interface {
	JobCancelRequested(ctx context.Context, params *jobdriver.JobCancelRequestedParams) ([]string, error)
}

// Config configures a Canceller.
type Config struct {
	// Cause is the cause given to a cancelled job's context. Required.
	Cause error
	// Interval is the time between two checks. Defaults to 500 ms.
	Interval time.Duration
	// Leases are the held jobs. Required.
	Leases *lease.Set
	// Logger receives the logs. Defaults to slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.Interval = cmp.Or(c.Interval, IntervalDefault)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c Config) mustValidate() {
	if c.Cause == nil || c.Leases == nil || c.Interval <= 0 {
		panic(errors.New("canceller: invalid config: Cause and Leases are required, Interval must be positive"))
	}
}

// TestSignals are the canceller's signals to tests.
type TestSignals struct {
	// Checked carries the number of jobs each check cancelled.
	Checked testsignal.TestSignal[int]
}

// Canceller asks the broker every Interval which of the running jobs were
// cancelled, and cancels their contexts. An idle process asks nothing. Its
// loop owns the failure log.
type Canceller struct {
	service.Base

	cfg    Config
	driver Driver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals TestSignals

	failures service.FailureLog
}

// New returns a canceller on d. It panics on an invalid config.
func New(d Driver, cfg *Config) *Canceller {
	c := cfg.WithDefaults()
	c.mustValidate()
	return &Canceller{cfg: c, driver: d, log: c.Logger}
}

// Start starts checking, the first time after one Interval.
func (c *Canceller) Start(ctx context.Context) error {
	c.StartFunc(ctx, func(ctx context.Context) {
		c.Go(func() {
			t := time.NewTicker(c.cfg.Interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				c.runOnce(ctx)
			}
		})
	})
	return nil
}

// runOnce asks about the running jobs and cancels those cancelled; it
// returns how many ids the broker reported.
func (c *Canceller) runOnce(ctx context.Context) int {
	n := 0
	defer func() { c.TestSignals.Checked.Signal(n) }()
	running := c.cfg.Leases.Running()
	if len(running) == 0 {
		return 0
	}
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	ids, err := c.driver.JobCancelRequested(cctx, &jobdriver.JobCancelRequestedParams{Jobs: running})
	cancel()
	if err != nil {
		c.failures.Failed(c.log, "jobs: checking for cancelled jobs failed", err)
		return 0
	}
	c.failures.Recovered(c.log, "jobs: checking for cancelled jobs works again")
	if len(ids) > 0 {
		c.cfg.Leases.Cancel(ids, c.cfg.Cause)
	}
	n = len(ids)
	return n
}
