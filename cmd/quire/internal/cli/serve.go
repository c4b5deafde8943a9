package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/quirehq/quire/jobs"
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

// role is one way to run the serve command. A role on the module graph
// (modules.go) names its module, which opens only what it needs: web the
// broker (to enqueue) and the store, ml the store and blobs, scheduler only
// the broker; check, when set, refuses settings the role cannot run with
// before anything opens.
type role struct {
	name   string
	module string
	check  func(a *app, cfg *serveConfig) error
	run    func(ctx context.Context, a *app, cfg *serveConfig, queues map[string]int) error
}

var roles = []role{
	{name: "ml", module: modML, check: func(a *app, cfg *serveConfig) error {
		if err := needHTTPAddr(cfg, "ml", "inference API"); err != nil {
			return err
		}
		return a.global.ML.validate()
	}},
	{name: "scheduler", module: modScheduler},
	{name: "web", module: modWeb, check: func(_ *app, cfg *serveConfig) error { return needHTTPAddr(cfg, "web", "API") }},
	{name: "worker", run: runWorker},
}

// needHTTPAddr refuses an empty --http-addr for a role that serves an API.
func needHTTPAddr(cfg *serveConfig, role, what string) error {
	if cfg.HTTPAddr == "" {
		return usagef("invalid %s \"\": the %s role needs an address for its %s", setting("http-addr"), role, what)
	}
	return nil
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
