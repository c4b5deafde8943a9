package jobs

import (
	"context"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// cancelCheckInterval is how often a busy server asks the broker whether any
// of its running jobs was cancelled: a cancelled job's context is done within
// about this long, in whichever process runs it. An idle server asks nothing.
const cancelCheckInterval = 500 * time.Millisecond

// runCancelWatch cancels the contexts of running jobs whose cancellation was
// requested through the broker, possibly by another process.
func (s *Server) runCancelWatch() {
	defer s.bgWG.Done()
	t := time.NewTicker(cancelCheckInterval)
	defer t.Stop()
	var fl failureLog
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		var running []*jobtype.Job
		for _, ex := range s.leased {
			if ex.cancel != nil && !ex.finished && !ex.handedBack {
				running = append(running, &jobtype.Job{ID: ex.job.ID, Queue: ex.job.Queue})
			}
		}
		s.mu.Unlock()
		if len(running) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(s.bgCtx, 5*time.Second)
		ids, err := s.driver.JobCancelRequested(ctx, &jobdriver.JobCancelRequestedParams{Jobs: running})
		cancel()
		if err != nil {
			fl.failed(s.log, "jobs: checking for cancelled jobs failed", err)
			continue
		}
		fl.recovered(s.log, "jobs: checking for cancelled jobs works again")
		if len(ids) == 0 {
			continue
		}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
		s.mu.Lock()
		for _, ex := range s.leased {
			if want[ex.job.ID] && ex.cancel != nil && !ex.finished {
				ex.cancel(ErrJobCancelled)
			}
		}
		s.mu.Unlock()
	}
}
