package redisdriver_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
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

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// TestDurableEnqueue checks WaitReplicas: on the cluster (one replica per
// master) an enqueue waiting for one replica succeeds and one waiting for two
// fails with ErrNotReplicated; so does one on a server without replicas.
func TestDurableEnqueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// enqueue waits up to a generous timeout: replicas share the machine
	// with every other test.
	enqueue := func(d *redisdriver.Driver, replicas int, timeout time.Duration) error {
		dd, err := redisdriver.New(d.Client(), &redisdriver.Config{Prefix: d.Prefix(), WaitReplicas: replicas, WaitTimeout: timeout})
		require.NoError(t, err)
		c, err := jobs.NewClient(dd, nil)
		require.NoError(t, err)
		var ps []jobs.EnqueueParams
		for i := range 30 {
			ps = append(ps, jobs.EnqueueParams{Type: "noop", Opts: &jobs.EnqueueOpts{Queue: "q" + strconv.Itoa(i%6)}})
		}
		_, err = c.EnqueueMany(ctx, ps)
		return err
	}
	t.Run("Cluster", func(t *testing.T) {
		t.Parallel()
		d := newDriverAt(t, clusterURL())
		require.NoError(t, enqueue(d, 1, 10*time.Second))
		require.ErrorIs(t, enqueue(d, 2, 200*time.Millisecond), redisdriver.ErrNotReplicated)
	})
	t.Run("SingleServer", func(t *testing.T) {
		t.Parallel()
		d := newDriver(t)
		err := enqueue(d, 1, 200*time.Millisecond)
		require.ErrorIs(t, err, redisdriver.ErrNotReplicated)
		require.ErrorContains(t, err, "0 of 1 replicas")
	})
}

// TestClusterFailover kills a master of a private cluster while jobs are
// enqueued and run. Every job acknowledged with the durable option must run
// at least once after the replica takes over; the test reports how many
// acknowledged ordinary enqueues were lost.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-server"); err != nil {
		jobstest.RequireService(t, "redis-server binary", err)
	}
	ctx := context.Background()
	base := freePortRange(t, 6)
	dir := t.TempDir()
	script, _ := filepath.Abs("../../scripts/redis-cluster.sh")
	out, err := exec.Command(script, "start", dir, strconv.Itoa(base)).CombinedOutput()
	require.NoError(t, err, "start cluster: %s", out)
	t.Cleanup(func() { _ = exec.Command(script, "stop", dir, strconv.Itoa(base)).Run() })
	url := strings.TrimSpace(string(out[strings.LastIndex(string(out), "redis+cluster://"):]))

	rdb, err := openRedis(url)
	require.NoError(t, err)
	t.Cleanup(func() { rdb.Close() })
	plain, err := redisdriver.New(rdb, nil)
	require.NoError(t, err)
	durable, err := redisdriver.New(rdb, &redisdriver.Config{WaitReplicas: 1, WaitTimeout: 5 * time.Second})
	require.NoError(t, err)
	plainClient, err := jobs.NewClient(plain, nil)
	require.NoError(t, err)
	durableClient, err := jobs.NewClient(durable, nil)
	require.NoError(t, err)

	queues := map[string]int{}
	for i := range 6 {
		queues["q"+strconv.Itoa(i)] = 1
	}
	var ran sync.Map
	hs := jobs.NewHandlers()
	hs.Handle("work", func(ctx context.Context, j *jobs.Job) error { ran.Store(j.ID, true); return nil }, nil)
	srv, err := jobs.NewServer(plain, &jobs.Config{Handlers: hs, Queues: queues, Concurrency: 20,
		LeaseDuration: 3 * time.Second, PollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, srv.Start(ctx))
	t.Cleanup(func() { _ = srv.Stop(ctx) })

	var mu sync.Mutex
	var durableIDs, plainIDs []string
	var failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			c, ids := plainClient, &plainIDs
			if g%2 == 0 {
				c, ids = durableClient, &durableIDs
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				ectx, cancel := context.WithTimeout(ctx, 3*time.Second)
				j, err := c.Enqueue(ectx, "work", nil, &jobs.EnqueueOpts{Queue: "q" + strconv.Itoa(rand.IntN(6))})
				cancel()
				if err != nil {
					if failed.Add(1) < 3 {
						t.Logf("enqueue (durable %v): %v", g%2 == 0, err)
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				*ids = append(*ids, j.ID)
				mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	pid, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(base), "redis.pid"))
	require.NoError(t, err)
	p, err := strconv.Atoi(strings.TrimSpace(string(pid)))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(p, syscall.SIGKILL), "kill the master on port %d", base)
	// Enqueue through the failover and a while after it.
	require.Eventually(t, func() bool {
		info, err := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", base+1)}).ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 30*time.Second, 100*time.Millisecond, "the cluster recovers")
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, durableIDs)
	missing := func(ids []string) int {
		n := 0
		for _, id := range ids {
			if _, ok := ran.Load(id); !ok {
				n++
			}
		}
		return n
	}
	if !assertEventually(60*time.Second, func() bool { return missing(durableIDs) == 0 }) {
		st, _ := jobs.NewInspector(plain, nil).Stats(ctx, 1)
		t.Fatalf("%d of %d durably enqueued jobs never ran; broker: %+v", missing(durableIDs), len(durableIDs), st)
	}
	time.Sleep(2 * time.Second) // let the ordinary ones drain too
	t.Logf("failover: %d durable and %d ordinary enqueues acknowledged, %d enqueues refused during the failover; "+
		"%d acknowledged ordinary enqueues lost", len(durableIDs), len(plainIDs), failed.Load(), missing(plainIDs))
}

func assertEventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// freePortRange finds n consecutive free ports on loopback, and their
// cluster bus ports (+10000).
func freePortRange(t *testing.T, n int) int {
	for range 100 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			for _, port := range []int{p, p + 10000} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}
