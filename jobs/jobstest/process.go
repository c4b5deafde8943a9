package jobstest

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quirehq/quire/jobs"
)

// Worker processes for the crash and shutdown tests are the test binary
// itself, started again with QUIRE_JOBSTEST_WORKER=1: a driver's TestMain
// calls RunWorkerProcessIfAsked first thing. Each process appends one line per
// finished job to its own tally file, so the parent can count how often every
// job ran even when processes are killed.
const (
	envWorker   = "QUIRE_JOBSTEST_WORKER"
	envTally    = "QUIRE_JOBSTEST_TALLY"
	envLease    = "QUIRE_JOBSTEST_LEASE"
	envShutdown = "QUIRE_JOBSTEST_SHUTDOWN"
	envConc     = "QUIRE_JOBSTEST_CONCURRENCY"
)

// RunWorkerProcessIfAsked turns the test binary into a worker process when
// the suite started it as one; otherwise it returns at once. It runs a server
// with the suite's process handlers until SIGTERM, then stops gracefully and
// exits.
func RunWorkerProcessIfAsked(h Harness) {
	if os.Getenv(envWorker) != "1" {
		return
	}
	os.Exit(runWorkerProcess(h))
}

func runWorkerProcess(h Harness) int {
	// SIGTERM stops gracefully from the start: a test that stops a worker
	// it has just started must not find it killed by the default action.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := h.OpenFromEnv()
	if err != nil {
		log.Error("open driver", "error", err)
		return 2
	}
	tally, err := os.OpenFile(os.Getenv(envTally), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		log.Error("open tally", "error", err)
		return 2
	}
	mark := func(event, id string) {
		// One write per line: O_APPEND keeps lines whole.
		_, _ = tally.WriteString(event + " " + id + "\n")
	}
	// SIGTERM is handled from here on (workerProcess.stop waits for it).
	mark(eventReady, strconv.Itoa(os.Getpid()))
	hs := jobs.NewHandlers()
	// Arguments are [milliseconds].
	jobs.HandleArgs(hs, "work", func(ctx context.Context, j *jobs.Job, ms []int) error {
		time.Sleep(time.Duration(ms[0]) * time.Millisecond)
		mark("done", j.ID)
		return nil
	}, nil)
	jobs.HandleArgs(hs, "sleep", func(ctx context.Context, j *jobs.Job, ms []int) error {
		mark("start", j.ID)
		select {
		case <-time.After(time.Duration(ms[0]) * time.Millisecond):
			mark("done", j.ID)
			return nil
		case <-ctx.Done():
			mark("cancelled", j.ID)
			return ctx.Err()
		}
	}, nil)
	if err := registerLimitHandlers(hs, d, mark); err != nil {
		log.Error("limit handlers", "error", err)
		return 2
	}
	// Batches (issue #21): the callback of exerciseBatchCrash.
	jobs.HandleArgs(hs, "batch_callback", func(ctx context.Context, j *jobs.Job, a jobs.BatchCallbackArgs) error {
		// With the callback job's own ID: a SIGKILL after this line and
		// before the job's outcome is recorded runs the job again, as any
		// job; a callback enqueued twice would show two IDs.
		mark("callback", string(a.Event)+":"+a.BatchID+"/"+j.ID)
		return nil
	}, nil)
	lease, _ := time.ParseDuration(os.Getenv(envLease))
	shutdown, _ := time.ParseDuration(os.Getenv(envShutdown))
	conc, _ := strconv.Atoi(os.Getenv(envConc))
	queues, caps, err := queueLimitFromEnv()
	if err != nil {
		log.Error("queue limit", "error", err)
		return 2
	}
	srv, err := jobs.NewServer(d, &jobs.Config{Handlers: hs, Concurrency: conc, LeaseDuration: lease,
		ShutdownTimeout: shutdown, PollInterval: 50 * time.Millisecond, Logger: log,
		Queues: queues, QueueGlobalLimits: caps})
	if err != nil {
		log.Error("new server", "error", err)
		return 2
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("stop", "error", err)
		return 1
	}
	return 0
}

// workerProcess is a running child worker.
type workerProcess struct {
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // how it exited; read after done
	tally   string
}

// eventReady is the tally line a worker writes once SIGTERM stops it
// gracefully.
const eventReady = "ready"

// stop stops the worker with SIGTERM, once it handles the signal, and
// requires a graceful exit.
func (w *workerProcess) stop(t *testing.T) {
	t.Helper()
	pid := strconv.Itoa(w.cmd.Process.Pid)
	eventually(t, 30*time.Second, "worker "+pid+" ready", func() bool {
		data, err := os.ReadFile(w.tally)
		return err == nil && strings.Contains(string(data), eventReady+" "+pid+"\n")
	})
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop worker %s: %v", pid, err)
	}
	if err := w.wait(); err != nil {
		t.Fatalf("worker %s did not stop gracefully: %v", pid, err)
	}
}

// wait waits for the process to exit and returns how it exited.
func (w *workerProcess) wait() error {
	<-w.done
	return w.waitErr
}

type workerOpts struct {
	lease, shutdown time.Duration
	concurrency     int
	// env is added to the child's environment (limit.go's envLimit).
	env []string
}

func startWorkerProcess(t *testing.T, h Harness, d jobs.Driver, dir string, n int, o workerOpts) *workerProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tally := filepath.Join(dir, fmt.Sprintf("tally-%d", n))
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), h.ProcessEnv(d)...)
	cmd.Env = append(cmd.Env, envWorker+"=1", envTally+"="+tally, envLease+"="+o.lease.String(),
		envShutdown+"="+o.shutdown.String(), envConc+"="+strconv.Itoa(o.concurrency))
	cmd.Env = append(cmd.Env, o.env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start worker process: %v", err)
	}
	w := &workerProcess{cmd: cmd, done: make(chan struct{}), tally: tally}
	go func() {
		w.waitErr = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-w.done
	})
	return w
}

// readTallies counts events per job id over every tally file in dir.
func readTallies(t testing.TB, dir, event string) map[string]int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "tally-*"))
	counts := map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if ev, id, ok := strings.Cut(sc.Text(), " "); ok && ev == event {
				counts[id]++
			}
		}
		fh.Close()
	}
	return counts
}
