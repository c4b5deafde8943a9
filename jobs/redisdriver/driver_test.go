package redisdriver_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

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

// newClient connects to the test Redis, skipping (or failing, in CI) when it
// is unreachable.
func newClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	opts, err := redis.ParseURL(redisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	jobstest.RequireService(t, "Redis at "+redisURL(), rdb.Ping(context.Background()).Err())
	return rdb
}

// newDriver returns a driver with its own key prefix, whose keys are deleted
// at cleanup.
func newDriver(t testing.TB) *redisdriver.Driver {
	t.Helper()
	rdb := newClient(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "quiretest:" + hex.EncodeToString(b)
	d, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: prefix})
	require.NoError(t, err)
	t.Cleanup(func() { deleteKeys(t, rdb, prefix) })
	return d
}

func deleteKeys(t testing.TB, rdb redis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("delete test keys %s:*: %v", prefix, err)
	}
}

func harness() jobstest.Harness {
	return jobstest.Harness{
		New: func(t testing.TB) jobs.Driver { return newDriver(t) },
		ProcessEnv: func(d jobs.Driver) []string {
			return []string{"QUIRE_TEST_REDIS_URL=" + redisURL(), "QUIRE_JOBSTEST_PREFIX=" + d.(*redisdriver.Driver).Prefix()}
		},
		OpenFromEnv: func() (jobs.Driver, error) {
			opts, err := redis.ParseURL(redisURL())
			if err != nil {
				return nil, err
			}
			return redisdriver.New(redis.NewClient(opts), &redisdriver.Config{Prefix: os.Getenv("QUIRE_JOBSTEST_PREFIX")})
		},
		PushRaw: func(t testing.TB, d jobs.Driver, queue string, raw []byte) {
			rd := d.(*redisdriver.Driver)
			key := fmt.Sprintf("%s:{%s}:ready", rd.Prefix(), queue)
			require.NoError(t, rd.Client().LPush(context.Background(), key, raw).Err())
		},
	}
}

func TestMain(m *testing.M) {
	jobstest.RunWorkerProcessIfAsked(harness())
	os.Exit(m.Run())
}

func TestDriver(t *testing.T) {
	t.Parallel()
	jobstest.Exercise(t, harness())
}
