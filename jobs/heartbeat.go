package jobs

import (
	"context"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// runHeartbeat extends the leases of every held job each third of the lease
// duration, so a long job is never handed to a second worker while this
// process lives, and records the process every ProcessHeartbeat.
func (s *Server) runHeartbeat() {
	defer s.bgWG.Done()
	extendEvery := s.cfg.LeaseDuration / 3
	tick := min(extendEvery, s.cfg.ProcessHeartbeat)
	t := time.NewTicker(tick)
	defer t.Stop()
	var extendLog, beatLog failureLog
	lastExtend := time.Now()
	s.beat(&beatLog)
	lastBeat := time.Now()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-t.C:
		}
		if time.Since(lastExtend) >= extendEvery-tick/2 {
			lastExtend = time.Now()
			if err := s.extendLeases(); err != nil {
				extendLog.failed(s.log, "jobs: extending leases failed", err)
			} else {
				extendLog.recovered(s.log, "jobs: extending leases works again")
			}
		}
		if time.Since(lastBeat) >= s.cfg.ProcessHeartbeat-tick/2 {
			lastBeat = time.Now()
			s.beat(&beatLog)
		}
	}
}

func (s *Server) extendLeases() error {
	s.mu.Lock()
	held := make([]*jobtype.Job, 0, len(s.leased))
	for _, ex := range s.leased {
		if !ex.handedBack {
			held = append(held, &jobtype.Job{ID: ex.job.ID, Queue: ex.job.Queue, Lease: ex.job.Lease})
		}
	}
	s.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
	defer cancel()
	return s.driver.JobLeaseExtendMany(ctx, &jobdriver.JobLeaseExtendManyParams{
		Jobs: held, LeaseUntil: s.clock.Now().Add(s.cfg.LeaseDuration),
	})
}

// beat records the process with what it is running.
func (s *Server) beat(fl *failureLog) {
	info := s.info
	info.BeatAt = s.clock.Now().UTC()
	info.Quiet = s.quietCtx.Err() != nil
	s.mu.Lock()
	for _, ex := range s.leased {
		if ex.startedAt.IsZero() || ex.finished || ex.handedBack {
			continue
		}
		info.Busy++
		if len(info.Jobs) < jobdriver.ProcessJobsMax {
			info.Jobs = append(info.Jobs, jobdriver.BusyJob{ID: ex.job.ID, Type: ex.job.Type,
				Queue: ex.job.Queue, Attempt: ex.job.Attempt, StartedAt: ex.startedAt.UTC()})
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.bgCtx, 10*time.Second)
	defer cancel()
	err := s.driver.ProcessHeartbeat(ctx, &jobdriver.ProcessHeartbeatParams{
		Info: &info, TTL: processRecordTTLMultiple * s.cfg.ProcessHeartbeat,
	})
	if err != nil {
		fl.failed(s.log, "jobs: process heartbeat failed", err)
	} else {
		fl.recovered(s.log, "jobs: process heartbeat works again")
	}
}
