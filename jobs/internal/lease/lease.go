// Package lease tracks the jobs a server process holds under a lease, from
// fetch until their outcome is recorded. It is the one piece of state the
// engine's services share: the fetcher adds jobs, the executor starts and
// finishes them, the completer forgets them, the heartbeat extends their
// leases and the canceller cancels the running ones.
package lease

import (
	"context"
	"sync"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Held is one job held by this process. Job is set when it is added and
// never changes; the other fields are guarded by the Set's lock.
type Held struct {
	// Job is the engine's private copy of the job: the handler gets its own.
	Job jobtype.Job

	startedAt  time.Time
	cancel     context.CancelCauseFunc // cancels the running handler; nil before it starts
	finished   bool                    // the outcome was sent to the completer
	handedBack bool                    // returned to its queue at shutdown: drop the outcome
}

// Set holds the jobs of one process by lease. Its methods are safe for
// concurrent use.
type Set struct {
	mu sync.Mutex
	m  map[string]*Held
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{m: make(map[string]*Held)} }

// Add holds copies of jobs, as fetched, and returns them.
func (s *Set) Add(jobs []*jobtype.Job) []*Held {
	hs := make([]*Held, len(jobs))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, j := range jobs {
		h := &Held{Job: *j}
		hs[i] = h
		s.m[j.Lease] = h
	}
	return hs
}

// Busy returns how many held jobs are running, and up to max of them.
func (s *Set) Busy(max int) (int, []jobdriver.BusyJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var jobs []jobdriver.BusyJob
	for _, h := range s.m {
		if !h.running() {
			continue
		}
		n++
		if len(jobs) < max {
			jobs = append(jobs, jobdriver.BusyJob{ID: h.Job.ID, Type: h.Job.Type,
				Queue: h.Job.Queue, Attempt: h.Job.Attempt, StartedAt: h.startedAt.UTC()})
		}
	}
	return n, jobs
}

// Cancel cancels, with cause, the running jobs whose ids are in ids.
func (s *Set) Cancel(ids []string, cause error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.m {
		if want[h.Job.ID] && h.cancel != nil && !h.finished {
			h.cancel(cause)
		}
	}
}

// Extendable returns the jobs whose leases the heartbeat extends: every one
// held and not handed back. Only ID, Queue and Lease are set.
func (s *Set) Extendable() []*jobtype.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	jobs := make([]*jobtype.Job, 0, len(s.m))
	for _, h := range s.m {
		if !h.handedBack {
			jobs = append(jobs, &jobtype.Job{ID: h.Job.ID, Queue: h.Job.Queue, Lease: h.Job.Lease})
		}
	}
	return jobs
}

// Finish marks h's outcome as sent to the completer and reports true,
// unless h was handed back, whose outcome is dropped.
func (s *Set) Finish(h *Held) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.handedBack {
		return false
	}
	h.finished = true
	return true
}

// HandBack marks every job not yet finished as handed back, so that its
// outcome is dropped, and returns them.
func (s *Set) HandBack() []*Held {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hs []*Held
	for _, h := range s.m {
		if !h.finished && !h.handedBack {
			h.handedBack = true
			hs = append(hs, h)
		}
	}
	return hs
}

// Len returns how many jobs are held.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Remove forgets jobs whose outcome was recorded or that were handed back.
func (s *Set) Remove(hs ...*Held) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hs {
		delete(s.m, h.Job.Lease)
	}
}

// Running returns the jobs whose handler runs (ID and Queue set), which the
// canceller asks the broker about.
func (s *Set) Running() []*jobtype.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var jobs []*jobtype.Job
	for _, h := range s.m {
		if h.cancel != nil && !h.finished && !h.handedBack {
			jobs = append(jobs, &jobtype.Job{ID: h.Job.ID, Queue: h.Job.Queue})
		}
	}
	return jobs
}

// Start records that h's handler starts at now and is cancelled by cancel.
func (s *Set) Start(h *Held, now time.Time, cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.startedAt = now
	h.cancel = cancel
}

// running reports whether the handler runs. Callers hold the lock.
func (h *Held) running() bool { return !h.startedAt.IsZero() && !h.finished && !h.handedBack }
