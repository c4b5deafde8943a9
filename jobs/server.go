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
	cfg     Config
	driver  jobdriver.Driver
	log     *slog.Logger
	clock   jobtype.Clock
	queues  []string // by descending weight, then name
	chains  map[string]HandlerFunc
	noChain HandlerFunc
	maxHeld int
	info    jobdriver.ProcessInfo // identity; the heartbeat fills in the rest

	sched *Scheduler // enqueues PeriodicJobs; nil without them

	startOnce sync.Once
	stopOnce  sync.Once
	quietOnce sync.Once
	started   atomic.Bool
	stopErr   error

	bgCtx     context.Context // heartbeat and maintainer; cancelled last
	bgCancel  context.CancelFunc
	jobCtx    context.Context // parent of every job's context; cancelled at hard stop
	jobCancel context.CancelFunc
	quietCtx  context.Context // fetcher and waiters; cancelled by Quiet
	quietStop context.CancelFunc

	work      chan *execution  // fetcher -> workers; closed when the fetcher exits
	completes chan *completion // workers -> completer
	freed     chan struct{}    // a worker finished a job (capacity); cap 1
	wake      chan struct{}    // a queue has jobs; cap 1
	compStop  chan struct{}    // tells the completer to flush and exit

	held      atomic.Int64 // jobs fetched and not yet finished or handed back
	fetchBeat atomic.Int64 // unix nanos of the fetch loop's last turn
	fetching  atomic.Bool

	fetcherWG   sync.WaitGroup
	workerWG    sync.WaitGroup
	completerWG sync.WaitGroup
	bgWG        sync.WaitGroup

	mu          sync.Mutex            // guards the fields below
	leased      map[string]*execution // by lease: every job held until its outcome is recorded
	paused      map[string]bool       // queues the broker reported paused
	idlePeriod  uint64                // number of the current idle period; 0 while fetching
	idleCount   uint64                // idle periods so far
	idleStarted chan struct{}         // closed when the next idle period begins
}

// execution is one held job. The fetcher creates it; fields after job are
// guarded by Server.mu.
type execution struct {
	job        Job // private copy: the handler gets its own
	startedAt  time.Time
	cancel     context.CancelCauseFunc // cancels the running handler; nil before it starts
	finished   bool                    // the outcome was sent to the completer
	handedBack bool                    // returned to its queue at shutdown: drop the outcome
}

type completion struct {
	ex *execution
	c  jobdriver.Completion
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
		sched:       sched,
		cfg:         c,
		driver:      d,
		log:         c.Logger,
		clock:       c.Clock,
		maxHeld:     c.Concurrency + min(c.FetchBatchSize, c.Concurrency),
		leased:      make(map[string]*execution),
		paused:      make(map[string]bool),
		idleStarted: make(chan struct{}),
		freed:       make(chan struct{}, 1),
		wake:        make(chan struct{}, 1),
		compStop:    make(chan struct{}),
	}
	s.work = make(chan *execution, s.maxHeld)
	s.completes = make(chan *completion, s.maxHeld)
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
	s.chains = make(map[string]HandlerFunc, len(c.Handlers.m))
	for t, h := range c.Handlers.m {
		s.chains[t] = s.wrap(h.fn)
	}
	s.noChain = s.wrap(func(_ context.Context, j *Job) error { return &NoHandlerError{Type: j.Type} })
	host, _ := os.Hostname()
	id := c.ProcessID
	if id == "" {
		id = host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()&0xffffff, 36)
	}
	s.info = jobdriver.ProcessInfo{
		ID: id, Host: host, PID: os.Getpid(), Queues: s.queues,
		Concurrency: c.Concurrency, Version: c.Version, Labels: c.Labels,
	}
	return s, nil
}

func (s *Server) wrap(fn HandlerFunc) HandlerFunc {
	for i := len(s.cfg.Middleware) - 1; i >= 0; i-- {
		fn = s.cfg.Middleware[i](fn)
	}
	return fn
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
		s.bgCtx, s.bgCancel = context.WithCancel(ctx)
		s.jobCtx, s.jobCancel = context.WithCancel(ctx)
		s.quietCtx, s.quietStop = context.WithCancel(ctx)
		s.info.StartedAt = s.clock.Now().UTC()
		s.started.Store(true)

		s.completerWG.Add(1)
		go s.runCompleter()
		s.workerWG.Add(s.cfg.Concurrency)
		for range s.cfg.Concurrency {
			go s.runWorker()
		}
		s.fetcherWG.Add(1 + len(s.queues))
		for _, q := range s.queues {
			go s.runWaiter(q)
		}
		s.fetching.Store(true)
		s.fetchBeat.Store(time.Now().UnixNano())
		go s.runFetcher()
		s.bgWG.Add(3)
		go s.runHeartbeat()
		go s.runMaintainer()
		go s.runCancelWatch()
		if s.sched != nil {
			// The scheduler stops with fetching (Quiet); an enqueue in
			// flight and the resignation run under bgCtx.
			s.bgWG.Add(1)
			go func() {
				defer s.bgWG.Done()
				s.sched.run(s.quietCtx, s.bgCtx)
			}()
		}
		s.log.Info("jobs: server started", "process_id", s.info.ID, "queues", s.queues,
			"concurrency", s.cfg.Concurrency, "strict_priority", s.cfg.StrictPriority)
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

// fetchTimeout bounds one fetch, so that a broker that hangs delays the fetch
// loop's beat by no more than this.
const fetchTimeout = 5 * time.Second

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
func (s *Server) Ready() bool { return s.fetching.Load() }

// FetchLoopBeat returns when the fetch loop last turned. The loop turns at
// least every PollInterval, even when idle or when the broker is down, so a
// stale beat means the process is stuck, not that a dependency is out.
func (s *Server) FetchLoopBeat() time.Time { return time.Unix(0, s.fetchBeat.Load()) }

// Busy returns how many jobs are running.
func (s *Server) Busy() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ex := range s.leased {
		if !ex.startedAt.IsZero() && !ex.finished && !ex.handedBack {
			n++
		}
	}
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

func (s *Server) stop(ctx context.Context) error {
	s.Quiet()
	s.fetcherWG.Wait()

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
	close(s.compStop)
	s.completerWG.Wait()
	s.bgCancel()
	s.bgWG.Wait()
	rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.driver.ProcessRemove(rmCtx, s.info.ID); err != nil {
		errs = append(errs, err)
	}
	s.log.Info("jobs: server stopped", "process_id", s.info.ID)
	return errors.Join(errs...)
}

// handBack cancels the jobs still running or waiting and returns them to the
// front of their queues at once, rather than after their lease expires.
func (s *Server) handBack(ctx context.Context) error {
	s.mu.Lock()
	var back []jobdriver.Completion
	for _, ex := range s.leased {
		if !ex.finished && !ex.handedBack {
			ex.handedBack = true
			back = append(back, jobdriver.Completion{Job: &ex.job, Outcome: jobdriver.OutcomeRequeue})
		}
	}
	s.mu.Unlock()
	s.jobCancel()
	if len(back) == 0 {
		return nil
	}
	s.log.Warn("jobs: shutdown timeout: cancelling running jobs and handing them back",
		"process_id", s.info.ID, "num_jobs", len(back))
	err := s.completeWithRetry(ctx, back, 3)
	s.mu.Lock()
	for _, c := range back {
		delete(s.leased, c.Job.Lease)
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("hand back %d jobs (they return when their lease expires): %w", len(back), err)
	}
	return nil
}

// runWorker runs jobs until the fetcher closes the work channel. Once the
// server is quiet, jobs that have not started are handed back instead.
func (s *Server) runWorker() {
	defer s.workerWG.Done()
	for ex := range s.work {
		if s.quietCtx.Err() != nil {
			s.finish(ex, jobdriver.Completion{Job: &ex.job, Outcome: jobdriver.OutcomeRequeue})
			continue
		}
		s.execute(ex)
	}
}

func (s *Server) execute(ex *execution) {
	j := ex.job // the handler's copy
	fn := s.chains[j.Type]
	timeout := j.Timeout
	if fn == nil {
		fn = s.noChain
	} else if timeout == 0 {
		timeout = s.cfg.Handlers.m[j.Type].opts.Timeout
	}
	timeout = cmpOr(timeout, s.cfg.JobTimeout)
	ctx, cancelJob := context.WithCancelCause(s.jobCtx)
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	now := s.clock.Now()
	s.mu.Lock()
	ex.startedAt = now
	ex.cancel = cancelJob
	s.mu.Unlock()
	err := safeCall(ctx, fn, &j)
	cancel()
	cancelJob(nil)
	if err != nil && errors.Is(context.Cause(ctx), ErrJobCancelled) {
		// Whatever the handler made of its cancellation, the job is over.
		err = fmt.Errorf("%w: %w", ErrJobCancelled, err)
	}
	s.finish(ex, s.outcome(ex, err))
}

func cmpOr(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

func safeCall(ctx context.Context, fn HandlerFunc, j *Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: stack()}
		}
	}()
	return fn(ctx, j)
}

// errorMax caps the error text stored with a job.
const errorMax = 16 << 10

// outcome turns a handler's result into where the job goes next.
func (s *Server) outcome(ex *execution, err error) jobdriver.Completion {
	j := &ex.job
	c := jobdriver.Completion{Job: j, Outcome: jobdriver.OutcomeDone}
	if err == nil {
		return c
	}
	now := s.clock.Now()
	u := *j
	u.Lease = ""
	var snooze *SnoozeError
	if errors.As(err, &snooze) {
		u.Attempt--
		u.ScheduledAt = now.Add(snooze.Delay)
		c.Outcome, c.Updated = jobdriver.OutcomeSnooze, &u
		return c
	}
	msg := err.Error()
	if len(msg) > errorMax {
		msg = msg[:errorMax] + "…"
	}
	u.Error, u.FailedAt = msg, now
	var discard *DiscardError
	var panicked *PanicError
	switch {
	case errors.Is(err, ErrJobCancelled):
		c.Outcome = jobdriver.OutcomeDead
		s.log.Info("jobs: running job cancelled", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt)
	case errors.As(err, &discard):
		c.Outcome = jobdriver.OutcomeDead
		s.log.Warn("jobs: job discarded", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt, "error", msg)
	case j.Attempt > j.MaxRetries:
		c.Outcome = jobdriver.OutcomeDead
		s.log.Warn("jobs: job dead after its last attempt", "job_id", j.ID, "job_type", j.Type, "queue", j.Queue, "attempt", j.Attempt, "error", msg)
	default:
		c.Outcome = jobdriver.OutcomeRetry
		u.ScheduledAt = now.Add(s.retryDelay(j, err))
		level := slog.LevelInfo
		if errors.As(err, &panicked) {
			level = slog.LevelError
		}
		s.log.Log(context.Background(), level, "jobs: job failed, will retry", "job_id", j.ID, "job_type", j.Type,
			"queue", j.Queue, "attempt", j.Attempt, "retry_at", u.ScheduledAt, "error", msg)
	}
	c.Updated = &u
	return c
}

func (s *Server) retryDelay(j *Job, err error) time.Duration {
	if j.Backoff != nil {
		return backoffDelay(j.Backoff, j.Attempt)
	}
	if h := s.cfg.Handlers.m[j.Type]; h != nil && h.opts.RetryDelayFunc != nil {
		return h.opts.RetryDelayFunc(j.Attempt, err)
	}
	return s.cfg.RetryDelayFunc(j.Attempt, err)
}

// finish frees the job's slot and sends its outcome to the completer, unless
// the job was handed back at shutdown.
func (s *Server) finish(ex *execution, c jobdriver.Completion) {
	s.mu.Lock()
	back := ex.handedBack
	if !back {
		ex.finished = true
	}
	s.mu.Unlock()
	s.held.Add(-1)
	select {
	case s.freed <- struct{}{}:
	default:
	}
	if !back {
		s.completes <- &completion{ex: ex, c: c}
	}
}

// runCompleter records outcomes in batches: it takes what has accumulated
// while the previous batch was in flight, so batches grow with load and no
// timer is needed.
func (s *Server) runCompleter() {
	defer s.completerWG.Done()
	batch := make([]*completion, 0, completeBatchMax)
	for {
		stopping := false
		select {
		case c := <-s.completes:
			batch = append(batch, c)
		case <-s.compStop:
			stopping = true
		}
	drain:
		for len(batch) < completeBatchMax {
			select {
			case c := <-s.completes:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			s.flush(batch, stopping)
			clear(batch)
			batch = batch[:0]
			if stopping {
				continue // drain everything before exiting
			}
		}
		if stopping {
			return
		}
	}
}

func (s *Server) flush(batch []*completion, stopping bool) {
	cs := make([]jobdriver.Completion, len(batch))
	for i, c := range batch {
		cs[i] = c.c
	}
	tries := 0 // until it works, while running; a few times when stopping
	if stopping {
		tries = 3
	}
	if err := s.completeWithRetry(s.bgCtx, cs, tries); err != nil {
		s.log.Error("jobs: could not record outcomes; the jobs run again when their lease expires",
			"num_jobs", len(cs), "error", err)
	}
	s.mu.Lock()
	for _, c := range batch {
		delete(s.leased, c.ex.job.Lease)
	}
	s.mu.Unlock()
}

// completeWithRetry records outcomes, retrying with backoff while the broker
// is unreachable; tries 0 retries until ctx is done.
func (s *Server) completeWithRetry(ctx context.Context, cs []jobdriver.Completion, tries int) error {
	var fl failureLog
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		res, err := s.driver.JobCompleteMany(cctx, &jobdriver.JobCompleteManyParams{Completions: cs, Now: s.clock.Now()})
		cancel()
		if err == nil {
			fl.recovered(s.log, "jobs: recording outcomes works again")
			if res.Stale > 0 {
				s.log.Warn("jobs: outcomes ignored: the jobs' leases had expired and they were rescued",
					"num_jobs", res.Stale)
			}
			return nil
		}
		if tries > 0 && attempt >= tries {
			return err
		}
		fl.failed(s.log, "jobs: recording outcomes failed; retrying", err)
		if !sleepCtx(ctx, backoff(attempt)) {
			return err
		}
	}
}

func (s *Server) enterIdle() {
	s.mu.Lock()
	s.idleCount++
	s.idlePeriod = s.idleCount
	close(s.idleStarted)
	s.idleStarted = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) leaveIdle() {
	s.mu.Lock()
	s.idlePeriod = 0
	s.mu.Unlock()
}

func (s *Server) wakeFetcher() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runWaiter blocks on one queue while the fetcher is idle and wakes it when
// the queue has a job. It waits at most once per idle period, so it does not
// spin while the fetcher drains the queue.
func (s *Server) runWaiter(queue string) {
	defer s.fetcherWG.Done()
	const waitTimeout = 2 * time.Second
	var last uint64
	failures := 0
	for s.quietCtx.Err() == nil {
		s.mu.Lock()
		period, next, paused := s.idlePeriod, s.idleStarted, s.paused[queue]
		s.mu.Unlock()
		if period == 0 || period == last || paused {
			select {
			case <-next:
			case <-s.quietCtx.Done():
			}
			continue
		}
		ok, err := s.driver.QueueWait(s.quietCtx, &jobdriver.QueueWaitParams{Queue: queue, Timeout: waitTimeout})
		if err != nil {
			// The fetcher reports broker failures; back off quietly here.
			failures++
			sleepCtx(s.quietCtx, backoff(failures))
			continue
		}
		failures = 0
		if ok {
			last = period
			s.wakeFetcher()
		}
	}
}

// runFetcher takes batches of jobs while there is room and hands them to the
// workers. When every queue is empty it idles until a waiter or the
// maintainer wakes it, or PollInterval passes.
func (s *Server) runFetcher() {
	defer s.fetcherWG.Done()
	defer s.handBackWaiting()
	defer s.fetching.Store(false)
	var fl failureLog
	order := make([]string, 0, len(s.queues))
	threshold := max(1, min(s.cfg.FetchBatchSize, s.maxHeld)/2)
	failures := 0
	for s.quietCtx.Err() == nil {
		s.fetchBeat.Store(time.Now().UnixNano())
		free := s.maxHeld - int(s.held.Load())
		if free < threshold && (free <= 0 || len(s.work) > 0) {
			select {
			case <-s.freed:
			case <-s.quietCtx.Done():
			case <-time.After(s.cfg.PollInterval):
			}
			continue
		}
		order = s.queueOrder(order[:0])
		got := 0
		var err error
	queues:
		for _, q := range order {
			// Stay on a queue while it fills whole batches: a later queue is
			// tried only once this one has run dry.
			for got < free {
				want := min(free-got, s.cfg.FetchBatchSize)
				var n int
				if n, err = s.fetch(q, want); err != nil {
					break queues
				}
				got += n
				if n < want {
					break
				}
			}
		}
		if err != nil {
			failures++
			fl.failed(s.log, "jobs: fetching failed; backing off", err)
			s.sleepBeating(backoff(failures))
			continue
		}
		if failures > 0 {
			failures = 0
			fl.recovered(s.log, "jobs: fetching works again")
		}
		if got == 0 {
			s.idle()
		}
	}
}

// handBackWaiting closes the work channel and returns the jobs still in it,
// which no worker has started, to their queues at once: a busy worker would
// otherwise only see them when its current job ends.
func (s *Server) handBackWaiting() {
	close(s.work)
	for ex := range s.work {
		s.finish(ex, jobdriver.Completion{Job: &ex.job, Outcome: jobdriver.OutcomeRequeue})
	}
}

// sleepBeating sleeps for d while keeping the fetch loop's beat fresh, so a
// broker outage never looks like a stuck process to a liveness probe.
func (s *Server) sleepBeating(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		if !sleepCtx(s.quietCtx, min(time.Until(end), s.cfg.PollInterval)) {
			return
		}
		s.fetchBeat.Store(time.Now().UnixNano())
	}
}

func (s *Server) idle() {
	s.enterIdle()
	defer s.leaveIdle()
	t := time.NewTimer(s.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-s.wake:
	case <-s.quietCtx.Done():
	case <-t.C:
	}
}

// fetch takes up to want jobs from one queue and hands them to the workers.
func (s *Server) fetch(queue string, want int) (int, error) {
	now := s.clock.Now()
	ctx, cancel := context.WithTimeout(s.quietCtx, fetchTimeout)
	defer cancel()
	res, err := s.driver.JobFetch(ctx, &jobdriver.JobFetchParams{
		Queue: queue, Max: want, Now: now, LeaseOwner: s.info.ID,
		LeaseUntil: now.Add(s.cfg.LeaseDuration),
	})
	if err != nil {
		if s.quietCtx.Err() != nil {
			return 0, nil
		}
		return 0, err
	}
	if res.Undecodable > 0 {
		s.log.Error("jobs: entries that are not jobs were moved to the dead set", "queue", queue, "num_entries", res.Undecodable)
	}
	s.mu.Lock()
	s.paused[queue] = res.Paused
	exs := make([]*execution, len(res.Jobs))
	for i, j := range res.Jobs {
		j.Attempt++
		ex := &execution{job: *j}
		exs[i] = ex
		s.leased[j.Lease] = ex
	}
	s.mu.Unlock()
	s.held.Add(int64(len(exs)))
	for _, ex := range exs {
		s.work <- ex
	}
	return len(exs), nil
}

// queueOrder returns the queues in the order to try them this round.
func (s *Server) queueOrder(buf []string) []string {
	buf = append(buf, s.queues...)
	if s.cfg.StrictPriority || len(buf) < 2 {
		return buf
	}
	// Weighted sampling without replacement: the same distribution as
	// Sidekiq's shuffle of a list holding each queue weight times.
	total := 0
	for _, q := range buf {
		total += s.cfg.Queues[q]
	}
	for i := range buf {
		r := rand.IntN(total)
		for k := i; k < len(buf); k++ {
			w := s.cfg.Queues[buf[k]]
			if r < w {
				buf[i], buf[k] = buf[k], buf[i]
				total -= w
				break
			}
			r -= w
		}
	}
	return buf
}
