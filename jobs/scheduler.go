package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Defaults of SchedulerConfig.
const (
	LeaderTTLDefault = 15 * time.Second
	LeaderTTLMin     = 100 * time.Millisecond
	// schedulerLeaderName is what the schedulers elect a leader of.
	schedulerLeaderName = "scheduler"
)

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// PeriodicJobs are the schedules to enqueue. Required.
	PeriodicJobs []PeriodicJob
	// LeaderTTL is how long a scheduler leads without renewing its term; it
	// renews every third of it. A standby takes over within about LeaderTTL
	// of the leader's death, and enqueues the ticks missed meanwhile.
	// Defaults to 15 seconds; at least 100 ms.
	LeaderTTL time.Duration
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
	// Logger receives the scheduler's logs. Defaults to slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns a copy of c with defaults filled in.
func (c SchedulerConfig) WithDefaults() SchedulerConfig {
	if c.LeaderTTL == 0 {
		c.LeaderTTL = LeaderTTLDefault
	}
	if c.Clock == nil {
		c.Clock = jobtype.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Scheduler enqueues periodic jobs at their ticks. Any number may run on one
// broker (the scheduler role's replicas, every quire up): they elect a
// leader through the driver's leader lock, and only the leader enqueues.
// Each tick's enqueue is also unique on the schedule's name and the tick,
// the second line of defence, so that two schedulers that both believe they
// lead (a stalled leader whose term ran out) still enqueue a tick once.
//
// Start runs it; Quiet stops enqueueing and resigns the leadership, so a
// standby takes over at once; Stop does the same and waits for an enqueue in
// flight.
type Scheduler struct {
	cfg     SchedulerConfig
	driver  jobdriver.Driver
	client  *Client
	token   string
	entries []*periodicEntry // owned by run's goroutine once it starts

	leader  atomic.Bool
	running atomic.Bool
	// startedAt is when run began: a new leader catches up on the ticks
	// missed since, never on older ones, which no scheduler of this
	// deployment was waiting for.
	startedAt time.Time

	startOnce sync.Once
	quietOnce sync.Once
	loopCtx   context.Context // ends the loop: Quiet, Stop
	loopStop  context.CancelFunc
	enqCtx    context.Context // the enqueue in flight: cancelled when Stop's ctx ends
	enqStop   context.CancelFunc
	done      chan struct{} // closed when run returns
}

// NewScheduler checks the schedules and returns a scheduler on d.
func NewScheduler(d Driver, cfg *SchedulerConfig) (*Scheduler, error) {
	var c SchedulerConfig
	if cfg != nil {
		c = *cfg
	}
	c = c.WithDefaults()
	if c.LeaderTTL < LeaderTTLMin {
		return nil, fmt.Errorf("LeaderTTL %s must be at least %s", c.LeaderTTL, LeaderTTLMin)
	}
	if len(c.PeriodicJobs) == 0 {
		return nil, errors.New("PeriodicJobs: no periodic jobs to enqueue")
	}
	entries, err := parsePeriodic(c.PeriodicJobs)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(d, &ClientConfig{Clock: c.Clock})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return &Scheduler{cfg: c, driver: d, client: client, token: hex.EncodeToString(b), entries: entries,
		done: make(chan struct{})}, nil
}

// Names returns the names of the schedules.
func (s *Scheduler) Names() []string {
	out := make([]string, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.job.Name
	}
	return out
}

// Leader reports whether this scheduler leads: it is the one that enqueues.
func (s *Scheduler) Leader() bool { return s.leader.Load() }

// Ready reports whether the scheduler runs: started, and neither quiet nor
// stopped. A standby is ready: it takes over when the leader goes.
func (s *Scheduler) Ready() bool { return s.running.Load() }

// Start runs the scheduler until Quiet or Stop. ctx's values reach the
// enqueues; its cancellation does not stop the scheduler.
func (s *Scheduler) Start(ctx context.Context) error {
	s.startOnce.Do(func() {
		ctx = context.WithoutCancel(ctx)
		s.loopCtx, s.loopStop = context.WithCancel(ctx)
		s.enqCtx, s.enqStop = context.WithCancel(ctx)
		s.running.Store(true)
		go func() {
			defer close(s.done)
			s.run(s.loopCtx, s.enqCtx)
		}()
	})
	return nil
}

// Quiet stops enqueueing and resigns the leadership. It is safe to call
// more than once, and before Start.
func (s *Scheduler) Quiet() {
	s.quietOnce.Do(func() {
		s.running.Store(false)
		if s.loopStop != nil {
			s.loopStop()
		}
	})
}

// Stop quiets the scheduler and waits until it has resigned. An enqueue in
// flight may finish until ctx is done; then it is cancelled, and Stop
// returns ctx's error.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.Quiet()
	if s.loopStop == nil {
		return nil // never started
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.enqStop()
		<-s.done
		return fmt.Errorf("stop scheduler: an enqueue was still running: %w", ctx.Err())
	}
}

// run enqueues each tick while this scheduler leads, until loopCtx is done.
// enqueueCtx bounds the leader lock's calls and the enqueues, so that a stop
// lets the one in flight finish.
func (s *Scheduler) run(loopCtx, enqueueCtx context.Context) {
	log := s.cfg.Logger
	defer func() {
		if s.leader.Swap(false) {
			ctx, cancel := context.WithTimeout(enqueueCtx, 5*time.Second)
			defer cancel()
			if err := s.driver.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: schedulerLeaderName, Token: s.token}); err != nil {
				log.Warn("jobs: scheduler: resigning the leadership failed; a standby takes over when the term ends", "error", err)
			} else {
				log.Info("jobs: scheduler: resigned the leadership")
			}
		}
	}()
	renewEvery := s.cfg.LeaderTTL / 3
	now := s.cfg.Clock.Now()
	s.startedAt = now
	for _, e := range s.entries {
		e.next = e.sched.Next(now)
	}
	var electFailures, enqueueFailures service.FailureLog
	nextElect := now
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := s.entries[0]
		for _, e := range s.entries[1:] {
			if e.next.Before(next.next) {
				next = e
			}
		}
		wake := next.next
		if nextElect.Before(wake) {
			wake = nextElect
		}
		timer.Reset(max(wake.Sub(s.cfg.Clock.Now()), 0))
		select {
		case <-loopCtx.Done():
			return
		case <-timer.C:
		}
		now := s.cfg.Clock.Now()
		if !now.Before(nextElect) {
			s.elect(enqueueCtx, now, &electFailures)
			nextElect = now.Add(renewEvery)
			continue
		}
		if now.Before(next.next) {
			continue // woke early (a clock that is not the system's)
		}
		tick := next.next
		if s.leader.Load() {
			if err := s.enqueueTick(enqueueCtx, next, tick); err != nil {
				enqueueFailures.Failed(log, "jobs: enqueueing a periodic job failed", err)
			} else {
				enqueueFailures.Recovered(log, "jobs: enqueueing periodic jobs works again")
			}
		}
		// A scheduler that fell behind (a slow broker, a loaded machine)
		// enqueues the ticks it missed, which are unique, so another
		// scheduler's enqueue of the same tick is not doubled; ticks older
		// than the catch-up window, missed while no scheduler could reach
		// the broker, are skipped.
		next.next = next.sched.Next(tick)
		if oldest := s.cfg.Clock.Now().Add(-next.catchUp()); next.next.Before(oldest) {
			next.next = next.sched.Next(oldest)
		}
	}
}

// elect takes or renews the leadership. A scheduler that becomes leader
// goes back over the ticks of the last term and renewal (when the previous
// leader may have died without enqueueing them); those the previous leader
// did enqueue are duplicates, which their unique keys drop.
func (s *Scheduler) elect(ctx context.Context, now time.Time, fl *service.FailureLog) {
	ctx, cancel := context.WithTimeout(ctx, max(s.cfg.LeaderTTL/3, time.Second))
	defer cancel()
	ok, err := s.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{
		Name: schedulerLeaderName, Token: s.token, TTL: s.cfg.LeaderTTL, Now: now})
	if err != nil {
		// It cannot renew, so it must assume another takes over.
		fl.Failed(s.cfg.Logger, "jobs: scheduler: the leader lock is unreachable; not enqueueing", err)
		ok = false
	} else {
		fl.Recovered(s.cfg.Logger, "jobs: scheduler: the leader lock is reachable again")
	}
	was := s.leader.Swap(ok)
	switch {
	case ok && !was:
		s.cfg.Logger.Info("jobs: scheduler: leading: enqueueing periodic jobs", "periodic_jobs", s.Names())
		for _, e := range s.entries {
			from := now.Add(-s.cfg.LeaderTTL - s.cfg.LeaderTTL/3)
			if oldest := now.Add(-e.catchUp()); from.Before(oldest) {
				from = oldest
			}
			if from.Before(s.startedAt) {
				from = s.startedAt
			}
			if back := e.sched.Next(from); back.Before(e.next) {
				e.next = back
			}
		}
	case !ok && was:
		s.cfg.Logger.Warn("jobs: scheduler: lost the leadership; standing by")
	}
}

// enqueueTick enqueues one tick's job, unique on the schedule's name and the
// tick, held long enough that a scheduler running late cannot enqueue the
// tick again.
func (s *Scheduler) enqueueTick(ctx context.Context, e *periodicEntry, tick time.Time) error {
	var opts EnqueueOpts
	if e.job.Opts != nil {
		opts = *e.job.Opts
	}
	opts.Unique = &UniqueOpts{
		Key: "periodic:" + e.job.Name + ":" + tick.UTC().Format(time.RFC3339Nano),
		TTL: e.uniqueTTL(),
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	j, err := s.client.Enqueue(ctx, e.job.Type, e.job.Args, &opts)
	if err != nil {
		return fmt.Errorf("periodic job %s at %s: %w", e.job.Name, tick.Format(time.RFC3339), err)
	}
	if !j.Duplicate {
		s.cfg.Logger.Debug("jobs: periodic job enqueued", "name", e.job.Name, "tick", tick, "job_id", j.ID)
	}
	return nil
}
