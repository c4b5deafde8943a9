package cache_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/internal/testenv"
)

// countLogs counts the records at level whose message starts with prefix.
func countLogs(logs *testenv.LogRecorder, level slog.Level, prefix string) int {
	n := 0
	for _, rec := range logs.Records() {
		if rec.Level == level && strings.HasPrefix(rec.Message, prefix) {
			n++
		}
	}
	return n
}

const (
	msgDown = "cache: memcached unavailable"
	msgBack = "cache: memcached available again"
)

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

// TestMemcachedOutage kills memcached while the cache is in use: calls turn
// into misses without errors or long waits, the outage is logged once, and
// caching resumes by itself when memcached is back.
func TestMemcachedOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mc := testenv.StartMemcached(t)
	logs := &testenv.LogRecorder{}
	c, err := cache.NewMemcached([]string{mc.Addr}, &cache.MemcachedOpts{
		Prefix: "quire:", RetryInterval: 100 * time.Millisecond, Logger: slog.New(logs),
	})
	require.NoError(t, err)
	defer c.Close()

	c.Set(ctx, "page:1", []byte("rendered"), time.Minute)
	v, ok := c.Get(ctx, "page:1")
	require.True(t, ok)
	require.Equal(t, "rendered", string(v))

	for outage := 1; outage <= 2; outage++ {
		mc.Kill()
		start := time.Now()
		for i := range 500 {
			_, ok := c.Get(ctx, "page:1")
			require.False(t, ok, "a miss while memcached is down")
			c.Set(ctx, fmt.Sprintf("page:%d", i), []byte("x"), time.Minute) // no error to return, no panic
			c.Delete(ctx, "page:2")
		}
		elapsed := time.Since(start)
		require.Less(t, elapsed, 3*time.Second, "calls during an outage do not wait for the server")
		require.Equal(t, outage, countLogs(logs, slog.LevelWarn, msgDown), "one warning per outage, not per call")

		mc.Start()
		eventually(t, 10*time.Second, "caching works again after memcached restarted", func() bool {
			c.Set(ctx, "page:again", []byte("back"), time.Minute)
			v, ok := c.Get(ctx, "page:again")
			return ok && string(v) == "back"
		})
		require.Equal(t, outage, countLogs(logs, slog.LevelInfo, msgBack))
		require.Equal(t, outage, countLogs(logs, slog.LevelWarn, msgDown))
	}
}

// TestMemcachedNeverUp: a cache pointed at a server that is not running
// works as a cache that never hits.
func TestMemcachedNeverUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	logs := &testenv.LogRecorder{}
	c, err := cache.NewMemcached([]string{addr}, &cache.MemcachedOpts{Logger: slog.New(logs)})
	require.NoError(t, err)
	for range 100 {
		c.Set(ctx, "k", []byte("v"), 0)
		_, ok := c.Get(ctx, "k")
		require.False(t, ok)
	}
	require.Equal(t, 1, countLogs(logs, slog.LevelWarn, msgDown))
}

// TestMemcachedHungServer: a server that accepts connections and never
// answers costs one timeout, then calls miss at once until the retry
// interval has passed.
func TestMemcachedHungServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	logs := &testenv.LogRecorder{}
	c, err := cache.NewMemcached([]string{l.Addr().String()}, &cache.MemcachedOpts{
		Timeout: 200 * time.Millisecond, RetryInterval: time.Hour, Logger: slog.New(logs),
	})
	require.NoError(t, err)
	start := time.Now()
	_, ok := c.Get(ctx, "k")
	require.False(t, ok)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the first call waits for the timeout")
	start = time.Now()
	for range 1000 {
		_, ok := c.Get(ctx, "k")
		require.False(t, ok)
	}
	require.Less(t, time.Since(start), 100*time.Millisecond, "later calls do not")
	require.Equal(t, 1, countLogs(logs, slog.LevelWarn, msgDown))
}

// TestMemcachedTooLarge: a value over the item size is not cached, and is
// not mistaken for an outage.
func TestMemcachedTooLarge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mc := testenv.StartMemcached(t)
	logs := &testenv.LogRecorder{}
	c, err := cache.NewMemcached([]string{mc.Addr}, &cache.MemcachedOpts{Logger: slog.New(logs)})
	require.NoError(t, err)
	defer c.Close()
	c.Set(ctx, "big", make([]byte, 2<<20), 0)
	_, ok := c.Get(ctx, "big")
	require.False(t, ok)
	// Past the client's check, the server refuses it: still no outage.
	c2, err := cache.NewMemcached([]string{mc.Addr}, &cache.MemcachedOpts{MaxItemBytes: 4 << 20, Logger: slog.New(logs)})
	require.NoError(t, err)
	defer c2.Close()
	c2.Set(ctx, "big", make([]byte, 2<<20), 0)
	_, ok = c2.Get(ctx, "big")
	require.False(t, ok)
	c2.Set(ctx, "small", []byte("fine"), 0)
	_, ok = c2.Get(ctx, "small")
	require.True(t, ok)
	require.Zero(t, countLogs(logs, slog.LevelWarn, msgDown))
}
