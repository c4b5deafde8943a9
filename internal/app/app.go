// Package app assembles a Quire process from its parts: the broker, the
// store, blob storage, the cache, the document pipeline, the machine
// learning, the job server, the web UI and API, the probes and metrics.
// Each part is a module of a graph (internal/modules) with the modules it
// needs; a serve role starts its module and what that depends on, up starts
// them all, and they stop in the reverse order.
//
// The command line (cmd/quire) keeps the commands, their help and their
// output; it fills the settings here from flags and the environment
// (Config.AddFlags and the AddFlags of each settings struct) and calls
// Serve, Up or the openers. A setting that cannot work is reported as a
// *UsageError, which the command line turns into exit status 2.
package app

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
)

// App is what the modules of one process share: the settings every command
// takes, the logger, and the hooks a test sets.
type App struct {
	Hooks
	// Config holds the settings every command shares.
	Config Config
	// Log is built from --log-level and --log-format.
	Log *slog.Logger
	// Stderr is where up prints the first sign-in's password.
	Stderr io.Writer
}

// Hooks are what the process takes from its surroundings. Tests set them to
// learn the addresses bound and to deliver signals; nil hooks do nothing.
type Hooks struct {
	// QuietSignals starts delivering the signal that quiets a worker or a
	// scheduler (SIGTSTP) and returns a function that stops it.
	QuietSignals func() (<-chan os.Signal, func())
	// Listening is told the address the probes and metrics (--addr) bound.
	Listening func(net.Addr)
	// ListeningHTTP is told the address the web role's API (--http-addr)
	// bound.
	ListeningHTTP func(net.Addr)
	// Serving is told of every HTTP server the process starts, and the
	// address it serves, before it serves.
	Serving func(net.Addr, *http.Server)
	// PeriodicJobs replaces the pipeline's periodic jobs, so that tests
	// need not wait for the sweep's minute.
	PeriodicJobs func() []jobs.PeriodicJob
}

// willServe tells a test (Hooks.Serving) of an HTTP server about to serve
// on ln.
func (a *App) willServe(ln net.Listener, hs *http.Server) {
	if a.Serving != nil {
		a.Serving(ln.Addr(), hs)
	}
}

// periodicJobs returns the periodic jobs the scheduler enqueues: the
// pipeline's and the retraining's, unless a test set its own.
func (a *App) periodicJobs() []jobs.PeriodicJob {
	if a.PeriodicJobs != nil {
		return a.PeriodicJobs()
	}
	return append(pipeline.PeriodicJobs(), mlpipeline.PeriodicJobs()...)
}

// UsageError is a mistake in the command line or the configuration: a
// setting that cannot work, named as the operator gives it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a *UsageError of fmt.Errorf(format, args...).
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}
