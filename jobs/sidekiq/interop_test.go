package sidekiq_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// TestRubyPushQuireRuns: jobs that Ruby's Sidekiq::Client.push_bulk and push
// put on queue:heavy all run in a Quire server, once each, and Sidekiq's
// stats count them.
func TestRubyPushQuireRuns(t *testing.T) {
	b := setupRuby(t, nil)
	const total = 10_000
	var jids []string
	b.ruby(t, &jids, "push_bulk", "HardWorker", "heavy", "10000")
	require.Len(t, jids, total)
	var single string
	b.ruby(t, &single, "push", "HardWorker", "heavy", "[10000]")

	var mu sync.Mutex
	runs := make(map[int]int)
	ids := make(map[string]bool)
	var done atomic.Int64
	hs := jobs.NewHandlers()
	jobs.HandleArgs(hs, "HardWorker", func(_ context.Context, j *jobs.Job, args []int) error {
		mu.Lock()
		runs[args[0]]++
		ids[j.ID] = true
		mu.Unlock()
		done.Add(1)
		return nil
	}, nil)
	start := time.Now()
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"heavy": 1}, Concurrency: 10})
	eventually(t, 2*time.Minute, "all jobs to run", func() bool { return done.Load() >= total+1 })
	t.Logf("ran %d jobs in %s (a test, not a benchmark)", total+1, time.Since(start).Round(time.Millisecond))

	mu.Lock()
	defer mu.Unlock()
	for i := 0; i <= total; i++ {
		require.Equal(t, 1, runs[i], "runs of job with args [%d]", i)
	}
	for _, jid := range append(jids, single) {
		require.True(t, ids[jid], "jid %s ran", jid)
	}
	ctx := context.Background()
	require.Zero(t, b.rdb.LLen(ctx, "queue:heavy").Val())
	var stats struct {
		Processed int64 `json:"processed"`
		Failed    int64 `json:"failed"`
		Today     int64 `json:"today"`
	}
	eventually(t, 10*time.Second, "outcomes to be recorded", func() bool {
		b.ruby(t, &stats, "stats")
		return stats.Processed == total+1
	})
	require.Zero(t, stats.Failed)
	require.Equal(t, int64(total+1), stats.Today)
}

// TestQuirePushRubyRuns: jobs enqueued with Quire's Go client run in a real
// Ruby sidekiq process, arguments intact.
func TestQuirePushRubyRuns(t *testing.T) {
	b := setupRuby(t, nil)
	ctx := context.Background()
	const n = 20
	params := make([]jobs.EnqueueParams, n)
	for i := range params {
		params[i] = jobs.EnqueueParams{Type: "RubyEcho", Args: []any{i, "héllo <&>"}, Opts: &jobs.EnqueueOpts{Queue: "ruby"}}
	}
	enqueued, err := b.client.EnqueueMany(ctx, params)
	require.NoError(t, err)
	// And one scheduled a moment ahead, which Sidekiq's poller enqueues.
	later, err := b.client.Enqueue(ctx, "RubyEcho", []any{n, "later"},
		&jobs.EnqueueOpts{Queue: "ruby", RunIn: 500 * time.Millisecond})
	require.NoError(t, err)
	enqueued = append(enqueued, later)

	dir := t.TempDir()
	workers, err := filepath.Abs("testdata/workers.rb")
	require.NoError(t, err)
	cmd := exec.Command("sidekiq", "-r", workers, "-q", "ruby", "-c", "2", "-t", "5")
	cmd.Env = append(os.Environ(), "REDIS_URL="+b.url, "OUT_DIR="+dir)
	logf, err := os.Create(filepath.Join(dir, "sidekiq.out"))
	require.NoError(t, err)
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
	})

	type run struct {
		JID  string `json:"jid"`
		N    int    `json:"n"`
		Word string `json:"word"`
	}
	var got []run
	eventually(t, time.Minute, "Ruby to run every job", func() bool {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(filepath.Join(dir, "sidekiq.out"))
			t.Fatalf("sidekiq exited: %v\n%s", err, out)
		default:
		}
		got = got[:0]
		f, err := os.Open(filepath.Join(dir, "ruby.log"))
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		require.NoError(t, err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r run
			require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
			got = append(got, r)
		}
		return len(got) >= n+1
	})
	byJID := make(map[string]run)
	for _, r := range got {
		byJID[r.JID] = r
	}
	for i, j := range enqueued {
		r, ok := byJID[j.ID]
		require.True(t, ok, "job %s ran in Ruby", j.ID)
		require.Equal(t, i, r.N)
		if i < n {
			require.Equal(t, "héllo <&>", r.Word)
		} else {
			require.Equal(t, "later", r.Word)
		}
	}
	require.Len(t, got, n+1, "each job ran once")

	// A Quire server beside the Ruby process: Sidekiq's ProcessSet lists
	// both.
	srv := startServer(t, b.driver, jobs.Config{Handlers: jobs.NewHandlers(), Queues: map[string]int{"go": 1}})
	var procs []struct {
		Identity string   `json:"identity"`
		PID      int      `json:"pid"`
		Queues   []string `json:"queues"`
	}
	eventually(t, 20*time.Second, "both processes in the process set", func() bool {
		b.ruby(t, &procs, "processes")
		return len(procs) == 2
	})
	byPID := map[int][]string{}
	for _, p := range procs {
		byPID[p.PID] = p.Queues
		if p.PID == os.Getpid() {
			require.Equal(t, srv.ID(), p.Identity)
		}
	}
	require.Equal(t, map[int][]string{cmd.Process.Pid: {"ruby"}, os.Getpid(): {"go"}}, byPID)
}

// chargeError has a Ruby-style class name for error_class.
type chargeError struct{ msg string }

func (e *chargeError) Error() string      { return e.msg }
func (e *chargeError) ErrorClass() string { return "Billing::CardDeclined" }

type sortedEntry struct {
	Score     float64        `json:"score"`
	Item      map[string]any `json:"item"`
	Backtrace []string       `json:"backtrace"`
}

// TestFailureInRubyRetrySet: a job that fails in Quire is in Ruby's RetrySet
// with Sidekiq's fields; RetrySet#retry_all from Ruby runs it in Quire again.
// A job with retry: 0 goes to the DeadSet; one with retry: false is dropped.
func TestFailureInRubyRetrySet(t *testing.T) {
	b := setupRuby(t, nil)
	var fail atomic.Bool
	fail.Store(true)
	var runs atomic.Int64
	hs := jobs.NewHandlers()
	jobs.HandleArgs(hs, "ChargeCard", func(_ context.Context, j *jobs.Job, args []any) error {
		runs.Add(1)
		if fail.Load() {
			return &chargeError{msg: "card declined for order 42"}
		}
		return nil
	}, nil)
	jobs.HandleArgs(hs, "AlwaysFails", func(context.Context, *jobs.Job, []any) error {
		return errors.New("nope")
	}, nil)
	hs.Handle("Explodes", func(context.Context, *jobs.Job) error { panic("out of cheese") }, nil)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"billing": 1}})

	var jid string
	before := float64(time.Now().UnixMicro()) / 1e6
	b.ruby(t, &jid, "push", "ChargeCard", "billing", `[42, {"cents": 1999}]`)
	var retries []sortedEntry
	eventually(t, 20*time.Second, "the failure in the retry set", func() bool {
		b.ruby(t, &retries, "retries")
		return len(retries) == 1
	})
	after := float64(time.Now().UnixMicro()) / 1e6
	it := retries[0].Item
	require.Equal(t, jid, it["jid"])
	require.Equal(t, "ChargeCard", it["class"])
	require.Equal(t, "billing", it["queue"])
	require.Equal(t, []any{float64(42), map[string]any{"cents": float64(1999)}}, it["args"])
	require.Equal(t, float64(0), it["retry_count"])
	require.Equal(t, "card declined for order 42", it["error_message"])
	require.Equal(t, "Billing::CardDeclined", it["error_class"])
	require.Equal(t, true, it["retry"])
	require.NotContains(t, it, "retried_at")
	failedAt, ok := it["failed_at"].(float64)
	require.True(t, ok, "failed_at is a float: %v", it["failed_at"])
	require.True(t, failedAt >= before && failedAt <= after, "failed_at %f within the test", failedAt)
	// Sidekiq's first delay: 0⁴ + 15 + rand(10)·1 seconds.
	require.GreaterOrEqual(t, retries[0].Score, failedAt+15-0.01)
	require.LessOrEqual(t, retries[0].Score, failedAt+24+0.01)

	// The Web UI shows it, in the list and on its own page.
	html := b.webPage(t, "/retries")
	require.Contains(t, html, jid)
	require.Contains(t, html, "card declined for order 42")
	html = b.webPage(t, fmt.Sprintf("/retries/%s-%s", strconv.FormatFloat(retries[0].Score, 'f', -1, 64), jid))
	require.Contains(t, html, "Billing::CardDeclined")

	// Ruby retries it (SortedEntry#retry decrements retry_count and pushes
	// it); it fails again in Quire: retry_count is Sidekiq's again, with
	// retried_at. (RetrySet#retry_all would loop: it retries until the set
	// is empty, and the job fails back into it.)
	b.ruby(t, nil, "retry_each")
	eventually(t, 20*time.Second, "the second failure in the retry set", func() bool {
		b.ruby(t, &retries, "retries")
		return runs.Load() == 2 && len(retries) == 1
	})
	it = retries[0].Item
	require.Equal(t, jid, it["jid"])
	require.Equal(t, float64(0), it["retry_count"])
	require.Equal(t, failedAt, it["failed_at"])
	require.IsType(t, float64(0), it["retried_at"])

	// Fixed: Ruby retries it once more and Quire completes it.
	fail.Store(false)
	b.ruby(t, nil, "retry_all")
	eventually(t, 20*time.Second, "the retried job to run", func() bool { return runs.Load() == 3 })

	// retry: 0 goes to the dead set at once; retry: false is dropped.
	var deadJID, droppedJID string
	b.ruby(t, &deadJID, "push", "AlwaysFails", "billing", `["x"]`, "0")
	b.ruby(t, &droppedJID, "push", "AlwaysFails", "billing", `["y"]`, "false")
	var dead []sortedEntry
	var stats struct {
		Processed int64 `json:"processed"`
		Failed    int64 `json:"failed"`
		RetrySize int64 `json:"retry_size"`
		DeadSize  int64 `json:"dead_size"`
	}
	eventually(t, 20*time.Second, "both failures to be counted", func() bool {
		b.ruby(t, &stats, "stats")
		return stats.Processed == 5
	})
	require.Equal(t, int64(4), stats.Failed)
	require.Zero(t, stats.RetrySize)
	require.Equal(t, int64(1), stats.DeadSize)
	b.ruby(t, &dead, "dead")
	require.Len(t, dead, 1)
	require.Equal(t, deadJID, dead[0].Item["jid"])
	require.Equal(t, "nope", dead[0].Item["error_message"])
	require.Equal(t, "StandardError", dead[0].Item["error_class"])
	require.Equal(t, float64(0), dead[0].Item["retry_count"])
	require.Contains(t, b.webPage(t, "/morgue"), deadJID)

	// A panic's stack is the error_backtrace of a job that asks for one,
	// in the form Ruby decodes.
	var panicJID string
	b.ruby(t, &panicJID, "push", "Explodes", "billing", `[]`, "true", `{"backtrace": true}`)
	eventually(t, 20*time.Second, "the panic in the retry set", func() bool {
		b.ruby(t, &retries, "retries")
		return len(retries) == 1
	})
	require.Equal(t, panicJID, retries[0].Item["jid"])
	require.Equal(t, "jobs.PanicError", retries[0].Item["error_class"])
	require.Equal(t, "panic: out of cheese", retries[0].Item["error_message"])
	require.NotEmpty(t, retries[0].Backtrace)
	require.Contains(t, strings.Join(retries[0].Backtrace, "\n"), "TestFailureInRubyRetrySet")
}

// TestProcessSetAndStats: Ruby's ProcessSet lists a running Quire server with
// its queues and busy count, Sidekiq::Workers lists its running jobs, and
// the process leaves the set when the server stops.
func TestProcessSetAndStats(t *testing.T) {
	b := setupRuby(t, &sidekiq.Config{Tag: "billing-go"})
	release := make(chan struct{})
	var started atomic.Int64
	hs := jobs.NewHandlers()
	jobs.HandleArgs(hs, "SlowReport", func(ctx context.Context, _ *jobs.Job, _ []any) error {
		started.Add(1)
		<-release
		return nil
	}, nil)
	srv := startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"reports": 2, "low": 1},
		Concurrency: 5, Labels: map[string]string{"role": "worker"}})
	var jids [2]string
	b.ruby(t, &jids[0], "push", "SlowReport", "reports", `[1]`)
	b.ruby(t, &jids[1], "push", "SlowReport", "reports", `[2]`)
	eventually(t, 20*time.Second, "both jobs to start", func() bool { return started.Load() == 2 })

	type process struct {
		Identity    string   `json:"identity"`
		Hostname    string   `json:"hostname"`
		PID         int      `json:"pid"`
		Tag         string   `json:"tag"`
		Concurrency int      `json:"concurrency"`
		Queues      []string `json:"queues"`
		Labels      []string `json:"labels"`
		Busy        int      `json:"busy"`
		Beat        float64  `json:"beat"`
		Quiet       string   `json:"quiet"`
		RSS         int64    `json:"rss"`
	}
	var procs []process
	eventually(t, 20*time.Second, "the process to report both busy jobs", func() bool {
		b.ruby(t, &procs, "processes")
		return len(procs) == 1 && procs[0].Busy == 2
	})
	p := procs[0]
	host, _ := os.Hostname()
	require.Equal(t, srv.ID(), p.Identity)
	require.Equal(t, host, p.Hostname)
	require.Equal(t, os.Getpid(), p.PID)
	require.Equal(t, "billing-go", p.Tag)
	require.Equal(t, 5, p.Concurrency)
	require.Equal(t, []string{"reports", "low"}, p.Queues)
	require.Equal(t, []string{"quire", "role=worker"}, p.Labels)
	require.Equal(t, "false", p.Quiet)
	require.Positive(t, p.RSS)
	require.InDelta(t, float64(time.Now().Unix()), p.Beat, 30)

	var work []struct {
		Process string `json:"process"`
		Queue   string `json:"queue"`
		Class   string `json:"class"`
		JID     string `json:"jid"`
		Args    []any  `json:"args"`
		RunAt   int64  `json:"run_at"`
	}
	b.ruby(t, &work, "workers")
	require.Len(t, work, 2)
	seen := map[string]bool{}
	for _, w := range work {
		require.Equal(t, srv.ID(), w.Process)
		require.Equal(t, "reports", w.Queue)
		require.Equal(t, "SlowReport", w.Class)
		require.Len(t, w.Args, 1)
		require.InDelta(t, time.Now().Unix(), w.RunAt, 30)
		seen[w.JID] = true
	}
	require.Equal(t, map[string]bool{jids[0]: true, jids[1]: true}, seen)

	// The Web UI's Busy page lists the process and its jobs.
	html := b.webPage(t, "/busy")
	require.Contains(t, html, srv.ID())
	require.Contains(t, html, "SlowReport")
	require.Contains(t, html, "billing-go")

	var stats struct {
		ProcessesSize int64 `json:"processes_size"`
		WorkersSize   int64 `json:"workers_size"`
		Processed     int64 `json:"processed"`
	}
	b.ruby(t, &stats, "stats")
	require.Equal(t, int64(1), stats.ProcessesSize)
	require.Equal(t, int64(2), stats.WorkersSize)
	require.Zero(t, stats.Processed)

	close(release)
	eventually(t, 20*time.Second, "processed to count both jobs", func() bool {
		b.ruby(t, &stats, "stats")
		return stats.Processed == 2 && stats.WorkersSize == 0
	})

	// The Web UI's Quiet button quiets the server: it stops fetching.
	b.ruby(t, nil, "quiet", srv.ID())
	eventually(t, 20*time.Second, "the server to go quiet", srv.IsQuiet)
	eventually(t, 20*time.Second, "the process set to show it quiet", func() bool {
		b.ruby(t, &procs, "processes")
		return len(procs) == 1 && procs[0].Quiet == "true"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, srv.Stop(ctx))
	b.ruby(t, &procs, "processes")
	require.Empty(t, procs)
}

// TestRubyScheduledJobRunsInQuire: a job Ruby schedules (perform_in, the
// schedule set) is moved to its queue by the Quire server when due, with
// enqueued_at set then, and runs.
func TestRubyScheduledJobRunsInQuire(t *testing.T) {
	b := setupRuby(t, nil)
	type run struct {
		id       string
		enqueued time.Time
	}
	got := make(chan run, 1)
	hs := jobs.NewHandlers()
	hs.Handle("Reminder", func(_ context.Context, j *jobs.Job) error {
		got <- run{j.ID, j.EnqueuedAt}
		return nil
	}, nil)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"later": 1}})
	at := time.Now().Add(time.Second)
	var jid string
	b.ruby(t, &jid, "push", "Reminder", "later", `["soon"]`, "true",
		fmt.Sprintf(`{"at": %s}`, strconv.FormatFloat(float64(at.UnixMicro())/1e6, 'f', 6, 64)))
	select {
	case r := <-got:
		require.Equal(t, jid, r.id)
		require.False(t, r.enqueued.Before(at.Truncate(time.Millisecond)), "enqueued at %s, due at %s", r.enqueued, at)
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduled job did not run")
	}
}
