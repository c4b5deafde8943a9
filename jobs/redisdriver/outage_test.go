package redisdriver_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// privateRedis runs a Redis server of the test's own, so the test can stop
// and restart it. It keeps an append-only file, as a production Redis that
// must not lose jobs does.
type privateRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	bin, err := exec.LookPath("redis-server")
	jobstest.RequireService(t, "redis-server binary", err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &privateRedis{t: t, port: port, dir: t.TempDir()}
	r.start(bin)
	t.Cleanup(r.kill)
	return r
}

func (r *privateRedis) start(bin string) {
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--logfile", filepath.Join(r.dir, "log"))
	require.NoError(r.t, r.cmd.Start())
	rdb := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer rdb.Close()
	require.Eventually(r.t, func() bool { return rdb.Ping(context.Background()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
}

func (r *privateRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *privateRedis) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// countingHandler counts log records at warning level and above.
type countingHandler struct {
	slog.Handler
	warnings atomic.Int64
	mu       sync.Mutex
	messages []string
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.warnings.Add(1)
	}
	h.mu.Lock()
	h.messages = append(h.messages, r.Message)
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.messages...)
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }

// TestRedisOutage stops Redis under a running server: enqueue fails with an
// error, workers back off without flooding the log, and once Redis is back
// every job accepted before and after the outage runs.
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := startPrivateRedis(t)
	bin, _ := exec.LookPath("redis-server")
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	d, err := redisdriver.New(rdb, nil)
	require.NoError(t, err)
	client, err := jobs.NewClient(d, nil)
	require.NoError(t, err)

	var ran sync.Map
	var count atomic.Int64
	hs := jobs.NewHandlers()
	hs.Handle("work", func(ctx context.Context, j *jobs.Job) error {
		if _, dup := ran.LoadOrStore(j.ID, true); !dup {
			count.Add(1)
		}
		return nil
	}, nil)
	logs := &countingHandler{}
	srv, err := jobs.NewServer(d, &jobs.Config{Handlers: hs, Concurrency: 4, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(logs), ProcessHeartbeat: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { _ = srv.Stop(ctx) })

	enqueue := func(n int) {
		for range n {
			_, err := client.Enqueue(ctx, "work", nil, nil)
			require.NoError(t, err)
		}
	}
	enqueue(100)
	require.Eventually(t, func() bool { return count.Load() == 100 }, 10*time.Second, 10*time.Millisecond)
	// Jobs scheduled just before the outage must survive it.
	for range 20 {
		_, err := client.Enqueue(ctx, "work", nil, &jobs.EnqueueOpts{RunIn: 500 * time.Millisecond})
		require.NoError(t, err)
	}

	r.kill()
	_, err = client.Enqueue(ctx, "work", nil, nil)
	require.Error(t, err, "enqueue while Redis is down")
	require.ErrorContains(t, err, "enqueue work job")
	before := logs.warnings.Load()
	time.Sleep(3 * time.Second) // an outage: the server keeps trying
	require.LessOrEqual(t, logs.warnings.Load()-before, int64(8), "log flood while Redis is down: %v", logs.all())
	require.True(t, time.Since(srv.FetchLoopBeat()) < 2*time.Second, "the fetch loop keeps beating through the outage")

	r.start(bin)
	enqueue(100)
	require.Eventually(t, func() bool { return count.Load() == 220 }, 20*time.Second, 10*time.Millisecond,
		"jobs run after Redis returns")
}
