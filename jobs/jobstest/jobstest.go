// Package jobstest holds the job engine's behaviour suite, written once and
// run against every driver, and helpers for testing code that uses jobs.
//
// A driver's test connects it with a Harness and calls Exercise; the suite
// branches on what a driver can do, never on its name. A driver whose
// format cannot hold a behaviour names that Capability in Harness.Lacks:
// the cases that need it are skipped, each saying which capability and why,
// and the suite checks that the driver refuses it instead. Only _test.go
// files import this package.
package jobstest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Harness connects one driver to the suite.
type Harness struct {
	// New returns a driver on an isolated broker namespace (its own key
	// prefix, database or file), removed with t.Cleanup.
	New func(t testing.TB) jobs.Driver
	// ProcessEnv returns the environment a child process needs to open the
	// same namespace as d with OpenFromEnv.
	ProcessEnv func(d jobs.Driver) []string
	// OpenFromEnv opens a driver in a child worker process from the
	// environment set by ProcessEnv.
	OpenFromEnv func() (jobs.Driver, error)
	// PushRaw puts raw bytes on a queue as if a foreign or broken producer
	// wrote them. Nil when the broker cannot hold anything but valid jobs.
	PushRaw func(t testing.TB, d jobs.Driver, queue string, raw []byte)
	// NewCapped is New with the dead set capped at deadMaxJobs jobs and
	// deadMaxAge.
	NewCapped func(t testing.TB, deadMaxJobs int, deadMaxAge time.Duration) jobs.Driver
	// Lacks maps each capability the driver's format cannot hold to why
	// not. The suite skips the cases that need one, saying so, and checks
	// that the driver refuses it. Empty for a driver that has them all, as
	// Quire's own drivers do.
	Lacks map[Capability]string
}

// Exercise runs the behaviour suite against the harness's driver.
func Exercise(t *testing.T, h Harness) {
	checkLacks(t, h)
	t.Run("Enqueue", func(t *testing.T) { t.Parallel(); exerciseEnqueue(t, h) })
	t.Run("Outcomes", func(t *testing.T) { t.Parallel(); exerciseOutcomes(t, h) })
	t.Run("QueueOrder", func(t *testing.T) { t.Parallel(); exerciseQueueOrder(t, h) })
	t.Run("Middleware", func(t *testing.T) { t.Parallel(); exerciseMiddleware(t, h) })
	t.Run("Shutdown", func(t *testing.T) { t.Parallel(); exerciseShutdown(t, h) })
	t.Run("Leader", func(t *testing.T) { t.Parallel(); exerciseLeader(t, h) })
	t.Run("Leases", func(t *testing.T) { t.Parallel(); exerciseLeases(t, h) })
	t.Run("Inspector", func(t *testing.T) { t.Parallel(); exerciseInspector(t, h) })
	t.Run("Processes", func(t *testing.T) { exerciseProcesses(t, h) })
	t.Run("Unique", func(t *testing.T) { t.Parallel(); exerciseUnique(t, h) })
	t.Run("Cancel", func(t *testing.T) { t.Parallel(); exerciseCancel(t, h) })
	t.Run("Periodic", func(t *testing.T) { t.Parallel(); exercisePeriodic(t, h) })
	t.Run("DeadCap", func(t *testing.T) { t.Parallel(); exerciseDeadCap(t, h) })
	t.Run("Batch", func(t *testing.T) { t.Parallel(); exerciseBatch(t, h) })
	t.Run("Limit", func(t *testing.T) { t.Parallel(); exerciseLimit(t, h) })
	t.Run("Expire", func(t *testing.T) { t.Parallel(); exerciseExpire(t, h) })
	t.Run("Rescues", func(t *testing.T) { t.Parallel(); exerciseRescues(t, h) })
	t.Run("Headers", func(t *testing.T) { t.Parallel(); exerciseHeaders(t, h) })
	t.Run("Encrypt", func(t *testing.T) { t.Parallel(); exerciseEncrypt(t, h) })
	if h.ProcessEnv != nil {
		t.Run("Crash", func(t *testing.T) { t.Parallel(); exerciseCrash(t, h) })
	}
	if len(h.Lacks) > 0 {
		t.Run("Lacks", func(t *testing.T) { t.Parallel(); exerciseLacks(t, h) })
	}
}

// RequireService skips a test whose service is missing, or fails it when
// QUIRE_TEST_REQUIRE_SERVICES=1 (as in CI), so a CI run never passes by
// skipping.
func RequireService(t testing.TB, name string, err error) {
	t.Helper()
	testenv.RequireService(t, name, err)
}

// bundle is what most tests need: a driver, a client and an inspector on one
// isolated namespace.
type bundle struct {
	driver  jobs.Driver
	client  *jobs.Client
	insp    *jobs.Inspector
	handled *recorder
}

func setup(t *testing.T, h Harness) *bundle {
	t.Helper()
	d := h.New(t)
	c, err := jobs.NewClient(d, nil)
	require.NoError(t, err)
	return &bundle{driver: d, client: c, insp: jobs.NewInspector(d, nil), handled: newRecorder()}
}

// startServer starts a server with test-friendly timings and stops it at
// cleanup.
func startServer(t *testing.T, d jobs.Driver, cfg jobs.Config) *jobs.Server {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	srv, err := jobs.NewServer(d, &cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})
	return srv
}

// quietLogger keeps test output to warnings and errors.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// recorder notes what handlers saw, and signals each note.
type recorder struct {
	mu    sync.Mutex
	items []string
	ch    chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100_000)} }

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.items = append(r.items, s)
	r.mu.Unlock()
	r.ch <- s
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.items...)
}

// wait returns the next n notes or fails the test after timeout.
func (r *recorder) wait(t testing.TB, n int, timeout time.Duration) []string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var got []string
	for len(got) < n {
		select {
		case s := <-r.ch:
			got = append(got, s)
		case <-deadline.C:
			t.Fatalf("waited %s for %d events, got %d: %s", timeout, n, len(got), strings.Join(got, ", "))
		}
	}
	return got
}

// eventually polls cond until it holds or fails the test after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// requireNothingDue runs a promoter's pass on queue at now, as the server's
// promoter does, and requires that it moved nothing: a job that is not due
// does not run, without sleeping to watch it not run.
func requireNothingDue(t testing.TB, b *bundle, queue string, now time.Time) {
	t.Helper()
	res, err := b.driver.JobPromoteDue(context.Background(), &jobdriver.JobPromoteDueParams{Queue: queue, Now: now, Max: 1000})
	require.NoError(t, err)
	require.Zero(t, res.Promoted, "jobs due at %s", now)
}

// setupStubbed returns a bundle whose client and inspector tell the time by a
// stub clock starting at t0; pass the clock to servers as well.
func setupStubbed(t *testing.T, h Harness, t0 time.Time) (*bundle, *jobtype.StubClock) {
	t.Helper()
	b := setup(t, h)
	clock := jobtype.NewStubClock(t0)
	c, err := jobs.NewClient(b.driver, &jobs.ClientConfig{Clock: clock})
	require.NoError(t, err)
	b.client = c
	b.insp = jobs.NewInspector(b.driver, &jobs.InspectorConfig{Clock: clock})
	return b, clock
}

// findState waits until the job is in state and returns it.
func findState(t *testing.T, b *bundle, id string, state jobs.State) *jobs.Job {
	t.Helper()
	var got *jobs.Job
	eventually(t, 10*time.Second, fmt.Sprintf("job %s %s", id, state), func() bool {
		j, err := b.insp.Job(context.Background(), id)
		if err == nil && j.State == state {
			got = j
			return true
		}
		return false
	})
	return got
}
