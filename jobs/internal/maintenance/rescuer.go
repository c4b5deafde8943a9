package maintenance

import (
	"context"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// RescueIntervalDefault is how often a Rescuer runs by default: half the
// default lease.
const RescueIntervalDefault = 15 * time.Second

// RescuerDriver is what the rescuer needs of a driver.
type RescuerDriver interface {
	JobRescueExpired(ctx context.Context, params *jobdriver.JobRescueExpiredParams) (int, error)
}

// RescuerTestSignals are the rescuer's signals to tests.
type RescuerTestSignals struct {
	// Rescued carries the number of jobs each pass returned.
	Rescued testsignal.TestSignal[int]
}

// Rescuer returns jobs whose lease expired to their queues: the worker that
// held them stopped extending it, so it died or lost the broker. Its loop
// owns the failure log.
type Rescuer struct {
	service.Base

	cfg    Config
	driver RescuerDriver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals RescuerTestSignals

	failures service.FailureLog
}

// NewRescuer returns a rescuer on d. It panics on an invalid config.
func NewRescuer(d RescuerDriver, cfg *Config) *Rescuer {
	c := cfg.withDefaults(RescueIntervalDefault)
	c.mustValidate("rescuer")
	return &Rescuer{cfg: c, driver: d, log: c.Logger}
}

// Start starts a pass at once, so that the jobs of a process that died are
// picked up when a new one starts, and then one every Interval.
func (r *Rescuer) Start(ctx context.Context) error {
	r.StartFunc(ctx, func(ctx context.Context) {
		r.Go(func() {
			for {
				r.runOnce(ctx)
				if !service.Sleep(ctx, service.Jitter(r.cfg.Interval)) {
					return
				}
			}
		})
	})
	return nil
}

// runOnce returns the expired jobs of every queue and reports how many.
func (r *Rescuer) runOnce(ctx context.Context) int {
	total := 0
	defer func() { r.TestSignals.Rescued.Signal(total) }()
	for _, q := range r.cfg.Queues {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		n, err := r.driver.JobRescueExpired(cctx, &jobdriver.JobRescueExpiredParams{Queue: q, Now: r.cfg.Clock.Now(), Max: BatchMax})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.failures.Failed(r.log, "jobs: rescuing expired leases failed", err)
			}
			return total
		}
		r.failures.Recovered(r.log, "jobs: rescuing expired leases works again")
		total += n
		if n > 0 {
			r.log.Warn("jobs: rescued jobs whose worker stopped renewing their lease", "queue", q, "num_jobs_rescued", n)
			r.cfg.WakeFunc()
		}
	}
	return total
}
