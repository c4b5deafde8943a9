package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/internal/modules"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/kserve"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/edge"
)

// The modules of a serve role. A role names its module; the graph starts
// what that module depends on first and stops it last.
const (
	modMetrics   = "metrics"   // the process's Prometheus registry
	modBroker    = "broker"    // the job driver (--redis-url or jobs.db)
	modStore     = "store"     // the relational store, migrated
	modBlobs     = "blobs"     // blob storage
	modDocuments = "documents" // cache, extractor, analyzer, pipeline
	modProbes    = "probes"    // /healthz, /readyz, /metrics on --addr
	modListener  = "listener"  // --http-addr bound, before the probes
	modWeb       = "web"       // the web UI and REST API on --http-addr
	modML        = "ml"        // the inference API on --http-addr
	modScheduler = "scheduler" // the periodic jobs' leader-elected enqueuer
)

// roleProcess is one serve role's process: what its modules opened, for the
// modules after them (the graph orders the calls; this carries the
// values), and the readiness its probes answer.
type roleProcess struct {
	a   *App
	cfg *ServeConfig
	// ready is /readyz's answer: set once every module started, cleared
	// when the process begins to stop or is quieted.
	ready atomic.Bool

	metrics *metrics.Metrics
	// listener is --http-addr's, bound before the probes' so that a taken
	// port fails the start before anything is served.
	listener net.Listener
	// probes is --addr's listener, nil when --addr is empty.
	probes net.Listener
	broker *Broker
	// queues and opts are the worker's (serve --role worker, up).
	queues map[string]int
	opts   *processOpts
	// api and apiEdge are up's web UI and API and its edge (modAPI).
	api     http.Handler
	apiEdge edge.Config
	store   store.Store
	blobs   *blob.Store
	docs    *Documents
}

// graph returns the modules of the serve roles.
func (p *roleProcess) graph() *modules.Graph {
	g := modules.NewGraph()
	g.Add(
		modules.Module{Name: modMetrics, Init: p.initMetrics},
		modules.Module{Name: modBroker, Init: p.initBroker},
		modules.Module{Name: modStore, Init: p.initStore},
		modules.Module{Name: modBlobs, Init: p.initBlobs},
		modules.Module{Name: modDocuments, Deps: []string{modStore, modBlobs, modBroker, modMetrics}, Init: p.initDocuments},
		modules.Module{Name: modProbes, Deps: []string{modMetrics}, Init: p.initProbes},
		modules.Module{Name: modListener, Init: p.initListener},
		modules.Module{Name: modWeb, Deps: []string{modDocuments, modListener, modProbes}, Init: p.initWeb},
		modules.Module{Name: modML, Deps: []string{modStore, modBlobs, modListener, modProbes}, Init: p.initML},
		modules.Module{Name: modScheduler, Deps: []string{modBroker, modProbes}, Init: p.initScheduler},
	)
	if p.opts != nil {
		p.workerModules(g)
	}
	return g
}

// runRole runs module and what it depends on until ctx is done or a server
// fails, then stops them: readiness off at once, the role drains within
// --shutdown-timeout, then the probes and the stores under it close.
func (a *App) runRole(ctx context.Context, cfg *ServeConfig, module string) error {
	p := &roleProcess{a: a, cfg: cfg}
	proc, err := p.graph().Start(ctx, module)
	if err != nil {
		return err
	}
	p.ready.Store(true)
	if a.Listening != nil && p.probes != nil {
		// Told once the role runs, so that a test finds every server.
		a.Listening(p.probes.Addr())
	}
	runErr := proc.Wait(ctx)
	if runErr != nil {
		a.Log.Error("serve: "+module+": HTTP server failed; stopping", "error", runErr)
	}
	p.ready.Store(false)
	a.Log.Info("serve: "+module+": stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	return errors.Join(runErr, proc.Stop(context.WithoutCancel(ctx)))
}

func (p *roleProcess) initMetrics(context.Context) (modules.Service, error) {
	p.metrics = metrics.New()
	return nil, nil
}

func (p *roleProcess) initBroker(context.Context) (modules.Service, error) {
	b, err := OpenBroker(&p.a.Config)
	if err != nil {
		return nil, err
	}
	p.broker = b
	return modules.Closer(b.Close), nil
}

func (p *roleProcess) initStore(ctx context.Context) (modules.Service, error) {
	st, err := OpenStore(ctx, &p.a.Config)
	if err != nil {
		return nil, err
	}
	p.store = st
	return modules.Closer(st.Close), nil
}

func (p *roleProcess) initBlobs(ctx context.Context) (modules.Service, error) {
	bs, err := p.a.Config.OpenBlobs(ctx)
	if err != nil {
		return nil, err
	}
	p.blobs = bs
	return modules.Closer(bs.Close), nil
}

func (p *roleProcess) initDocuments(ctx context.Context) (modules.Service, error) {
	var opts []func(*pipeline.Config)
	if p.opts != nil && p.opts.documents {
		// The worker runs the stages: their latencies are its metrics.
		opts = append(opts, p.metrics.ObserveStages)
	}
	d, err := openDocumentsOn(ctx, &p.a.Config, p.store, p.blobs, p.broker, p.a.Log, opts...)
	if err != nil {
		return nil, err
	}
	p.docs = d
	return modules.Closer(d.Close), nil
}

// initProbes serves /healthz, /readyz (the process's readiness) and
// /metrics on --addr; nothing when --addr is empty. The probes stop last,
// so that /readyz answers 503 while the role drains.
func (p *roleProcess) initProbes(context.Context) (modules.Service, error) {
	a, cfg := p.a, p.cfg
	if cfg.Addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s %q: %w", Setting("addr"), cfg.Addr, err)
	}
	hs := newProbeServer(&p.ready, p.metrics, a.Log, cfg.Web.Servers())
	a.willServe(ln, hs)
	a.Log.Info("serve: serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	p.probes = ln
	return &modules.HTTPServer{What: "probes", Server: hs, Listener: ln, DrainTimeout: probeCloseTimeout}, nil
}

// initListener binds --http-addr, which the web and ml roles serve their
// API on. Their server closes it; until then, a failed start does.
func (p *roleProcess) initListener(context.Context) (modules.Service, error) {
	cfg := p.cfg
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s %q: %w", Setting("http-addr"), cfg.HTTPAddr, err)
	}
	if p.a.ListeningHTTP != nil {
		p.a.ListeningHTTP(ln.Addr())
	}
	p.listener = ln
	return modules.Closer(func() error {
		if err := ln.Close(); !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}), nil
}

// initWeb serves the web UI and REST API on --http-addr. It fetches no
// jobs: uploads are stored and their first stage enqueued, for the workers
// to run. At stop the API stops accepting connections and its requests in
// flight get --shutdown-timeout to finish; Kubernetes' preStop sleep has
// by then taken the pod out of the Service, so no new request is refused.
func (p *roleProcess) initWeb(context.Context) (modules.Service, error) {
	a, cfg := p.a, p.cfg
	ec, err := cfg.Web.edge(false, cfg.HTTPAddr)
	if err != nil {
		return nil, err
	}
	web, err := a.newWebHandler(p.docs, p.broker.Driver, &cfg.Web, ec, false)
	if err != nil {
		return nil, err
	}
	ln := p.listener
	hs := ec.Server(p.metrics.Instrument(web))
	a.willServe(ln, hs)
	a.Log.Info("serve: web: serving the REST API", append(slices.Clone(p.broker.Attrs), "addr", ln.Addr().String(), "version", buildinfo.Version)...)
	return &modules.HTTPServer{What: "API", Server: hs, Listener: ln, DrainTimeout: cfg.ShutdownTimeout}, nil
}

// mlService is the ml role's inference API, with the reloader that swaps
// in newly activated versions.
type mlService struct {
	*modules.HTTPServer
	p        *roleProcess
	an       *ml.Analyzer
	reloader *mlpipeline.Reloader
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// initML serves Quire's active classifiers over the Open Inference Protocol
// (KServe v2 REST) on --http-addr, at /v2/models/{name}. It loads the
// active versions at start (readiness waits for it) and swaps in versions
// activated later without a restart (--ml-reload-interval).
func (p *roleProcess) initML(context.Context) (modules.Service, error) {
	a, cfg := p.a, p.cfg
	an, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Logger: a.Log})
	if err != nil {
		return nil, err
	}
	reloader, err := mlpipeline.NewReloader(&mlpipeline.ReloaderConfig{Analyzer: an, Store: p.store, Blobs: p.blobs,
		Interval: a.Config.ML.ReloadInterval, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	ln := p.listener
	ks := kserve.NewServer(&kserve.ServerConfig{Models: an, Ready: p.ready.Load, Version: buildinfo.Version, Logger: a.Log})
	hs := cfg.Web.Servers().Server(p.metrics.Instrument(ks))
	a.willServe(ln, hs)
	a.Log.Info("serve: ml: serving the inference API (KServe v2)", "addr", ln.Addr().String(), "version", buildinfo.Version)
	return &mlService{
		HTTPServer: &modules.HTTPServer{What: "inference API", Server: hs, Listener: ln, DrainTimeout: cfg.ShutdownTimeout},
		p:          p, an: an, reloader: reloader,
	}, nil
}

// Start serves, then loads the active versions: a version that cannot be
// read is logged, and the others are served.
func (s *mlService) Start(ctx context.Context) error {
	if err := s.HTTPServer.Start(ctx); err != nil {
		return err
	}
	if err := mlpipeline.Refresh(ctx, s.an, s.p.store, s.p.blobs); err != nil {
		s.p.a.Log.Error("serve: ml: active model versions not loaded", "error", err)
	}
	var rctx context.Context
	rctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Go(func() { _ = s.reloader.Run(rctx) })
	return nil
}

// Stop stops the reloader, then drains the inference requests.
func (s *mlService) Stop(ctx context.Context) error {
	if s.stop != nil {
		s.stop()
		s.wg.Wait()
	}
	return s.HTTPServer.Stop(ctx)
}

// schedulerService is the scheduler role's jobs.Scheduler.
type schedulerService struct {
	p     *roleProcess
	sched *jobs.Scheduler
	// quietDone ends the goroutine that quiets the scheduler at SIGTSTP.
	quietDone chan struct{}
	stopQuiet func()
}

// initScheduler enqueues the periodic jobs (the pipeline's sweep) at their
// ticks; it fetches no jobs.
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
func (p *roleProcess) initScheduler(context.Context) (modules.Service, error) {
	sched, err := jobs.NewScheduler(p.broker.Driver, &jobs.SchedulerConfig{PeriodicJobs: p.a.periodicJobs(), Logger: p.a.Log})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	p.metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "quire_scheduler_leader",
		Help: "1 while this scheduler leads and enqueues the periodic jobs, 0 while it stands by.",
	}, func() float64 {
		if sched.Leader() {
			return 1
		}
		return 0
	}))
	return &schedulerService{p: p, sched: sched}, nil
}

func (s *schedulerService) Start(ctx context.Context) error {
	a := s.p.a
	if err := s.sched.Start(ctx); err != nil {
		return err
	}
	a.Log.Info("serve: scheduler started", append(slices.Clone(s.p.broker.Attrs), "periodic_jobs", s.sched.Names(), "version", buildinfo.Version)...)
	if a.QuietSignals != nil {
		sigs, stop := a.QuietSignals()
		s.stopQuiet, s.quietDone = stop, make(chan struct{})
		go func() {
			select {
			case <-sigs:
				a.Log.Info("serve: scheduler: quiet: no more ticks")
				// A standby is ready too, for it takes over when the
				// leader goes; a quiet one is not.
				s.p.ready.Store(false)
				s.sched.Quiet()
			case <-s.quietDone:
			}
		}()
	}
	return nil
}

func (s *schedulerService) Stop(ctx context.Context) error {
	if s.quietDone != nil {
		close(s.quietDone)
		s.stopQuiet()
	}
	waitCtx, cancel := shutdownContext(ctx, s.p.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.sched.Stop(waitCtx); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	return nil
}
