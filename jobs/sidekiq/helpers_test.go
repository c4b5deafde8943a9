package sidekiq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// rubyRedisURL is the Redis database of the tests that run Ruby's Sidekiq
// on the same keys as the driver: QUIRE_TEST_SIDEKIQ_REDIS_URL, database
// included. Ruby's Sidekiq 6 takes a namespace only through the
// redis-namespace gem, which Debian's ruby-sidekiq does not pull in, so these
// tests cannot share a database by namespace as the others do: they empty
// the database they are given, before and after each test, and run one at a
// time. Such a database must be named on purpose, never guessed: without the
// variable they skip (or fail under QUIRE_TEST_REQUIRE_SERVICES=1), and a
// URL naming the suite's shared database (QUIRE_TEST_REDIS_URL) is refused.
func rubyRedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("QUIRE_TEST_SIDEKIQ_REDIS_URL")
	if u == "" {
		testenv.RequireService(t, "a Redis database of the Sidekiq tests' own (QUIRE_TEST_SIDEKIQ_REDIS_URL, emptied by them)",
			errors.New("QUIRE_TEST_SIDEKIQ_REDIS_URL is not set"))
	}
	own, err := redis.ParseURL(u)
	require.NoError(t, err, "QUIRE_TEST_SIDEKIQ_REDIS_URL")
	shared, err := redis.ParseURL(suiteRedisURL())
	require.NoError(t, err, "QUIRE_TEST_REDIS_URL")
	if own.Addr == shared.Addr && own.DB == shared.DB {
		t.Fatalf("QUIRE_TEST_SIDEKIQ_REDIS_URL %s names the database of QUIRE_TEST_REDIS_URL, which other tests share: "+
			"the Sidekiq tests empty theirs; give them another database", u)
	}
	return u
}

type bundle struct {
	rdb    *redis.Client
	url    string // for Ruby's REDIS_URL; empty in a namespace
	driver *sidekiq.Driver
	client *jobs.Client
}

// key returns the Redis key of one of Sidekiq's keys, in the driver's
// namespace.
func (b *bundle) key(name string) string {
	if ns := b.driver.Namespace(); ns != "" {
		return ns + ":" + name
	}
	return name
}

// setup returns a driver in a namespace of its own, so that tests run in
// parallel.
func setup(t *testing.T, cfg *sidekiq.Config) *bundle {
	t.Helper()
	var c sidekiq.Config
	if cfg != nil {
		c = *cfg
	}
	d := newNamespaced(t, c)
	return newBundle(t, d, "")
}

// setupRuby returns a driver without a namespace on the database of
// rubyRedisURL, emptied before and after the test, for tests that run Ruby on the same keys. It skips
// (or fails) where Ruby's Sidekiq is not installed.
func setupRuby(t *testing.T, cfg *sidekiq.Config) *bundle {
	t.Helper()
	requireRuby(t)
	return setupRubyDB(t, cfg)
}

// setupRubyDB returns a driver on the database of rubyRedisURL, emptied
// before and after the test, for a test that must see every key of its database.
func setupRubyDB(t *testing.T, cfg *sidekiq.Config) *bundle {
	t.Helper()
	u := rubyRedisURL(t)
	opts, err := redis.ParseURL(u)
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	testenv.RequireService(t, "Redis at "+u, rdb.Ping(ctx).Err())
	require.NoError(t, rdb.FlushDB(ctx).Err())
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	d, err := sidekiq.NewDriver(rdb, cfg)
	require.NoError(t, err)
	return newBundle(t, d, u)
}

func newBundle(t *testing.T, d *sidekiq.Driver, url string) *bundle {
	t.Helper()
	c, err := jobs.NewClient(d, nil)
	require.NoError(t, err)
	return &bundle{rdb: d.Client().(*redis.Client), url: url, driver: d, client: c}
}

// requireRuby lets a test run only where Debian's ruby-sidekiq is installed
// (failing instead of skipping when QUIRE_TEST_REQUIRE_SERVICES=1).
func requireRuby(t testing.TB) {
	t.Helper()
	out, err := exec.Command("ruby", "-e", `require "sidekiq"`).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	testenv.RequireService(t, "Ruby with Sidekiq (apt-get install ruby-sidekiq)", err)
}

// ruby runs a command of testdata/sidekiq_api.rb and decodes its JSON output
// into out (nil to ignore it).
func (b *bundle) ruby(t testing.TB, out any, args ...string) {
	t.Helper()
	script, err := filepath.Abs("testdata/sidekiq_api.rb")
	require.NoError(t, err)
	cmd := exec.Command("ruby", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "REDIS_URL="+b.url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "ruby %v: %s", args, stderr.String())
	if out != nil {
		require.NoError(t, json.Unmarshal(stdout, out), "ruby %v printed %s", args, stdout)
	}
}

// startServer starts a Quire server on the driver and stops it when the test
// ends.
func startServer(t testing.TB, d *sidekiq.Driver, cfg jobs.Config) *jobs.Server {
	t.Helper()
	if cfg.ProcessHeartbeat == 0 {
		cfg.ProcessHeartbeat = 100 * time.Millisecond
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	srv, err := sidekiq.NewServer(d, &cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.Stop(ctx))
	})
	return srv
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webPage renders a page of Sidekiq's Web UI (Sidekiq::Web, through Rack)
// and returns its HTML, failing unless it rendered with status 200.
func (b *bundle) webPage(t testing.TB, path string) string {
	t.Helper()
	var page struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	b.ruby(t, &page, "web", path)
	require.Equal(t, 200, page.Status, "GET %s:\n%s", path, page.Body)
	return page.Body
}
