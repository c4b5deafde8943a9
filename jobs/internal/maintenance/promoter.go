package maintenance

import (
	"context"
	"log/slog"
	"time"

	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/internal/testsignal"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// Defaults of PromoterConfig.
const (
	PromoteIntervalDefault = time.Second
	// CallTimeout bounds one call to the driver.
	CallTimeout = 10 * time.Second
)

// PromoterDriver is what the promoter needs of a driver.
type PromoterDriver interface {
	JobPromoteDue(ctx context.Context, params *jobdriver.JobPromoteDueParams) (*jobdriver.JobPromoteDueResult, error)
}

// PromoterTestSignals are the promoter's signals to tests.
type PromoterTestSignals struct {
	// Promoted carries the number of jobs each pass moved.
	Promoted testsignal.TestSignal[int]
}

// Promoter moves due scheduled jobs and retries to their queues, sleeping
// until the next one is due, at most Interval. Its loop owns the failure
// log.
type Promoter struct {
	service.Base

	cfg    Config
	driver PromoterDriver
	log    *slog.Logger

	// TestSignals are armed by tests only.
	TestSignals PromoterTestSignals

	failures service.FailureLog
}

// NewPromoter returns a promoter on d. It panics on an invalid config.
func NewPromoter(d PromoterDriver, cfg *Config) *Promoter {
	c := cfg.withDefaults(PromoteIntervalDefault)
	c.mustValidate("promoter")
	return &Promoter{cfg: c, driver: d, log: c.Logger}
}

// Start starts a pass at once, and then one whenever a job is due.
func (p *Promoter) Start(ctx context.Context) error {
	p.StartFunc(ctx, func(ctx context.Context) {
		p.Go(func() {
			for {
				_, wait := p.runOnce(ctx)
				if !service.Sleep(ctx, max(wait, time.Millisecond)) {
					return
				}
			}
		})
	})
	return nil
}

// runOnce moves every due job of every queue and returns how many it moved
// and how long to sleep before the next pass.
func (p *Promoter) runOnce(ctx context.Context) (int, time.Duration) {
	wait := service.Jitter(p.cfg.Interval)
	total := 0
	defer func() { p.TestSignals.Promoted.Signal(total) }()
	for _, q := range p.cfg.Queues {
		for {
			cctx, cancel := context.WithTimeout(ctx, CallTimeout)
			now := p.cfg.Clock.Now()
			res, err := p.driver.JobPromoteDue(cctx, &jobdriver.JobPromoteDueParams{Queue: q, Now: now, Max: BatchMax})
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					p.failures.Failed(p.log, "jobs: moving due jobs failed", err)
				}
				return total, wait
			}
			p.failures.Recovered(p.log, "jobs: moving due jobs works again")
			total += res.Promoted
			if res.Promoted > 0 {
				p.cfg.WakeFunc()
			}
			if !res.NextAt.IsZero() {
				wait = min(wait, res.NextAt.Sub(now))
			}
			if res.Promoted < BatchMax {
				break
			}
		}
	}
	return total, wait
}
