package sidekiq_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// The suite's worker processes find their Redis and namespace here.
const (
	envRedis     = "QUIRE_JOBSTEST_REDIS"
	envNamespace = "QUIRE_JOBSTEST_SIDEKIQ_NAMESPACE"
)

// suiteRedisURL is the Redis the suite runs on: QUIRE_TEST_REDIS_URL, or a
// local default. Each of its tests has a namespace of its own there, so
// they run in parallel beside the other packages' tests.
func suiteRedisURL() string {
	if u := os.Getenv("QUIRE_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// newNamespaced returns a driver in a namespace of its own, whose keys are
// deleted at cleanup.
func newNamespaced(t testing.TB, cfg sidekiq.Config) *sidekiq.Driver {
	t.Helper()
	u := suiteRedisURL()
	opts, err := redis.ParseURL(u)
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	jobstest.RequireService(t, "Redis at "+u, rdb.Ping(context.Background()).Err())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg.Namespace = "quiretest-sidekiq:" + hex.EncodeToString(b)
	d, err := sidekiq.NewDriver(rdb, &cfg)
	require.NoError(t, err)
	t.Cleanup(func() { deleteKeys(t, rdb, cfg.Namespace) })
	return d
}

// deleteKeys deletes the keys of a namespace.
func deleteKeys(t testing.TB, rdb *redis.Client, namespace string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, namespace+":*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("delete test keys %s:*: %v", namespace, err)
	}
}

// harness connects the suite to the driver.
var harness = jobstest.Harness{
	New: func(t testing.TB) jobs.Driver { return newNamespaced(t, sidekiq.Config{}) },
	ProcessEnv: func(d jobs.Driver) []string {
		return []string{envRedis + "=" + suiteRedisURL(), envNamespace + "=" + d.(*sidekiq.Driver).Namespace()}
	},
	OpenFromEnv: func() (jobs.Driver, error) {
		opts, err := redis.ParseURL(os.Getenv(envRedis))
		if err != nil {
			return nil, err
		}
		return sidekiq.NewDriver(redis.NewClient(opts), &sidekiq.Config{Namespace: os.Getenv(envNamespace)})
	},
	NewCapped: func(t testing.TB, deadMaxJobs int, deadMaxAge time.Duration) jobs.Driver {
		return newNamespaced(t, sidekiq.Config{DeadMaxJobs: deadMaxJobs, DeadMaxAge: deadMaxAge})
	},
	PushRaw: func(t testing.TB, d jobs.Driver, queue string, raw []byte) {
		sd := d.(*sidekiq.Driver)
		require.NoError(t, sd.Client().LPush(context.Background(), sd.Namespace()+":queue:"+queue, raw).Err())
	},
	// What Sidekiq's format cannot hold; doc.go says more.
	Lacks: map[jobstest.Capability]string{
		jobstest.CapabilityArgsAnyJSON: "Sidekiq's args is the array of perform's arguments",
		jobstest.CapabilityBatch:       "batches are Sidekiq Pro's, whose layout is not public; a Ruby OSS process records nothing in one",
		jobstest.CapabilityCancel:      "Sidekiq has no cancellation; a Ruby process never looks for a mark",
		jobstest.CapabilityExpiresAt:   "Sidekiq OSS has no job deadline; a Ruby process would run the job however late",
		jobstest.CapabilityJobBackoff:  "Sidekiq's format has no retry delay field; Ruby takes it from the class",
		jobstest.CapabilityJobTimeout:  "Sidekiq's format has no timeout field; a Ruby process would ignore one",
		jobstest.CapabilityLimit: "Sidekiq OSS has no limiters; a Ruby process would run limited jobs " +
			"without asking for a slot",
		jobstest.CapabilityMinuteCounters: "Sidekiq keeps daily counters only (stat:processed:YYYY-MM-DD); " +
			"its Web UI's live graph polls the totals",
		jobstest.CapabilityQueuePause: "Sidekiq OSS has no paused queues; Ruby processes would keep fetching",
		jobstest.CapabilityRescueCount: "Sidekiq's format has no rescue count, and its orphaned in-progress " +
			"lists go back to their queues as they are",
		jobstest.CapabilityUnique: "Sidekiq OSS has no unique jobs; a Ruby process would never release a key " +
			"(so periodic jobs, whose ticks are unique, cannot run either)",
		jobstest.CapabilityWrapUndecodable: "Sidekiq keeps an entry that is not a job in its dead set as it is, " +
			"without id or queue, and its Web UI shows it so",
	},
}

func TestMain(m *testing.M) {
	// A worker process opens the namespace its parent names.
	jobstest.RunWorkerProcessIfAsked(harness)
	os.Exit(m.Run())
}

func TestDriver(t *testing.T) {
	t.Parallel()
	jobstest.Exercise(t, harness)
}
