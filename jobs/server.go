package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs/internal/canceller"
	"github.com/quirehq/quire/jobs/internal/completer"
	"github.com/quirehq/quire/jobs/internal/fetcher"
	"github.com/quirehq/quire/jobs/internal/heartbeat"
	"github.com/quirehq/quire/jobs/internal/lease"
	"github.com/quirehq/quire/jobs/internal/maintenance"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Server fetches jobs from its queues and runs them with the registered
// handlers.
//
// Its goroutines and what each owns:
//   - the fetcher takes batches of jobs under a lease and hands them to the
//     workers; it owns the idle state and the per-queue pause flags;
//   - one waiter per queue blocks on the broker while the fetcher is idle,
//     so a new job is picked up within a round trip and nothing polls;
//   - Concurrency workers run jobs and send their outcomes to the completer;
//   - the completer records outcomes in batches (one round trip for many
//     jobs) and then forgets the leases;
//   - the heartbeat extends the leases of every held job and records the
//     process;
//   - the maintainer moves due scheduled jobs and retries to their queues
//     and rescues jobs whose lease expired (a worker that died).
//
// Shutdown has two phases, as in Sidekiq: Quiet stops fetching and hands
// back jobs that have not started; Stop then waits for running jobs up to
// ShutdownTimeout, cancels the rest and hands them back at once.
type Server struct {
	cfg    Config
	driver jobdriver.Driver
	log    *slog.Logger
	clock  jobtype.Clock
	queues []string              // by descending weight, then name
	info   jobdriver.ProcessInfo // identity; the heartbeat fills in the rest

	sched *Scheduler // enqueues PeriodicJobs; nil without them

	// The services, each in its own package under internal/, share only
	// the held jobs. Start starts background first, then the completer,
	// the workers and the fetcher; Stop stops them in the reverse order.
	leases     *lease.Set           // every job held until its outcome is recorded
	exec       *executor            // runs one job; shared by the workers
	fetcher    *fetcher.Fetcher     // and its waiters; stopped by Quiet
	completer  *completer.Completer // records outcomes in batches
	background []startStopper       // heartbeat, promoter, rescuer, canceller; built by Start

	startOnce sync.Once
	stopOnce  sync.Once
	quietOnce sync.Once
	started   atomic.Bool
	stopErr   error

	jobCtx      context.Context // parent of every job's context; cancelled at hard stop
	jobCancel   context.CancelFunc
	quietCtx    context.Context // fetcher and scheduler; cancelled by Quiet
	quietStop   context.CancelFunc
	schedCancel context.CancelFunc // the scheduler's enqueue in flight and resignation

	// Batches (issue #21): the client fires callbacks; the sweep runs until
	// sweepStop is closed.
	batches   *Client
	sweepStop chan struct{}
	sweepWG   sync.WaitGroup

	workerWG sync.WaitGroup
	schedWG  sync.WaitGroup
}

// startStopper is what the server needs of a background service.
type startStopper interface {
	Start(ctx context.Context) error
	Stop()
}

// NewServer returns a server that runs jobs from d. It does nothing until
// Start or Run.
func NewServer(d Driver, cfg *Config) (*Server, error) {
	if d == nil {
		return nil, errors.New("jobs: NewServer needs a driver")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	var sched *Scheduler
	if len(c.PeriodicJobs) > 0 {
		var err error
		sched, err = NewScheduler(d, &SchedulerConfig{PeriodicJobs: c.PeriodicJobs, Clock: c.Clock, Logger: c.Logger})
		if err != nil {
			return nil, fmt.Errorf("jobs: invalid server config: %w", err)
		}
	}
	s := &Server{
		sched:  sched,
		cfg:    c,
		driver: d,
		log:    c.Logger,
		clock:  c.Clock,
		leases: lease.NewSet(),
	}
	for q := range c.Queues {
		s.queues = append(s.queues, q)
	}
	slices.SortFunc(s.queues, func(a, b string) int {
		if wa, wb := c.Queues[a], c.Queues[b]; wa != wb {
			return wb - wa
		}
		if a < b {
			return -1
		}
		return 1
	})
	s.exec = newExecutor(c, s.leases)
	host, _ := os.Hostname()
	id := c.ProcessID
	if id == "" {
		id = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()&0xffffff, 36)
	}
	s.info = jobdriver.ProcessInfo{
		ID: id, Host: host, PID: os.Getpid(), Queues: s.queues,
		Concurrency: c.Concurrency, Version: c.Version, Labels: c.Labels,
	}
	maxHeld := c.Concurrency + min(c.FetchBatchSize, c.Concurrency)
	s.batches, _ = NewClient(d, &ClientConfig{Clock: c.Clock, BatchRetention: c.BatchRetention}) // fails only without a driver
	s.sweepStop = make(chan struct{})
	// Batch jobs' outcomes are recorded in their batches before the jobs
	// leave their queues, or with them where the driver can do both at
	// once (jobdriver.BatchCompleter).
	var completeDriver completer.Driver = d
	before := func(ctx context.Context, cs []jobdriver.Completion) error {
		return s.batches.recordBatchOutcomes(ctx, s.log, cs)
	}
	if bc, ok := d.(jobdriver.BatchCompleter); ok {
		completeDriver, before = &batchCompleter{d: bc, c: s.batches, log: s.log}, nil
	}
	s.completer = completer.New(completeDriver, &completer.Config{
		BatchMax: completeBatchMax, Capacity: maxHeld, Clock: c.Clock, Leases: s.leases, Logger: c.Logger,
		BeforeFunc: before,
		AfterFunc:  s.uncapQueues,
	})
	s.fetcher = fetcher.New(d, &fetcher.Config{
		BatchSize: c.FetchBatchSize, Clock: c.Clock, LeaseDuration: c.LeaseDuration, LeaseOwner: id,
		Leases: s.leases, Logger: c.Logger, MaxHeld: maxHeld, PollInterval: c.PollInterval,
		Queues: s.queues, StrictPriority: c.StrictPriority, Weights: c.Queues, MaxRunning: c.QueueGlobalLimits,
		HandBackFunc: func(h *lease.Held) { s.finish(h, requeue(h)) },
	})
	return s, nil
}

// ID returns the process id the server registers under.
func (s *Server) ID() string { return s.info.ID }

// Start starts fetching and running jobs and returns at once. It fails only
// if called twice; a broker that is down is retried in the background.
func (s *Server) Start(ctx context.Context) error {
	err := errors.New("jobs: server already started")
	s.startOnce.Do(func() {
		err = nil
		ctx = context.WithoutCancel(ctx)
		s.jobCtx, s.jobCancel = context.WithCancel(ctx)
		s.quietCtx, s.quietStop = context.WithCancel(ctx)
		s.info.StartedAt = s.clock.Now().UTC()
		s.started.Store(true)

		c := s.cfg
		s.background = []startStopper{
			heartbeat.New(s.driver, &heartbeat.Config{
				Clock: c.Clock, Info: s.info, LeaseDuration: c.LeaseDuration, Leases: s.leases, Logger: c.Logger,
				ProcessHeartbeat: c.ProcessHeartbeat, ProcessTTL: processRecordTTLMultiple * c.ProcessHeartbeat,
				QuietFunc: s.IsQuiet,
			}),
			maintenance.NewPromoter(s.driver, &maintenance.Config{
				Clock: c.Clock, Interval: c.PollInterval, Logger: c.Logger, Queues: s.queues, WakeFunc: s.fetcher.Wake,
			}),
			maintenance.NewRescuer(s.driver, &maintenance.Config{
				Clock: c.Clock, Interval: c.LeaseDuration / 2, Logger: c.Logger, Queues: s.queues, WakeFunc: s.fetcher.Wake,
			}),
			canceller.New(s.driver, &canceller.Config{Cause: ErrJobCancelled, Leases: s.leases, Logger: c.Logger}),
		}
		for _, svc := range s.background {
			_ = svc.Start(ctx) // fails only when started twice
		}
		_ = s.completer.Start(ctx)
		if c.BatchSweepInterval > 0 {
			s.sweepWG.Add(1)
			go s.sweepBatches(ctx)
		}
		s.workerWG.Add(c.Concurrency)
		for range c.Concurrency {
			go s.runWorker()
		}
		_ = s.fetcher.Start(s.quietCtx)
		if s.sched != nil {
			// The scheduler stops with fetching (Quiet); an enqueue in
			// flight and the resignation run until the background stops.
			var schedCtx context.Context
			schedCtx, s.schedCancel = context.WithCancel(ctx)
			s.schedWG.Add(1)
			go func() {
				defer s.schedWG.Done()
				s.sched.run(s.quietCtx, schedCtx)
			}()
		}
		s.log.Info("jobs: server started", "process_id", s.info.ID, "queues", s.queues,
			"concurrency", c.Concurrency, "strict_priority", c.StrictPriority)
	})
	return err
}

// Run starts the server, blocks until ctx is done, then stops it gracefully.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx := context.Background()
	if s.cfg.ShutdownTimeout > 0 {
		// Handlers that ignore cancellation get a little longer, then are
		// left behind: their jobs were already handed back.
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, s.cfg.ShutdownTimeout+stopGrace)
		defer cancel()
	}
	return s.Stop(stopCtx)
}

// stopGrace is how long Run waits, past the shutdown timeout, for cancelled
// handlers to return.
const stopGrace = 10 * time.Second

// IsQuiet reports whether Quiet or Stop was called.
func (s *Server) IsQuiet() bool { return s.started.Load() && s.quietCtx.Err() != nil }

// Quiet stops fetching and hands jobs that have not started back to their
// queues. Running jobs go on. It is safe to call more than once.
func (s *Server) Quiet() {
	if !s.started.Load() {
		return
	}
	s.quietOnce.Do(func() {
		s.log.Info("jobs: quiet: no more fetching", "process_id", s.info.ID)
		s.quietStop()
	})
}

// Ready reports whether the fetch loop is running: the server is started
// and not quiet.
func (s *Server) Ready() bool { return s.fetcher.Ready() }

// FetchLoopBeat returns when the fetch loop last turned. The loop turns at
// least every PollInterval, even when idle or when the broker is down, so a
// stale beat means the process is stuck, not that a dependency is out.
func (s *Server) FetchLoopBeat() time.Time { return s.fetcher.Beat() }

// Expired counts the jobs this server sent to the dead set because they
// were fetched after their deadline (EnqueueOpts.ExpiresAt), for metrics.
func (s *Server) Expired() int64 { return s.exec.expired.Load() }

// Busy returns how many jobs are running.
func (s *Server) Busy() int {
	n, _ := s.leases.Busy(0)
	return n
}

// Stop shuts the server down: it stops fetching, lets running jobs finish
// within ShutdownTimeout (or until ctx is done), then cancels the jobs still
// running and hands them back to their queues at once, records every
// outcome and removes the process record. It is safe to call more than once.
func (s *Server) Stop(ctx context.Context) error {
	if !s.started.Load() {
		return nil
	}
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

// stop stops the services in the reverse order of Start: the fetcher (it
// hands back the jobs no worker took), the workers (at the deadline, the
// jobs still running are handed back), the completer (it records every
// outcome first), then the background services.
func (s *Server) stop(ctx context.Context) error {
	s.Quiet()
	s.fetcher.Stop()

	workersDone := make(chan struct{})
	go func() { s.workerWG.Wait(); close(workersDone) }()
	var timeout <-chan time.Time
	if s.cfg.ShutdownTimeout > 0 {
		t := time.NewTimer(s.cfg.ShutdownTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var errs []error
	select {
	case <-workersDone:
	case <-timeout:
		errs = append(errs, s.handBack(ctx))
	case <-ctx.Done():
		errs = append(errs, s.handBack(context.WithoutCancel(ctx)))
	}
	// Handlers were cancelled; give them until ctx is done to return.
	select {
	case <-workersDone:
	case <-ctx.Done():
		s.log.Warn("jobs: stop: handlers still running after cancellation; their jobs were handed back",
			"process_id", s.info.ID)
	}
	s.jobCancel()
	s.completer.Stop()
	close(s.sweepStop)
	s.sweepWG.Wait()
	if s.schedCancel != nil {
		// Quiet ended the scheduler's loop; its resignation (and an
		// enqueue in flight) may still be on the way to the broker, and
		// cancelling it would leave the leadership to expire rather than
		// pass at once. Each of its calls is bounded; ctx bounds them all.
		schedDone := make(chan struct{})
		go func() { s.schedWG.Wait(); close(schedDone) }()
		select {
		case <-schedDone:
		case <-ctx.Done():
		}
		s.schedCancel()
	}
	s.schedWG.Wait()
	for i := len(s.background) - 1; i >= 0; i-- {
		s.background[i].Stop()
	}
	rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.driver.ProcessRemove(rmCtx, &jobdriver.ProcessRemoveParams{ID: s.info.ID}); err != nil {
		errs = append(errs, err)
	}
	s.log.Info("jobs: server stopped", "process_id", s.info.ID)
	return errors.Join(errs...)
}

// handBack cancels the jobs still running or waiting and returns them to the
// front of their queues at once, rather than after their lease expires.
func (s *Server) handBack(ctx context.Context) error {
	hs := s.leases.HandBack()
	s.jobCancel()
	if len(hs) == 0 {
		return nil
	}
	back := make([]jobdriver.Completion, len(hs))
	for i, h := range hs {
		back[i] = requeue(h)
	}
	s.log.Warn("jobs: shutdown timeout: cancelling running jobs and handing them back",
		"process_id", s.info.ID, "num_jobs", len(back))
	err := s.completer.CompleteWithRetry(ctx, back, completer.StopTries)
	s.leases.Remove(hs...)
	if err != nil {
		return fmt.Errorf("hand back %d jobs (they return when their lease expires): %w", len(back), err)
	}
	return nil
}

// runWorker runs jobs until the fetcher closes the work channel. Once the
// server is quiet, jobs that have not started are handed back instead.
func (s *Server) runWorker() {
	defer s.workerWG.Done()
	for h := range s.fetcher.Work() {
		if s.quietCtx.Err() != nil {
			s.finish(h, requeue(h))
			continue
		}
		s.finish(h, s.exec.execute(s.jobCtx, h))
	}
}

// finish frees the job's slot and sends its outcome to the completer, unless
// the job was handed back at shutdown.
func (s *Server) finish(h *lease.Held, c jobdriver.Completion) {
	ok := s.leases.Finish(h)
	s.fetcher.Release()
	if ok {
		s.completer.Complete(h, c)
	}
}

// uncapQueues tells the fetcher which capped queues (QueueGlobalLimits) had
// jobs leave the broker's count, so it tries them again at once.
func (s *Server) uncapQueues(cs []jobdriver.Completion) {
	if len(s.cfg.QueueGlobalLimits) == 0 {
		return
	}
	var qs []string
	for _, c := range cs {
		if _, ok := s.cfg.QueueGlobalLimits[c.Job.Queue]; ok && !slices.Contains(qs, c.Job.Queue) {
			qs = append(qs, c.Job.Queue)
		}
	}
	if len(qs) > 0 {
		s.fetcher.Uncap(qs...)
	}
}

// requeue is the outcome of a job handed back unchanged.
func requeue(h *lease.Held) jobdriver.Completion {
	return jobdriver.Completion{Job: &h.Job, Outcome: jobdriver.OutcomeRequeue}
}
