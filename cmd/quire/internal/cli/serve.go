package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/internal/metrics"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
)

// Defaults of the serve command.
const (
	AddrDefault     = ":9090"
	HTTPAddrDefault = ":8080"
	QueuesDefault   = jobs.QueueDefault + "=1"
	RoleDefault     = "worker"
	// stopGrace is how long Stop may wait, after the shutdown timeout, for
	// cancelled handlers to return.
	stopGrace = 15 * time.Second
)

// serveConfig holds the settings of the serve command.
type serveConfig struct {
	// Role is what this process runs: ml, web, worker or scheduler.
	// Defaults to worker.
	Role string
	// Queues lists the queues to work on with their weights:
	// "default=1,critical=3". Defaults to "default=1".
	Queues string
	// Strict tries queues strictly by weight instead of weighted at random.
	Strict bool
	// Concurrency is how many jobs run at once. Defaults to 10.
	Concurrency int
	// ShutdownTimeout is how long running jobs may finish at stop. Defaults
	// to 25 seconds; a negative value waits forever.
	ShutdownTimeout time.Duration
	// Lease is how long a fetched job is held without a heartbeat. Defaults
	// to 30 seconds.
	Lease time.Duration
	// Addr is where /healthz, /readyz and /metrics are served (and, by up,
	// the web UI). Defaults to ":9090" for serve, so that the kubelet
	// and Prometheus reach it, and 127.0.0.1:8080 for up; empty serves
	// nothing.
	Addr string
	// HTTPAddr is where the web role serves the REST API: the public
	// address, kept apart from Addr so that the edge never reaches the
	// probes and metrics. Defaults to ":8080".
	HTTPAddr string
	// Web are the web UI's and API's settings.
	Web webConfig
	// Demo serves the web UI and API without sign-in (up only, on the
	// loopback interface) and feeds the sample corpus of DemoCorpus.
	Demo bool
	// DemoCorpus is the folder of sample documents for Demo. Defaults to
	// ./testdata, the repository's.
	DemoCorpus string
	// PprofAddr is where net/http/pprof's profiles are served. Empty, the
	// default, serves none; the flag without a value serves them on
	// 127.0.0.1:6060.
	PprofAddr string
	// TestRecordURL, set by the hidden flag --test-record-url, registers
	// the test-only handler test.record (see handleRecord). Empty, the
	// default, registers nothing.
	TestRecordURL string
}

// role is one way to run the serve command. Each role opens only what it
// needs: web the broker (to enqueue) and the store, worker both, scheduler
// only the broker.
type role struct {
	name string
	run  func(ctx context.Context, a *app, cfg *serveConfig, queues map[string]int) error
}

var roles = []role{
	{name: "ml", run: runML},
	{name: "scheduler", run: runScheduler},
	{name: "web", run: runWeb},
	{name: "worker", run: runWorker},
}

func roleNames() string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

func (a *app) newServeCommand() *cobra.Command {
	cfg := &serveConfig{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Quire process in one role",
		Long: `Run a Quire process in one role:

  worker     fetches jobs from --queues and runs them: the document pipeline's
             stages (extract, analyze, notify, the sweep, webhooks) and the
             built-in handlers (noop, sleep).
  web        serves the REST API (/api/v1/) on --http-addr; fetches no jobs.
  ml         serves the active classifiers over the Open Inference Protocol
             (KServe v2 REST) at /v2/models/{name} on --http-addr, and loads
             newly activated versions without a restart; fetches no jobs.
  scheduler  enqueues the periodic jobs (the pipeline's sweep) at their
             ticks; fetches no jobs. Several may run: they elect a leader,
             which alone enqueues, and each tick is enqueued once.

Every role serves /healthz, /readyz and /metrics on --addr. Jobs are kept in
the embedded job database in --data-dir unless --redis-url is given, and
documents in --data-dir unless --postgres-url and --blob-url are given;
every process of a deployment must use the same ones.

SIGINT and SIGTERM stop it gracefully: /readyz answers 503 at once; a worker
stops fetching, lets running jobs finish within --shutdown-timeout and hands
the rest back to their queues; web stops accepting connections and lets the
requests in flight finish within --shutdown-timeout; the scheduler stops
enqueueing. SIGTSTP quiets a worker or a scheduler: it stops fetching or
enqueueing, and running jobs finish, but the process stays up until it is
stopped.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Role, "role", RoleDefault, "role of this process: "+roleNames())
	withEnv(fs, "role")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", HTTPAddrDefault, "address of the web UI and REST API of the web role")
	withEnv(fs, "http-addr")
	cfg.Web.addFlags(fs)
	cfg.addFlags(fs, AddrDefault, `address of /healthz, /readyz and /metrics; "" serves none`)
	return cmd
}

// addFlags adds the settings serve and up share, with the address and its
// description of the command.
func (cfg *serveConfig) addFlags(fs *pflag.FlagSet, addrDefault, addrUsage string) {
	fs.StringVar(&cfg.Queues, "queues", QueuesDefault, "queues to work on, with weights: default=1,critical=3")
	fs.BoolVar(&cfg.Strict, "strict", false, "try queues strictly by descending weight instead of weighted at random")
	fs.IntVar(&cfg.Concurrency, "concurrency", jobs.ConcurrencyDefault, "jobs to run at once")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", jobs.ShutdownTimeoutDefault, "how long running jobs may finish at stop; negative waits forever")
	fs.DurationVar(&cfg.Lease, "lease", jobs.LeaseDurationDefault, "how long a fetched job is held without a heartbeat")
	fs.StringVar(&cfg.Addr, "addr", addrDefault, addrUsage)
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve Go's profiles at /debug/pprof/ on this address; --pprof-addr alone serves them on "+PprofAddrOn+"; off by default")
	fs.Lookup("pprof-addr").NoOptDefVal = PprofAddrOn
	for _, name := range []string{"queues", "strict", "concurrency", "shutdown-timeout", "lease", "addr", "pprof-addr"} {
		withEnv(fs, name)
	}
	// For end-to-end and chaos tests only: a worker that runs test.record
	// jobs posting each run to this URL (see handleRecord).
	fs.StringVar(&cfg.TestRecordURL, "test-record-url", "", "test only: run test.record jobs, posting each run to this URL")
	_ = fs.MarkHidden("test-record-url")
}

// validate checks the worker's settings and returns its queues.
func (cfg *serveConfig) validate() (map[string]int, error) {
	queues, err := parseQueues(cfg.Queues)
	if err != nil {
		return nil, usagef("invalid %s %q: %w", setting("queues"), cfg.Queues, err)
	}
	var errs []error
	if cfg.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid %s %d: it must be at least 1", setting("concurrency"), cfg.Concurrency))
	}
	if cfg.Lease < jobs.LeaseDurationMin {
		errs = append(errs, fmt.Errorf("invalid %s %s: it must be at least %s", setting("lease"), cfg.Lease, jobs.LeaseDurationMin))
	}
	if cfg.ShutdownTimeout == 0 {
		errs = append(errs, fmt.Errorf("invalid %s 0: give a duration, or a negative one to wait forever", setting("shutdown-timeout")))
	}
	errs = append(errs, cfg.Web.validateTimeouts())
	if err := errors.Join(errs...); err != nil {
		return nil, &usageError{err}
	}
	return queues, nil
}

func (a *app) runServe(ctx context.Context, cfg *serveConfig) error {
	i := slices.IndexFunc(roles, func(r role) bool { return r.name == cfg.Role })
	if i < 0 {
		return usagef("invalid %s %q: valid roles are %s", setting("role"), cfg.Role, roleNames())
	}
	queues, err := cfg.validate()
	if err != nil {
		return err
	}
	stopPprof, err := a.startPprof(cfg.PprofAddr, cfg.Web.servers())
	if err != nil {
		return err
	}
	defer stopPprof()
	return roles[i].run(ctx, a, cfg, queues)
}

// runWorker runs the worker role: a jobs.Server with the pipeline's
// handlers and the built-in ones, the probes and metrics. It serves no API
// (the web role does) and enqueues no periodic jobs (the scheduler does).
func runWorker(ctx context.Context, a *app, cfg *serveConfig, queues map[string]int) error {
	return a.runProcess(ctx, cfg, queues, &processOpts{command: "serve", role: cfg.Role, documents: true})
}

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

// runProcess runs a jobs.Server with the built-in handlers and the HTTP
// server on cfg.Addr until ctx is done, then stops both gracefully: quiet,
// let running jobs finish within the shutdown timeout, hand back the rest,
// close HTTP. serve --role worker and up both run through it.
func (a *app) runProcess(ctx context.Context, cfg *serveConfig, queues map[string]int, opts *processOpts) error {
	b, err := openBroker(&a.global)
	if err != nil {
		return err
	}
	defer b.Close()
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout < 0 {
		shutdownTimeout = -1
	}
	handlers := builtinHandlers()
	if cfg.TestRecordURL != "" {
		handleRecord(handlers, cfg.TestRecordURL)
	}
	var periodic []jobs.PeriodicJob
	var api http.Handler
	// The HTTP server's settings; with the web UI's edge when up serves it.
	webEdge := cfg.Web.servers()
	var docs *documents
	m := metrics.New()
	if opts.documents {
		if docs, err = openDocuments(ctx, &a.global, b, a.log, m.ObserveStages); err != nil {
			return err
		}
		defer docs.Close()
		docs.pipeline.Register(handlers)
		if err := docs.startML(ctx, &a.global.ML, a.log); err != nil {
			return err
		}
		if err := docs.registerTrain(handlers, a.log); err != nil {
			return err
		}
	}
	if opts.documents && opts.all {
		periodic = a.periodicJobs()
		queues = maps.Clone(queues)
		for q, w := range mlQueues(pipeline.Queues()) {
			if _, set := queues[q]; !set {
				queues[q] = w
			}
		}
		if webEdge, err = cfg.Web.edge(cfg.Demo, cfg.Addr); err != nil {
			return err
		}
		if api, err = a.newWebHandler(docs, b.driver, &cfg.Web, webEdge, cfg.Demo); err != nil {
			return err
		}
		if cfg.Demo {
			go a.feedDemo(ctx, docs.pipeline, cfg.DemoCorpus)
		} else if cfg.Addr != "" {
			if err := a.ensureAdmin(ctx, docs.store, "http://"+cfg.Addr+"/"); err != nil {
				return err
			}
		}
		if opts.inbox != "" {
			if err := checkInbox(opts.inbox); err != nil {
				return err
			}
			ictx, stopInbox := context.WithCancel(ctx)
			inboxDone := make(chan struct{})
			go func() { defer close(inboxDone); runInbox(ictx, opts.inbox, docs.pipeline, a.log) }()
			defer func() { stopInbox(); <-inboxDone }()
		}
	}
	srv, err := a.newJobServer(b.driver, opts.role, jobs.Config{
		Handlers:        handlers,
		Middleware:      []jobs.Middleware{m.Middleware()},
		PeriodicJobs:    periodic,
		Queues:          queues,
		StrictPriority:  cfg.Strict,
		Concurrency:     cfg.Concurrency,
		LeaseDuration:   cfg.Lease,
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		return err
	}

	// Listen before starting, so a taken port fails the start.
	var ln net.Listener
	if cfg.Addr != "" {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s %q: %w", setting("addr"), cfg.Addr, err)
		}
	}
	if err := srv.Start(ctx); err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		return err
	}
	a.log.Info(opts.command+": worker started", append(slices.Clone(b.attrs), "version", buildinfo.Version)...)

	// quiet is set by SIGTSTP and at stop: the fetch loop no longer turns,
	// which liveness must not take for a stuck process.
	var quiet atomic.Bool
	var hs *http.Server
	httpDone := make(chan error, 1)
	if ln != nil {
		hs = newHTTPServer(srv, jobs.NewInspector(b.driver, nil), &quiet, jobs.PollIntervalDefault, m, a.log, api, webEdge)
		if api != nil {
			a.log.Info(opts.command+": serving the web UI, the REST API, /healthz, /readyz and /metrics", "url", "http://"+ln.Addr().String()+"/")
		} else {
			a.log.Info(opts.command+": serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
		}
		a.willServe(ln, hs)
		if a.listening != nil {
			a.listening(ln.Addr())
		}
		go func() { httpDone <- hs.Serve(ln) }()
	}
	if a.quietSignals != nil {
		sigs, stop := a.quietSignals()
		defer stop()
		go func() {
			for {
				select {
				case <-sigs:
					quiet.Store(true)
					srv.Quiet()
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-httpDone:
		serveErr = fmt.Errorf("serve HTTP on %s: %w", ln.Addr(), serveErr)
		a.log.Error(opts.command+": HTTP server failed; stopping", "error", serveErr)
	}
	a.log.Info(opts.command+": stopping", "shutdown_timeout", cfg.ShutdownTimeout)
	quiet.Store(true)
	stopCtx := context.WithoutCancel(ctx)
	if shutdownTimeout > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, shutdownTimeout+stopGrace)
		defer cancel()
	}
	stopErr := srv.Stop(stopCtx)
	if hs != nil {
		// /readyz said 503 while jobs drained; now stop answering.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(hctx)
	}
	if stopErr != nil {
		stopErr = fmt.Errorf("stop worker: %w", stopErr)
	}
	return errors.Join(serveErr, stopErr)
}
