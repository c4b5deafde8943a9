package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// syncBuffer is a bytes.Buffer that loggers on several goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what one run of the command printed and returned.
type result struct {
	code   int
	stdout string
	stderr string
}

// lastLine returns the last non-empty line of stdout.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return lines[len(lines)-1]
}

// runOpts adjust one run of the command.
type runOpts struct {
	env map[string]string
	// stdin is the command's standard input; empty by default.
	stdin  string
	tweak  func(d *deps)
	stderr *syncBuffer
}

// runCLI runs the command line as Execute does, but with an environment of
// its own (none by default) and no global side effects.
func runCLI(ctx context.Context, t testing.TB, opts *runOpts, args ...string) result {
	t.Helper()
	if opts == nil {
		opts = &runOpts{}
	}
	stdout := &syncBuffer{}
	stderr := cmp.Or(opts.stderr, &syncBuffer{})
	d := &deps{
		stdin:  strings.NewReader(opts.stdin),
		stdout: stdout,
		stderr: stderr,
		lookupEnv: func(k string) (string, bool) {
			v, ok := opts.env[k]
			return v, ok
		},
	}
	if opts.tweak != nil {
		opts.tweak(d)
	}
	code := execute(ctx, args, d)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testBundle is the broker of one test: a Redis namespace of its own (a key
// prefix whose keys are deleted at cleanup), or an embedded database in a
// temporary directory.
type testBundle struct {
	// args select the broker; every run of the bundle gets them.
	args []string
	// redisURL, prefix and rdb are set on Redis only.
	redisURL string
	prefix   string
	rdb      redis.UniversalClient
	// dataDir is set on the embedded broker only.
	dataDir string
}

// redisURLForTests is QUIRE_TEST_REDIS_URL or the local default.
func redisURLForTests() string {
	return cmp.Or(os.Getenv("QUIRE_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
}

// setup connects to the test Redis, skipping the test when it is missing
// (failing it when QUIRE_TEST_REQUIRE_SERVICES=1), and gives the test its own
// key prefix.
func setup(t *testing.T) *testBundle {
	t.Helper()
	url := redisURLForTests()
	rdb, err := redisdriver.OpenURL(url)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		jobstest.RequireService(t, "Redis at "+url, err)
	}
	b := &testBundle{redisURL: url, prefix: "quiretest:" + app.RandomHex(6), rdb: rdb,
		dataDir: filepath.Join(t.TempDir(), "quire-data")}
	// The data directory still holds the embedded store and blobs of a
	// process whose jobs are on Redis: never the package's own folder.
	b.args = []string{"--redis-url", b.redisURL, "--redis-prefix", b.prefix, "--data-dir", b.dataDir}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := app.DeleteKeys(ctx, rdb, b.prefix+":*")
		require.NoError(t, err)
		require.NoError(t, rdb.Close())
	})
	return b
}

// setupEmbedded gives the test an embedded database of its own, in a
// --data-dir removed at cleanup.
func setupEmbedded(t *testing.T) *testBundle {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "quire-data")
	return &testBundle{dataDir: dir, args: []string{"--data-dir", dir}}
}

// forEachBroker runs test on the embedded broker and on Redis (skipped
// without Redis), in parallel subtests.
func forEachBroker(t *testing.T, test func(t *testing.T, b *testBundle)) {
	t.Helper()
	for _, br := range []struct {
		name  string
		setup func(*testing.T) *testBundle
	}{
		{"Embedded", setupEmbedded},
		{"Redis", setup},
	} {
		t.Run(br.name, func(t *testing.T) {
			t.Parallel()
			test(t, br.setup(t))
		})
	}
}

// run runs the command on the bundle's namespace.
func (b *testBundle) run(t testing.TB, args ...string) result {
	t.Helper()
	return b.runWith(t.Context(), t, nil, args...)
}

func (b *testBundle) runWith(ctx context.Context, t testing.TB, opts *runOpts, args ...string) result {
	t.Helper()
	args = append(slices.Clone(args), b.args...)
	return runCLI(ctx, t, opts, args...)
}

// runOK runs the command and requires it to succeed.
func (b *testBundle) runOK(t testing.TB, args ...string) result {
	t.Helper()
	r := b.run(t, args...)
	require.Equal(t, exitOK, r.code, "quire %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// runJSON runs the command with --json and decodes what it printed.
func runJSON[T any](t testing.TB, b *testBundle, args ...string) T {
	t.Helper()
	r := b.runOK(t, append(args, "--json")...)
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v), "stdout: %s", r.stdout)
	return v
}

// keysLeft counts the keys under a prefix.
func keysLeft(t testing.TB, rdb redis.UniversalClient, prefix string) int {
	t.Helper()
	keys, err := rdb.Keys(t.Context(), prefix+":*").Result()
	require.NoError(t, err)
	return len(keys)
}
