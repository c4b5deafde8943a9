// Package cli is the quire command: up runs every role in one process on
// embedded defaults, serve runs one role, jobs inspects and manages jobs,
// bench measures the engine, version tells the build.
//
// Every command writes to the writers given to Execute and reads the
// environment and signals through a deps value, so tests run the commands as
// an operator would and read what they print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
)

// Exit codes of Execute.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line or the configuration is wrong
)

// deps is what the commands take from the process. Tests replace it.
type deps struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// lookupEnv reads the QUIRE_* fallbacks of flags.
	lookupEnv func(key string) (string, bool)
	// quietSignals starts delivering the signal that quiets a worker
	// (SIGTSTP) and returns a function that stops it. Nil ignores the signal.
	quietSignals func() (<-chan os.Signal, func())
	// listening, when set, is told the address the HTTP server of the
	// probes and metrics (--addr) bound.
	listening func(net.Addr)
	// listeningHTTP, when set, is told the address the web role's API
	// (--http-addr) bound.
	listeningHTTP func(net.Addr)
	// serving, when set, is told of every HTTP server the process starts
	// and the address it serves, before it serves.
	serving func(net.Addr, *http.Server)
	// periodicJobs, when set, replaces the pipeline's periodic jobs, so
	// that tests need not wait for the sweep's minute.
	periodicJobs func() []jobs.PeriodicJob
	// setRedisLogger, when set, routes go-redis's messages to the command's
	// logger. It sets a global, so only Execute sets it, not tests.
	setRedisLogger func(*slog.Logger)
}

// Execute runs the quire command line args and returns the process exit
// code. Cancelling ctx (SIGINT, SIGTERM) stops a running server gracefully.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return execute(ctx, args, &deps{
		stdin:        os.Stdin,
		stdout:       stdout,
		stderr:       stderr,
		lookupEnv:    os.LookupEnv,
		quietSignals: notifyQuiet,
		setRedisLogger: func(log *slog.Logger) {
			redis.SetLogger(app.RedisLog{Log: log})
		},
	})
}

func execute(ctx context.Context, args []string, d *deps) int {
	restrictFileModes()
	a := newCLI(d)
	root := a.newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if a.stopTracing != nil {
		// Flush the last spans, within a bound: a collector that is gone
		// must not hold the exit.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if terr := a.stopTracing(sctx); terr != nil && a.Log != nil {
			a.Log.Warn("quire: traces not flushed", "error", terr)
		}
		cancel()
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(d.stderr, "quire: %v\n", err)
	if ue := (*usageError)(nil); errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// usageError is a mistake in the command line or the configuration: exit
// status 2.
type usageError = app.UsageError

func usagef(format string, args ...any) error { return app.Usagef(format, args...) }

// cli holds the state shared by the commands of one run: what they take
// from the process, and the application the settings assemble.
type cli struct {
	*deps
	// stopTracing flushes and stops the trace exporter; set once the
	// settings are read.
	stopTracing func(context.Context) error
	*app.App
}

// newCLI returns the commands' state on d.
func newCLI(d *deps) *cli {
	return &cli{deps: d, App: &app.App{
		Hooks: app.Hooks{QuietSignals: d.quietSignals, Listening: d.listening, ListeningHTTP: d.listeningHTTP,
			Serving: d.serving, PeriodicJobs: d.periodicJobs},
		Stderr: d.stderr,
	}}
}

func (a *cli) newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "quire",
		Short:         "Quire runs background jobs and manages them",
		Version:       buildinfo.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd, a.lookupEnv); err != nil {
				return err
			}
			log, err := a.Config.Logger(a.stderr)
			if err != nil {
				return err
			}
			a.Log = log
			a.Config.LogSettings(log, cmd.CommandPath())
			if a.setRedisLogger != nil {
				a.setRedisLogger(log)
			}
			stop, err := a.StartTracing(cmd.Context())
			if err != nil {
				return err
			}
			a.stopTracing = stop
			return nil
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{Err: err} })
	a.Config.AddFlags(root.PersistentFlags())
	root.AddCommand(
		a.newAdminCommand(),
		a.newBenchCommand(),
		a.newJobsCommand(),
		a.newMigrateCommand(),
		a.newMLCommand(),
		a.newProcessCommand(),
		a.newReprocessCommand(),
		a.newServeCommand(),
		a.newStatusCommand(),
		a.newSubmitCommand(),
		a.newUpCommand(),
		a.newVersionCommand(),
	)
	return root
}

func (a *cli) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this build",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(a.stdout, "quire %s\n", buildinfo.Version)
			return err
		},
	}
}

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{Err: fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs reporting a usage error.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return &usageError{Err: fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}
