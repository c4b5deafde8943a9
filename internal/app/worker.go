package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/modules"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
)

// The modules of a worker (serve --role worker) and of up, which runs every
// role around one.
const (
	modAnalysis = "analysis" // the analyzer's classifiers, kept current
	modAPI      = "api"      // up's web UI and REST API, on the worker's --addr
	modWorker   = "worker"   // the jobs.Server and its HTTP server on --addr
	modInbox    = "inbox"    // up --inbox: a folder's files ingested
	modDemo     = "demo"     // up --demo: the sample documents fed
)

// processOpts say what runProcess runs around the worker.
type processOpts struct {
	// command names the command in logs: serve or up.
	command string
	// role labels the process in the process list.
	role string
	// documents registers the document pipeline's handlers in the worker:
	// the store, blobs and cache are opened, and the store migrated, at
	// start.
	documents bool
	// all, with documents, runs every role in the process, as up does: the
	// REST API besides the probes, the periodic jobs, and every pipeline
	// queue that --queues does not weigh.
	all bool
	// inbox, with all, is a folder whose files are ingested (see
	// runInbox).
	inbox string
}

// workerModules adds the worker's modules to g.
func (p *roleProcess) workerModules(g *modules.Graph) {
	deps := []string{modBroker, modMetrics}
	if p.opts.documents {
		deps = append(deps, modDocuments, modAnalysis)
	}
	if p.opts.documents && p.opts.all {
		deps = append(deps, modAPI)
	}
	g.Add(
		modules.Module{Name: modAnalysis, Deps: []string{modDocuments}, Init: p.initAnalysis},
		modules.Module{Name: modAPI, Deps: []string{modDocuments, modBroker}, Init: p.initAPI},
		modules.Module{Name: modWorker, Deps: deps, Init: p.initWorker},
		modules.Module{Name: modInbox, Deps: []string{modWorker}, Init: p.initInbox},
		modules.Module{Name: modDemo, Deps: []string{modWorker}, Init: p.initDemo},
	)
}

// runWorker runs the worker role: a jobs.Server with the pipeline's
// handlers and the built-in ones, the probes and metrics. It serves no API
// (the web role does) and enqueues no periodic jobs (the scheduler does).
func runWorker(ctx context.Context, a *App, cfg *ServeConfig, queues map[string]int) error {
	return a.runProcess(ctx, cfg, queues, &processOpts{command: "serve", role: cfg.Role, documents: true})
}

// runProcess runs a worker (and, for up, the modules around it) until ctx
// is done or its HTTP server fails, then stops it gracefully: quiet, let
// running jobs finish within the shutdown timeout, hand back the rest,
// close HTTP, then what the worker ran on. serve --role worker and up both
// run through it.
func (a *App) runProcess(ctx context.Context, cfg *ServeConfig, queues map[string]int, opts *processOpts) error {
	p := &roleProcess{a: a, cfg: cfg, queues: queues, opts: opts}
	targets := []string{modWorker}
	if opts.documents && opts.all {
		if opts.inbox != "" {
			if err := checkInbox(opts.inbox); err != nil {
				return err
			}
			targets = append(targets, modInbox)
		}
		if cfg.Demo {
			targets = append(targets, modDemo)
		}
	}
	proc, err := p.graph().Start(ctx, targets...)
	if err != nil {
		return err
	}
	runErr := proc.Wait(ctx)
	if runErr != nil {
		a.Log.Error(opts.command+": HTTP server failed; stopping", "error", runErr)
	}
	a.Log.Info(opts.command+": stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	return errors.Join(runErr, proc.Stop(context.WithoutCancel(ctx)))
}

// initAnalysis keeps the analyzer's classifiers current while the worker
// runs the analyze stage (documents.startML).
func (p *roleProcess) initAnalysis(context.Context) (modules.Service, error) {
	return modules.Funcs{
		StartFunc: func(ctx context.Context) error { return p.docs.StartML(ctx, &p.a.Config.ML, p.a.Log) },
		StopFunc:  func(context.Context) error { p.docs.stopML(); return nil },
	}, nil
}

// initAPI builds up's web UI and REST API, served on the worker's --addr
// behind the web UI's edge, and makes sure someone can sign in.
func (p *roleProcess) initAPI(ctx context.Context) (modules.Service, error) {
	a, cfg := p.a, p.cfg
	ec, err := cfg.Web.edge(cfg.Demo, cfg.Addr)
	if err != nil {
		return nil, err
	}
	api, err := a.newWebHandler(p.docs, p.broker.Driver, &cfg.Web, ec, cfg.Demo)
	if err != nil {
		return nil, err
	}
	if !cfg.Demo && cfg.Addr != "" {
		if err := a.ensureAdmin(ctx, p.docs.Store, "http://"+cfg.Addr+"/"); err != nil {
			return nil, err
		}
	}
	p.api, p.apiEdge = api, ec
	return nil, nil
}

// workerService is a jobs.Server with its HTTP server: probes, metrics and,
// for up, the web UI and API.
type workerService struct {
	p      *roleProcess
	srv    *jobs.Server
	attrs  []any
	ln     net.Listener
	hs     *http.Server
	failed chan error
	// quiet is set by SIGTSTP and at stop: the fetch loop no longer turns,
	// which liveness must not take for a stuck process.
	quiet     atomic.Bool
	quietDone chan struct{}
	stopQuiet func()
}

// initWorker builds the job server with the built-in handlers and, with
// documents, the pipeline's and the train job's, and binds --addr: a taken
// port fails before the server fetches anything.
func (p *roleProcess) initWorker(context.Context) (modules.Service, error) {
	a, cfg, opts := p.a, p.cfg, p.opts
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout < 0 {
		shutdownTimeout = -1
	}
	handlers := BuiltinHandlers()
	if cfg.TestRecordURL != "" {
		handleRecord(handlers, cfg.TestRecordURL)
	}
	queues := p.queues
	var periodic []jobs.PeriodicJob
	if opts.documents {
		p.docs.Pipeline.Register(handlers)
		if err := p.docs.registerTrain(handlers, a.Log); err != nil {
			return nil, err
		}
		if opts.all {
			periodic = a.periodicJobs()
			queues = maps.Clone(queues)
			for q, w := range mlQueues(pipeline.Queues()) {
				if _, set := queues[q]; !set {
					queues[q] = w
				}
			}
		}
	}
	srv, err := a.NewJobServer(p.broker.Driver, opts.role, jobs.Config{
		Handlers:        handlers,
		Middleware:      []jobs.Middleware{p.metrics.Middleware()},
		PeriodicJobs:    periodic,
		Queues:          queues,
		StrictPriority:  cfg.Strict,
		Concurrency:     cfg.Concurrency,
		LeaseDuration:   cfg.Lease,
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		return nil, err
	}
	w := &workerService{p: p, srv: srv, attrs: p.broker.Attrs, failed: make(chan error, 1)}
	if cfg.Addr != "" {
		if w.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s %q: %w", Setting("addr"), cfg.Addr, err)
		}
		// The HTTP server's settings; with the web UI's edge when up serves it.
		ec := cfg.Web.Servers()
		if p.api != nil {
			ec = p.apiEdge
		}
		w.hs = newHTTPServer(srv, jobs.NewInspector(p.broker.Driver, nil), &w.quiet, jobs.PollIntervalDefault, p.metrics, a.Log, p.api, ec)
	}
	return w, nil
}

func (w *workerService) Start(ctx context.Context) error {
	a, cmd := w.p.a, w.p.opts.command
	if err := w.srv.Start(ctx); err != nil {
		if w.ln != nil {
			_ = w.ln.Close()
		}
		return err
	}
	a.Log.Info(cmd+": worker started", append(slices.Clone(w.attrs), "version", buildinfo.Version)...)
	if w.ln != nil {
		if w.p.api != nil {
			a.Log.Info(cmd+": serving the web UI, the REST API, /healthz, /readyz and /metrics", "url", "http://"+w.ln.Addr().String()+"/")
			if w.p.cfg.Demo {
				// On stderr as well as in the log: it is what the person
				// who typed the command looks for.
				fmt.Fprintf(a.Stderr, "\n  Quire's demo: open http://%s/ (no sign-in; sample documents arriving)\n\n", w.ln.Addr())
			}
		} else {
			a.Log.Info(cmd+": serving /healthz, /readyz and /metrics", "addr", w.ln.Addr().String())
		}
		a.willServe(w.ln, w.hs)
		if a.Listening != nil {
			a.Listening(w.ln.Addr())
		}
		go func() {
			if err := w.hs.Serve(w.ln); !errors.Is(err, http.ErrServerClosed) {
				w.failed <- fmt.Errorf("serve HTTP on %s: %w", w.ln.Addr(), err)
			}
		}()
	}
	if a.QuietSignals != nil {
		sigs, stop := a.QuietSignals()
		w.stopQuiet, w.quietDone = stop, make(chan struct{})
		go func() {
			for {
				select {
				case <-sigs:
					w.quiet.Store(true)
					w.srv.Quiet()
				case <-w.quietDone:
					return
				}
			}
		}()
	}
	return nil
}

// Failed reports an HTTP server that stopped serving.
func (w *workerService) Failed() <-chan error { return w.failed }

// Stop quiets the server, lets running jobs finish within the shutdown
// timeout (and stopGrace for cancelled handlers to return), hands back the
// rest, then closes HTTP: /readyz said 503 while jobs drained.
func (w *workerService) Stop(ctx context.Context) error {
	if w.quietDone != nil {
		close(w.quietDone)
		w.stopQuiet()
	}
	w.quiet.Store(true)
	stopCtx := context.WithoutCancel(ctx)
	if t := w.p.cfg.ShutdownTimeout; t > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, t+StopGrace)
		defer cancel()
	}
	stopErr := w.srv.Stop(stopCtx)
	if stopErr != nil {
		stopErr = fmt.Errorf("stop worker: %w", stopErr)
	}
	if w.hs != nil {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = w.hs.Shutdown(hctx)
	}
	return stopErr
}

// initInbox ingests the files put in up's --inbox folder while the worker
// runs.
func (p *roleProcess) initInbox(context.Context) (modules.Service, error) {
	var stop context.CancelFunc
	var wg sync.WaitGroup
	return modules.Funcs{
		StartFunc: func(ctx context.Context) error {
			var ictx context.Context
			ictx, stop = context.WithCancel(ctx)
			wg.Go(func() { runInbox(ictx, p.opts.inbox, p.docs.Pipeline, p.a.Log) })
			return nil
		},
		StopFunc: func(context.Context) error { stop(); wg.Wait(); return nil },
	}, nil
}

// initDemo feeds up --demo's sample documents once the worker runs.
func (p *roleProcess) initDemo(context.Context) (modules.Service, error) {
	return modules.Funcs{StartFunc: func(ctx context.Context) error {
		go p.a.feedDemo(ctx, p.docs.Pipeline, p.cfg.DemoCorpus)
		return nil
	}}, nil
}
