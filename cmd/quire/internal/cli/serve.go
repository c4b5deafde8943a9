package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
)

// Defaults of the serve command.
const (
	AddrDefault   = ":9090"
	QueuesDefault = jobs.QueueDefault + "=1"
	RoleDefault   = "worker"
	// stopGrace is how long Stop may wait, after the shutdown timeout, for
	// cancelled handlers to return.
	stopGrace = 15 * time.Second
)

// serveConfig holds the settings of the serve command.
type serveConfig struct {
	// Role is what this process runs. Defaults to worker, the only role yet.
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
	// Addr is where /healthz, /readyz and /metrics are served. Defaults to
	// ":9090"; empty serves nothing.
	Addr string
}

// role is one way to run the serve command. Only the worker exists yet;
// when the web UI and pipeline roles come, each will name the roles it
// depends on, as Mimir's modules do.
type role struct {
	name string
	run  func(ctx context.Context, a *app, cfg *serveConfig, queues map[string]int) error
}

var roles = []role{
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
		Long: `Run a Quire process in one role. A worker fetches jobs from its queues and
runs them with the built-in handlers (noop, sleep).

SIGINT and SIGTERM stop it gracefully: fetching stops, running jobs get
--shutdown-timeout to finish, and the rest go back to their queues. SIGTSTP
quiets it: fetching stops and running jobs finish, but the process stays up
until it is stopped.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Role, "role", RoleDefault, "role of this process: "+roleNames())
	fs.StringVar(&cfg.Queues, "queues", QueuesDefault, "queues to work on, with weights: default=1,critical=3")
	fs.BoolVar(&cfg.Strict, "strict", false, "try queues strictly by descending weight instead of weighted at random")
	fs.IntVar(&cfg.Concurrency, "concurrency", jobs.ConcurrencyDefault, "jobs to run at once")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", jobs.ShutdownTimeoutDefault, "how long running jobs may finish at stop; negative waits forever")
	fs.DurationVar(&cfg.Lease, "lease", jobs.LeaseDurationDefault, "how long a fetched job is held without a heartbeat")
	fs.StringVar(&cfg.Addr, "addr", AddrDefault, `address of /healthz, /readyz and /metrics; "" serves none`)
	for _, name := range []string{"role", "queues", "strict", "concurrency", "shutdown-timeout", "lease", "addr"} {
		withEnv(fs, name)
	}
	return cmd
}

func (a *app) runServe(ctx context.Context, cfg *serveConfig) error {
	i := slices.IndexFunc(roles, func(r role) bool { return r.name == cfg.Role })
	if i < 0 {
		return usagef("invalid %s %q: valid roles are %s", setting("role"), cfg.Role, roleNames())
	}
	queues, err := parseQueues(cfg.Queues)
	if err != nil {
		return usagef("invalid %s %q: %w", setting("queues"), cfg.Queues, err)
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
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return roles[i].run(ctx, a, cfg, queues)
}

// runWorker runs a jobs.Server until ctx is done, then stops it gracefully.
func runWorker(ctx context.Context, a *app, cfg *serveConfig, queues map[string]int) error {
	rdb, drv, err := a.global.openBroker()
	if err != nil {
		return err
	}
	defer rdb.Close()
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout < 0 {
		shutdownTimeout = -1
	}
	srv, err := jobs.NewServer(drv, &jobs.Config{
		Handlers:        builtinHandlers(),
		Queues:          queues,
		StrictPriority:  cfg.Strict,
		Concurrency:     cfg.Concurrency,
		LeaseDuration:   cfg.Lease,
		ShutdownTimeout: shutdownTimeout,
		Logger:          a.log,
		Version:         buildinfo.Version,
		Labels:          map[string]string{"role": cfg.Role},
	})
	if err != nil {
		return usagef("%w", err)
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
	a.log.Info("serve: worker started", "redis_url", redactURL(a.global.RedisURL),
		"redis_prefix", drv.Prefix(), "version", buildinfo.Version)

	// quiet is set by SIGTSTP and at stop: the fetch loop no longer turns,
	// which liveness must not take for a stuck process.
	var quiet atomic.Bool
	var hs *http.Server
	httpDone := make(chan error, 1)
	if ln != nil {
		hs = newHTTPServer(srv, jobs.NewInspector(drv, nil), &quiet, jobs.PollIntervalDefault, a.log)
		a.log.Info("serve: serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
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
		a.log.Error("serve: HTTP server failed; stopping", "error", serveErr)
	}
	a.log.Info("serve: stopping", "shutdown_timeout", cfg.ShutdownTimeout)
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
