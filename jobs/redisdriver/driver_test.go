package redisdriver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// redisURL is the Redis the tests use: QUIRE_TEST_REDIS_URL, or a local
// default.
func redisURL() string {
	if u := os.Getenv("QUIRE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// clusterURL is the Redis Cluster the tests use, as
// redis+cluster://host:port,host:port: QUIRE_TEST_REDIS_CLUSTER_URL
// (scripts/redis-cluster.sh starts one), or empty.
func clusterURL() string { return os.Getenv("QUIRE_TEST_REDIS_CLUSTER_URL") }

// openRedis opens a single server for a redis:// URL, or a cluster for a
// redis+cluster:// one.
func openRedis(url string) (redis.UniversalClient, error) {
	if addrs, ok := strings.CutPrefix(url, "redis+cluster://"); ok {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")}), nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opts), nil
}

// newClient connects to the test Redis (or cluster), skipping (or failing,
// in CI) when it is unreachable.
func newClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	if url == "" {
		jobstest.RequireService(t, "Redis Cluster (QUIRE_TEST_REDIS_CLUSTER_URL)", errors.New("not configured; scripts/redis-cluster.sh starts one"))
	}
	rdb, err := openRedis(url)
	require.NoError(t, err)
	t.Cleanup(func() { rdb.Close() })
	jobstest.RequireService(t, "Redis at "+url, rdb.Ping(context.Background()).Err())
	return rdb
}

// newDriver returns a driver with its own key prefix, whose keys are deleted
// at cleanup.
func newDriver(t testing.TB) *redisdriver.Driver { return newDriverAt(t, redisURL()) }

func newDriverAt(t testing.TB, url string) *redisdriver.Driver {
	t.Helper()
	rdb := newClient(t, url)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "quiretest:" + hex.EncodeToString(b)
	d, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() { deleteKeys(t, rdb, prefix) })
	return d
}

// deleteKeys deletes the keys under prefix on every master.
func deleteKeys(t testing.TB, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	del := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		return iter.Err()
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, del)
	case *redis.Client:
		err = del(ctx, c)
	}
	if err != nil {
		t.Logf("delete test keys %s:*: %v", prefix, err)
	}
}

// harness connects the suite to a driver on the Redis at url.
func harness(url func() string) jobstest.Harness {
	return jobstest.Harness{
		New: func(t testing.TB) jobs.Driver { return newDriverAt(t, url()) },
		ProcessEnv: func(d jobs.Driver) []string {
			return []string{"QUIRE_JOBSTEST_REDIS=" + url(), "QUIRE_JOBSTEST_PREFIX=" + d.(*redisdriver.Driver).Prefix()}
		},
		OpenFromEnv: func() (jobs.Driver, error) {
			rdb, err := openRedis(os.Getenv("QUIRE_JOBSTEST_REDIS"))
			if err != nil {
				return nil, err
			}
			return redisdriver.New(rdb, &redisdriver.Config{Prefix: os.Getenv("QUIRE_JOBSTEST_PREFIX")})
		},
		NewCapped: func(t testing.TB, deadMaxJobs int, deadMaxAge time.Duration) jobs.Driver {
			base := newDriverAt(t, url())
			d, err := redisdriver.New(base.Client(), &redisdriver.Config{Prefix: base.Prefix(),
				DeadMaxJobs: deadMaxJobs, DeadMaxAge: deadMaxAge})
			require.NoError(t, err)
			return d
		},
		PushRaw: func(t testing.TB, d jobs.Driver, queue string, raw []byte) {
			rd := d.(*redisdriver.Driver)
			key := fmt.Sprintf("%s:{%s}:ready", rd.Prefix(), queue)
			require.NoError(t, rd.Client().LPush(context.Background(), key, raw).Err())
		},
	}
}

func TestMain(m *testing.M) {
	// A worker process opens whichever Redis its parent names.
	jobstest.RunWorkerProcessIfAsked(harness(redisURL))
	os.Exit(m.Run())
}

func TestDriver(t *testing.T) {
	t.Parallel()
	jobstest.Exercise(t, harness(redisURL))
}

// TestDriverCluster runs the whole suite, SIGKILL test included, on a Redis
// Cluster of three masters: every script must find its keys in one slot.
func TestDriverCluster(t *testing.T) {
	t.Parallel()
	newClient(t, clusterURL()) // skip or fail early when there is none
	jobstest.Exercise(t, harness(clusterURL))
}
