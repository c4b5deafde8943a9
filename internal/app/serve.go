package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/quirehq/quire/jobs"
)

// Defaults of the serve command.
const (
	AddrDefault     = ":9090"
	HTTPAddrDefault = ":8080"
	QueuesDefault   = jobs.QueueDefault + "=1"
	RoleDefault     = "worker"
	// StopGrace is how long Stop may wait, after the shutdown timeout, for
	// cancelled handlers to return.
	StopGrace = 15 * time.Second
)

// ServeConfig holds the settings of the serve command.
type ServeConfig struct {
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
	Web WebConfig
	// Demo serves the web UI and API without sign-in (up only, on the
	// loopback interface) and feeds the sample corpus of DemoCorpus.
	Demo bool
	// DemoCorpus is the folder of sample documents for Demo; "" feeds
	// those built into the binary (quire.Samples).
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

// role is one way to run the serve command. A role on the module graph
// (modules.go) names its module, which opens only what it needs: web the
// broker (to enqueue) and the store, ml the store and blobs, scheduler only
// the broker; check, when set, refuses settings the role cannot run with
// before anything opens.
type role struct {
	name   string
	module string
	check  func(a *App, cfg *ServeConfig) error
	run    func(ctx context.Context, a *App, cfg *ServeConfig, queues map[string]int) error
}

var roles = []role{
	{name: "ml", module: modML, check: func(a *App, cfg *ServeConfig) error {
		if err := needHTTPAddr(cfg, "ml", "inference API"); err != nil {
			return err
		}
		return a.Config.ML.Validate()
	}},
	{name: "scheduler", module: modScheduler},
	{name: "web", module: modWeb, check: func(_ *App, cfg *ServeConfig) error { return needHTTPAddr(cfg, "web", "API") }},
	{name: "worker", run: runWorker},
}

// needHTTPAddr refuses an empty --http-addr for a role that serves an API.
func needHTTPAddr(cfg *ServeConfig, role, what string) error {
	if cfg.HTTPAddr == "" {
		return Usagef("invalid %s \"\": the %s role needs an address for its %s", Setting("http-addr"), role, what)
	}
	return nil
}

// RoleNames lists the serve roles, for help and messages.
func RoleNames() string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.name
	}
	return strings.Join(names, ", ")
}

// AddFlags adds the settings serve and up share, with the address and its
// description of the command.
func (cfg *ServeConfig) AddFlags(fs *pflag.FlagSet, addrDefault, addrUsage string) {
	fs.StringVar(&cfg.Queues, "queues", QueuesDefault, "queues to work on, with weights: default=1,critical=3")
	fs.BoolVar(&cfg.Strict, "strict", false, "try queues strictly by descending weight instead of weighted at random")
	fs.IntVar(&cfg.Concurrency, "concurrency", jobs.ConcurrencyDefault, "jobs to run at once")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", jobs.ShutdownTimeoutDefault, "how long running jobs may finish at stop; negative waits forever")
	fs.DurationVar(&cfg.Lease, "lease", jobs.LeaseDurationDefault, "how long a fetched job is held without a heartbeat")
	fs.StringVar(&cfg.Addr, "addr", addrDefault, addrUsage)
	fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "serve Go's profiles at /debug/pprof/ on this address; --pprof-addr alone serves them on "+PprofAddrOn+"; off by default")
	fs.Lookup("pprof-addr").NoOptDefVal = PprofAddrOn
	for _, name := range []string{"queues", "strict", "concurrency", "shutdown-timeout", "lease", "addr", "pprof-addr"} {
		WithEnv(fs, name)
	}
	// For end-to-end and chaos tests only: a worker that runs test.record
	// jobs posting each run to this URL (see handleRecord).
	fs.StringVar(&cfg.TestRecordURL, "test-record-url", "", "test only: run test.record jobs, posting each run to this URL")
	_ = fs.MarkHidden("test-record-url")
}

// Validate checks the worker's settings and returns its queues.
func (cfg *ServeConfig) Validate() (map[string]int, error) {
	queues, err := ParseQueues(cfg.Queues)
	if err != nil {
		return nil, Usagef("invalid %s %q: %w", Setting("queues"), cfg.Queues, err)
	}
	var errs []error
	if cfg.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid %s %d: it must be at least 1", Setting("concurrency"), cfg.Concurrency))
	}
	if cfg.Lease < jobs.LeaseDurationMin {
		errs = append(errs, fmt.Errorf("invalid %s %s: it must be at least %s", Setting("lease"), cfg.Lease, jobs.LeaseDurationMin))
	}
	if cfg.ShutdownTimeout == 0 {
		errs = append(errs, fmt.Errorf("invalid %s 0: give a duration, or a negative one to wait forever", Setting("shutdown-timeout")))
	}
	errs = append(errs, cfg.Web.validateTimeouts())
	if err := errors.Join(errs...); err != nil {
		return nil, &UsageError{Err: err}
	}
	return queues, nil
}

// Serve runs the role cfg names until ctx is done, then stops it
// gracefully.
func (a *App) Serve(ctx context.Context, cfg *ServeConfig) error {
	i := slices.IndexFunc(roles, func(r role) bool { return r.name == cfg.Role })
	if i < 0 {
		return Usagef("invalid %s %q: valid roles are %s", Setting("role"), cfg.Role, RoleNames())
	}
	queues, err := cfg.Validate()
	if err != nil {
		return err
	}
	stopPprof, err := a.StartPprof(cfg.PprofAddr, cfg.Web.Servers())
	if err != nil {
		return err
	}
	defer stopPprof()
	r := roles[i]
	if r.check != nil {
		if err := r.check(a, cfg); err != nil {
			return err
		}
	}
	if r.module != "" {
		return a.runRole(ctx, cfg, r.module)
	}
	return r.run(ctx, a, cfg, queues)
}

// Up runs every role in this process, around one worker: the web UI and
// API on the worker's --addr, the periodic jobs, every pipeline queue,
// and, with inbox, a folder's files ingested.
func (a *App) Up(ctx context.Context, cfg *ServeConfig, inbox string) error {
	queues, err := cfg.Validate()
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := checkLoopback(cfg.Addr); err != nil {
			return err
		}
		if err := a.checkDemoStore(ctx); err != nil {
			return err
		}
		a.Log.Warn("up: DEMO MODE: the web UI and API serve without sign-in, on the loopback interface only", "addr", cfg.Addr)
	}
	stopPprof, err := a.StartPprof(cfg.PprofAddr, cfg.Web.Servers())
	if err != nil {
		return err
	}
	defer stopPprof()
	return a.runProcess(ctx, cfg, queues, &processOpts{command: "up", role: cfg.Role, documents: true, all: true, inbox: inbox})
}
