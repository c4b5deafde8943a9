package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
)

// runScheduler runs the scheduler role: it enqueues the periodic jobs (the
// pipeline's sweep) at their ticks and fetches no jobs, with the probes and
// metrics on --addr.
//
// No leader lock is taken, because none is needed: every tick is enqueued
// as a unique job keyed on the schedule's name and the tick, held for at
// least twice the period (see periodicScheduler), so any number of
// schedulers, and any jobs.Server carrying the same PeriodicJobs (quire up),
// enqueue each tick once. Two replicas cost one duplicate enqueue round trip
// per tick, and a standby never has to notice that the leader died.
//
// SIGTSTP quiets it (no more ticks, /readyz 503). At SIGTERM it stops
// taking ticks; an enqueue in flight gets --shutdown-timeout to finish.
func runScheduler(ctx context.Context, a *app, cfg *serveConfig, _ map[string]int) error {
	b, err := openBroker(&a.global)
	if err != nil {
		return err
	}
	defer b.Close()
	client, err := jobs.NewClient(b.driver, nil)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	sched, err := newPeriodicScheduler(client, a.periodicJobs(), a.log)
	if err != nil {
		return err
	}
	m := newMetrics()
	var ln net.Listener
	if cfg.Addr != "" {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s %q: %w", setting("addr"), cfg.Addr, err)
		}
	}

	// loopCtx ends the loop's waiting (SIGTERM, SIGTSTP); enqueueCtx, the
	// enqueue in flight, only once the shutdown timeout has passed.
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	enqueueCtx, cancelEnqueue := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelEnqueue()
	var ready atomic.Bool
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		sched.run(loopCtx, enqueueCtx)
		ready.Store(false)
	}()
	httpDone := make(chan error, 1)
	probes := a.startProbes(ln, &ready, m, httpDone)
	ready.Store(true)
	a.log.Info("serve: scheduler started", append(slices.Clone(b.attrs), "periodic_jobs", sched.names(), "version", buildinfo.Version)...)

	if a.quietSignals != nil {
		sigs, stop := a.quietSignals()
		defer stop()
		go func() {
			select {
			case <-sigs:
				a.log.Info("serve: scheduler: quiet: no more ticks")
				stopLoop()
			case <-loopDone:
			}
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpDone:
		a.log.Error("serve: scheduler: HTTP server failed; stopping", "error", runErr)
	}
	ready.Store(false)
	a.log.Info("serve: scheduler: stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	stopLoop()
	waitCtx, cancel := shutdownContext(ctx, cfg.ShutdownTimeout)
	defer cancel()
	select {
	case <-loopDone:
	case <-waitCtx.Done():
		cancelEnqueue()
		<-loopDone
		runErr = errors.Join(runErr, errors.New("scheduler: an enqueue was still running at the shutdown timeout; it was cancelled"))
	}
	return errors.Join(runErr, closeProbes(ctx, probes))
}

// periodicScheduler enqueues periodic jobs at their ticks without fetching
// jobs. jobs.Server runs its PeriodicJobs only next to a fetch loop, which
// the scheduler role must not run; so this loop enqueues the ticks itself,
// with the engine's rules (jobs/periodic.go) and its unique keys,
// "periodic:NAME:TICK" in RFC 3339 UTC, so that it shares each tick with any
// server that carries the same schedule. TestServeSchedulerSharesTicks
// fails if the two drift apart.
type periodicScheduler struct {
	client  *jobs.Client
	log     *slog.Logger
	entries []*periodicEntry // owned by run's goroutine once it starts
}

// periodicEntry is one schedule and its next tick.
type periodicEntry struct {
	job    jobs.PeriodicJob
	sched  interface{ Next(time.Time) time.Time }
	period time.Duration // about the time between ticks
	next   time.Time
}

// periodicUniqueTTLMin is the engine's shortest hold of a tick's unique key
// (jobs/periodic.go): a scheduler stalled longer could enqueue a tick twice.
const periodicUniqueTTLMin = 10 * time.Minute

// periodicEnqueueTimeout bounds one tick's enqueue, as in the engine.
const periodicEnqueueTimeout = 10 * time.Second

// newPeriodicScheduler checks the schedules; errors name the job.
func newPeriodicScheduler(client *jobs.Client, pjs []jobs.PeriodicJob, log *slog.Logger) (*periodicScheduler, error) {
	s := &periodicScheduler{client: client, log: log}
	var errs []error
	for _, pj := range pjs {
		sched, err := parseSchedule(pj.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("periodic job %s: schedule %q: %w", pj.Name, pj.Schedule, err))
			continue
		}
		t0 := sched.Next(time.Unix(0, 0).UTC().AddDate(56, 0, 0))
		s.entries = append(s.entries, &periodicEntry{job: pj, sched: sched, period: sched.Next(t0).Sub(t0)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if len(s.entries) == 0 {
		return nil, errors.New("scheduler: no periodic jobs to enqueue")
	}
	return s, nil
}

// parseSchedule reads a schedule as the engine does: "@every D" ticks at
// whole multiples of D since the Unix epoch, so that every scheduler agrees
// on the ticks; anything else is a standard cron expression, in UTC unless
// it names its zone.
func parseSchedule(spec string) (interface{ Next(time.Time) time.Time }, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d < 10*time.Millisecond {
			return nil, errors.New("@every needs a duration of at least 10ms")
		}
		return everyTick(d), nil
	}
	cs, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	return utcCron{cs}, nil
}

// everyTick ticks at multiples of its duration since the epoch.
type everyTick time.Duration

func (e everyTick) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

// utcCron evaluates a cron schedule in UTC unless it names its zone.
type utcCron struct{ cron.Schedule }

func (u utcCron) Next(t time.Time) time.Time { return u.Schedule.Next(t.UTC()) }

func (s *periodicScheduler) names() []string {
	out := make([]string, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.job.Name
	}
	return out
}

// run enqueues each tick until loopCtx is done. An enqueue runs under
// enqueueCtx, so that a stop lets it finish.
func (s *periodicScheduler) run(loopCtx, enqueueCtx context.Context) {
	now := time.Now()
	for _, e := range s.entries {
		e.next = e.sched.Next(now)
	}
	failing := false
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := s.entries[0]
		for _, e := range s.entries[1:] {
			if e.next.Before(next.next) {
				next = e
			}
		}
		timer.Reset(max(time.Until(next.next), 0))
		select {
		case <-loopCtx.Done():
			return
		case <-timer.C:
		}
		tick := next.next
		switch err := s.enqueueTick(enqueueCtx, next, tick); {
		case err != nil && !failing:
			s.log.Error("scheduler: enqueueing a periodic job failed", "error", err)
			failing = true
		case err == nil && failing:
			s.log.Info("scheduler: enqueueing periodic jobs works again")
			failing = false
		}
		// A scheduler that fell behind enqueues the ticks it missed within
		// half the unique key's hold, as the engine does: older ticks could
		// be enqueued a second time, so they are skipped.
		next.next = next.sched.Next(tick)
		if oldest := time.Now().Add(-next.uniqueTTL() / 2); next.next.Before(oldest) {
			next.next = next.sched.Next(oldest)
		}
	}
}

// enqueueTick enqueues one tick's job, unique on the schedule's name and the
// tick.
func (s *periodicScheduler) enqueueTick(ctx context.Context, e *periodicEntry, tick time.Time) error {
	var opts jobs.EnqueueOpts
	if e.job.Opts != nil {
		opts = *e.job.Opts
	}
	opts.Unique = &jobs.UniqueOpts{
		Key: "periodic:" + e.job.Name + ":" + tick.UTC().Format(time.RFC3339Nano),
		TTL: e.uniqueTTL(),
	}
	ctx, cancel := context.WithTimeout(ctx, periodicEnqueueTimeout)
	defer cancel()
	j, err := s.client.Enqueue(ctx, e.job.Type, e.job.Args, &opts)
	if err != nil {
		return fmt.Errorf("periodic job %s at %s: %w", e.job.Name, tick.Format(time.RFC3339), err)
	}
	if !j.Duplicate {
		s.log.Debug("scheduler: periodic job enqueued", "name", e.job.Name, "tick", tick, "job_id", j.ID)
	}
	return nil
}

// uniqueTTL is how long a tick's unique key is held, as in the engine.
func (e *periodicEntry) uniqueTTL() time.Duration {
	return max(2*e.period, periodicUniqueTTLMin)
}
