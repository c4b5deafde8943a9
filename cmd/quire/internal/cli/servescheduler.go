package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/jobs"
)

// runScheduler runs the scheduler role: a jobs.Scheduler that enqueues the
// periodic jobs (the pipeline's sweep) at their ticks, with the probes and
// metrics on --addr. It fetches no jobs.
//
// Several replicas may run: they elect a leader through the broker's leader
// lock, and only the leader enqueues; a standby takes over within the lock's
// term (jobs.LeaderTTLDefault) when the leader dies, at once when it stops.
// Each tick's enqueue is also unique on the schedule's name and the tick, so
// that two schedulers that both believe they lead, and any jobs.Server
// carrying the same PeriodicJobs (quire up), still enqueue a tick once.
//
// SIGTSTP quiets it (no more ticks, the leadership resigned, /readyz 503).
// At SIGTERM it does the same; an enqueue in flight gets --shutdown-timeout
// to finish.
func runScheduler(ctx context.Context, a *app, cfg *serveConfig, _ map[string]int) error {
	b, err := openBroker(&a.global)
	if err != nil {
		return err
	}
	defer b.Close()
	sched, err := jobs.NewScheduler(b.driver, &jobs.SchedulerConfig{PeriodicJobs: a.periodicJobs(), Logger: a.log})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	m := metrics.New()
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "quire_scheduler_leader",
		Help: "1 while this scheduler leads and enqueues the periodic jobs, 0 while it stands by.",
	}, func() float64 {
		if sched.Leader() {
			return 1
		}
		return 0
	}))
	var ln net.Listener
	if cfg.Addr != "" {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s %q: %w", setting("addr"), cfg.Addr, err)
		}
	}

	if err := sched.Start(ctx); err != nil {
		return err
	}
	// ready mirrors the scheduler for the probes: a standby is ready too,
	// for it takes over when the leader goes.
	var ready atomic.Bool
	httpDone := make(chan error, 1)
	probes := a.startProbes(ln, &ready, m, cfg.Web.servers(), httpDone)
	ready.Store(true)
	a.log.Info("serve: scheduler started", append(slices.Clone(b.attrs), "periodic_jobs", sched.Names(), "version", buildinfo.Version)...)

	if a.quietSignals != nil {
		sigs, stop := a.quietSignals()
		defer stop()
		quietDone := make(chan struct{})
		defer close(quietDone)
		go func() {
			select {
			case <-sigs:
				a.log.Info("serve: scheduler: quiet: no more ticks")
				ready.Store(false)
				sched.Quiet()
			case <-quietDone:
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
	waitCtx, cancel := shutdownContext(ctx, cfg.ShutdownTimeout)
	defer cancel()
	if err := sched.Stop(waitCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("scheduler: %w", err))
	}
	return errors.Join(runErr, closeProbes(ctx, probes))
}
