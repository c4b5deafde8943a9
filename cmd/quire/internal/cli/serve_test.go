package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/app"
	"github.com/quirehq/quire/jobs"
)

// serveBundle is a `quire serve` running in the background of a test.
type serveBundle struct {
	addr string
	// httpAddr is the web role's API address (--http-addr), when it has
	// one.
	httpAddr string
	// token, when set, goes with every request of get as a bearer token.
	token  string
	quiet  chan os.Signal
	cancel context.CancelFunc
	done   chan result
}

// startServe runs `quire serve --role worker` with args until the test
// stops it.
func startServe(t *testing.T, b *testBundle, args ...string) *serveBundle {
	t.Helper()
	return startProcess(t, b, append([]string{"serve", "--role", "worker"}, args...)...)
}

// startProcess runs a long-lived command (serve or up) on a free port of
// the loopback interface until the test stops it.
func startProcess(t *testing.T, b *testBundle, args ...string) *serveBundle {
	t.Helper()
	return startProcessWith(t, b, nil, args...)
}

// startProcessWith is startProcess with deps adjusted by tweak, if not nil.
// A process that serves an API (--http-addr) must bind it before its
// probes.
func startProcessWith(t *testing.T, b *testBundle, tweak func(d *deps), args ...string) *serveBundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serveBundle{quiet: make(chan os.Signal, 1), cancel: cancel, done: make(chan result, 1)}
	addrs := make(chan net.Addr, 1)
	httpAddrs := make(chan net.Addr, 1)
	opts := &runOpts{tweak: func(d *deps) {
		d.listening = func(a net.Addr) { addrs <- a }
		d.listeningHTTP = func(a net.Addr) { httpAddrs <- a }
		d.quietSignals = func() (<-chan os.Signal, func()) { return s.quiet, func() {} }
		if tweak != nil {
			tweak(d)
		}
	}}
	args = append(args, "--addr", "127.0.0.1:0", "--log-level", "warn")
	go func() { s.done <- b.runWith(ctx, t, opts, args...) }()
	t.Cleanup(func() { s.stop(t) })
	select {
	case a := <-addrs:
		s.addr = a.String()
		select {
		case a := <-httpAddrs:
			s.httpAddr = a.String()
		default:
		}
	case r := <-s.done:
		t.Fatalf("%s exited with %d: %s", args[0], r.code, r.stderr)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not start listening", args[0])
	}
	return s
}

// stop cancels serve's context, as SIGTERM does, and returns how it ended.
// It is safe to call more than once.
func (s *serveBundle) stop(t *testing.T) result {
	t.Helper()
	s.cancel()
	select {
	case r := <-s.done:
		s.done <- r
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
		return result{}
	}
}

func (s *serveBundle) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	require.NoError(t, err)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 20*time.Millisecond, "waiting for %s", what)
}

func TestServeWorker(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {
		s := startServe(t, b, "--queues", "default=1,critical=3", "--concurrency", "4")

		code, body := s.get(t, "/healthz")
		require.Equal(t, http.StatusOK, code, body)
		code, body = s.get(t, "/readyz")
		require.Equal(t, http.StatusOK, code, body)

		b.runOK(t, "jobs", "enqueue", "sleep", `{"duration":"30ms"}`)
		b.runOK(t, "jobs", "enqueue", "sleep", `{"ms":10}`, "--queue", "critical")
		b.runOK(t, "jobs", "enqueue", "noop", "--count", "5")
		failing := runJSON[struct{ IDs []string }](t, b, "jobs", "enqueue", "no.such.handler", `{"x":1}`).IDs[0]

		waitFor(t, "8 executions and 1 retry", func() bool {
			st := runJSON[statsView](t, b, "jobs", "stats")
			return st.Processed == 8 && st.Retry == 1 && st.Ready == 0
		})
		retries := runJSON[[]jobView](t, b, "jobs", "retries")
		require.Len(t, retries, 1)
		require.Equal(t, failing, retries[0].ID)
		require.Contains(t, retries[0].Error, `no handler registered for job type "no.such.handler"`)
		require.Contains(t, b.runOK(t, "jobs", "retries").stdout, "no.such.handler")

		code, body = s.get(t, "/metrics")
		require.Equal(t, http.StatusOK, code)
		for _, want := range []string{
			`quire_queue_processed_total{queue="default"} 7`,
			`quire_queue_processed_total{queue="critical"} 1`,
			`quire_queue_failed_total{queue="default"} 1`,
			`quire_queue_retry_jobs{queue="default"} 1`,
			`quire_queue_ready_jobs{queue="critical"} 0`,
			`quire_queue_latency_seconds{queue="default"} 0`,
			"quire_process_busy_jobs 0",
			"go_goroutines",
			// The process's own counts of what it ran, by queue and type.
			`quire_jobs_processed_total{queue="default",type="noop"} 5`,
			`quire_jobs_processed_total{queue="critical",type="sleep"} 1`,
			`quire_jobs_failed_total{queue="default",type="no.such.handler"} 1`,
			`quire_job_duration_seconds_count{queue="default",type="sleep"} 1`,
		} {
			require.Contains(t, body, want)
		}
		require.NotContains(t, body, `quire_jobs_failed_total{queue="default",type="noop"}`)

		procs := runJSON[[]struct {
			Concurrency int               `json:"concurrency"`
			Labels      map[string]string `json:"labels"`
		}](t, b, "jobs", "processes")
		require.Len(t, procs, 1)
		require.Equal(t, 4, procs[0].Concurrency)
		require.Equal(t, "worker", procs[0].Labels["role"])

		// SIGTSTP quiets the worker: not ready, still live.
		s.quiet <- syscall.SIGTSTP
		waitFor(t, "/readyz to fail", func() bool { code, _ := s.get(t, "/readyz"); return code == http.StatusServiceUnavailable })
		code, body = s.get(t, "/healthz")
		require.Equal(t, http.StatusOK, code, body)

		r := s.stop(t)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Empty(t, runJSON[[]jobView](t, b, "jobs", "running"))
		require.JSONEq(t, `[]`, b.runOK(t, "jobs", "processes", "--json").stdout)

		// By hand: retry the failed job, then delete it.
		b.runOK(t, "jobs", "retry", failing)
		ready := runJSON[[]jobView](t, b, "jobs", "ready")
		require.Len(t, ready, 1)
		require.Equal(t, failing, ready[0].ID)
		require.Equal(t, 1, ready[0].Attempt)
		b.runOK(t, "jobs", "delete", failing, "--state", "ready")
		r = b.run(t, "jobs", "delete", failing)
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "not found")
		require.Zero(t, runJSON[statsView](t, b, "jobs", "stats").Ready)
	})
}

func TestServeRetryAndDeleteFromRetrySet(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {
		s := startServe(t, b)
		id := runJSON[struct{ IDs []string }](t, b, "jobs", "enqueue", "no.such.handler").IDs[0]
		waitFor(t, "the job to fail", func() bool { return runJSON[statsView](t, b, "jobs", "stats").Retry == 1 })
		require.Equal(t, exitOK, s.stop(t).code)

		b.runOK(t, "jobs", "delete", id, "--state", "retry")
		require.Zero(t, runJSON[statsView](t, b, "jobs", "stats").Retry)
	})
}

func TestServeStopHandsBackRunningJobs(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {
		s := startServe(t, b, "--shutdown-timeout", "100ms")
		b.runOK(t, "jobs", "enqueue", "sleep", `{"duration":"10m"}`)
		waitFor(t, "the job to run", func() bool { return runJSON[statsView](t, b, "jobs", "stats").Running == 1 })

		start := time.Now()
		r := s.stop(t)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Less(t, time.Since(start), 10*time.Second)
		st := runJSON[statsView](t, b, "jobs", "stats")
		require.EqualValues(t, 1, st.Ready, "the cancelled job is back on its queue")
		require.Zero(t, st.Running)
	})
}

func TestServeAddrTaken(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	r := b.run(t, "serve", "--addr", ln.Addr().String())
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, `listen on --addr / QUIRE_ADDR "`+ln.Addr().String()+`"`)
	require.Contains(t, r.stderr, "address already in use")
}

// TestServeQueueLimits runs two workers of four slots each with
// --queue-limits default=1 on one Redis: eight sleep jobs run one at a time
// across both, as the queue's running count shows throughout; a worker
// ignores the cap of a queue it does not serve, and a cap without a number
// is a usage error.
func TestServeQueueLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.run(t, "serve", "--role", "worker", "--queue-limits", "default")
	require.Equal(t, exitUsage, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stderr, `queue "default" has no limit`)

	for range 2 {
		startServe(t, b, "--concurrency", "4", "--queue-limits", "default=1,ocr=2")
	}
	br, err := app.OpenBroker(&app.Config{RedisURL: b.redisURL, RedisPrefix: b.prefix})
	require.NoError(t, err)
	t.Cleanup(func() { _ = br.Close() })
	client, err := jobs.NewClient(br.Driver, nil)
	require.NoError(t, err)
	insp := jobs.NewInspector(br.Driver, nil)
	const n = 8
	for range n {
		_, err := client.Enqueue(t.Context(), "sleep", map[string]string{"duration": "100ms"}, nil)
		require.NoError(t, err)
	}
	var most int64
	require.Eventually(t, func() bool {
		q, err := insp.Queue(t.Context(), jobs.QueueDefault)
		require.NoError(t, err)
		most = max(most, q.Running)
		return q.Processed == n
	}, time.Minute, 5*time.Millisecond, "the sleep jobs done")
	require.Equal(t, int64(1), most, "at most one ran at once across both workers")
}
