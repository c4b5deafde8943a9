package jobs

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
)

const maintenanceBatch = 1000

// runMaintainer moves due scheduled jobs and retries to their queues, sleeping
// until the next one is due (at most PollInterval, with jitter so processes
// do not poll in step), and rescues jobs whose lease expired every half lease.
func (s *Server) runMaintainer() {
	defer s.bgWG.Done()
	var promoteLog, rescueLog failureLog
	rescueEvery := s.cfg.LeaseDuration / 2
	nextRescue := time.Now() // at start: jobs of a process that died are picked up at once
	for {
		wait := s.promoteDue(&promoteLog)
		if !time.Now().Before(nextRescue) {
			s.rescueExpired(&rescueLog)
			nextRescue = time.Now().Add(jitter(rescueEvery))
		}
		wait = min(wait, time.Until(nextRescue))
		if !sleepCtx(s.bgCtx, max(wait, time.Millisecond)) {
			return
		}
	}
}

// promoteDue returns how long to sleep before the next pass.
func (s *Server) promoteDue(fl *failureLog) time.Duration {
	wait := jitter(s.cfg.PollInterval)
	for _, q := range s.queues {
		for {
			ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
			now := s.clock.Now()
			res, err := s.driver.JobPromoteDue(ctx, &jobdriver.JobPromoteDueParams{Queue: q, Now: now, Max: maintenanceBatch})
			cancel()
			if err != nil {
				if s.bgCtx.Err() == nil {
					fl.failed(s.log, "jobs: moving due jobs failed", err)
				}
				return wait
			}
			fl.recovered(s.log, "jobs: moving due jobs works again")
			if res.Promoted > 0 {
				s.wakeFetcher()
			}
			if !res.NextAt.IsZero() {
				wait = min(wait, res.NextAt.Sub(now))
			}
			if res.Promoted < maintenanceBatch {
				break
			}
		}
	}
	return wait
}

func (s *Server) rescueExpired(fl *failureLog) {
	for _, q := range s.queues {
		ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
		n, err := s.driver.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: q, Now: s.clock.Now(), Max: maintenanceBatch})
		cancel()
		if err != nil {
			if s.bgCtx.Err() == nil {
				fl.failed(s.log, "jobs: rescuing expired leases failed", err)
			}
			return
		}
		fl.recovered(s.log, "jobs: rescuing expired leases works again")
		if n > 0 {
			s.log.Warn("jobs: rescued jobs whose worker stopped renewing their lease", "queue", q, "num_jobs_rescued", n)
			s.wakeFetcher()
		}
	}
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d)+1))
}
