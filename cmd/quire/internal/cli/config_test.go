package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/buildinfo"
)

// TestExecute runs a command through the real entry point. It is not
// parallel: Execute sets go-redis's global logger.
func TestExecute(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), []string{"version"}, &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	require.Equal(t, "quire "+buildinfo.Version+"\n", stdout.String())
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{
			name: "DataDirEmpty",
			args: []string{"jobs", "queues", "--data-dir", ""},
			want: `invalid --data-dir / QUIRE_DATA_DIR "": give a directory, or use --redis-url`,
		},
		{
			name: "UpRedisURLBad",
			args: []string{"up", "--redis-url", "foo"},
			want: `invalid --redis-url / QUIRE_REDIS_URL "foo": "foo" is not host:port`,
		},
		{
			name: "UpRedisURLBadEnv",
			args: []string{"up"},
			env:  map[string]string{"QUIRE_REDIS_URL": "http://127.0.0.1:6379"},
			want: `invalid --redis-url / QUIRE_REDIS_URL "http://127.0.0.1:6379": unknown scheme "http"`,
		},
		{
			name: "PostgresURLBad",
			args: []string{"migrate", "--postgres-url", "mysql://u:hunter2@h/db"},
			want: `open the store (--postgres-url / QUIRE_POSTGRES_URL): store: open mysql://u:xxxxx@h/db: invalid: unsupported scheme "mysql"`,
		},
		{
			name: "UpConcurrencyZero",
			args: []string{"up", "--concurrency", "0"},
			want: `invalid --concurrency / QUIRE_CONCURRENCY 0`,
		},
		{
			name: "RedisURLBadFlag",
			args: []string{"jobs", "queues", "--redis-url", "foo"},
			want: `invalid --redis-url / QUIRE_REDIS_URL "foo": `,
		},
		{
			name: "RedisURLBadEnv",
			args: []string{"jobs", "stats"},
			env:  map[string]string{"QUIRE_REDIS_URL": "http://127.0.0.1:6379"},
			want: `invalid --redis-url / QUIRE_REDIS_URL "http://127.0.0.1:6379": unknown scheme "http"`,
		},
		{
			name: "RedisURLPasswordHidden",
			args: []string{"jobs", "queues", "--redis-url", "redis://:hunter2@127.0.0.1:6379/0?bogus=1"},
			want: `invalid --redis-url / QUIRE_REDIS_URL "redis://:xxxxx@127.0.0.1:6379/0?bogus=1"`,
		},
		{
			name: "RedisPrefixBad",
			args: []string{"jobs", "queues", "--redis-url", "redis://127.0.0.1:6379/0", "--redis-prefix", "a{b}"},
			want: `invalid --redis-prefix / QUIRE_REDIS_PREFIX "a{b}"`,
		},
		{
			name: "RedisWaitReplicasNegative",
			args: []string{"jobs", "queues", "--redis-url", "redis://127.0.0.1:6379/0", "--redis-wait-replicas", "-1"},
			want: `invalid --redis-wait-replicas / QUIRE_REDIS_WAIT_REPLICAS -1`,
		},
		{
			name: "RoleBadFlag",
			args: []string{"serve", "--role", "nope"},
			want: `invalid --role / QUIRE_ROLE "nope": valid roles are ml, scheduler, web, worker`,
		},
		{
			name: "RoleBadEnv",
			args: []string{"serve"},
			env:  map[string]string{"QUIRE_ROLE": "nope"},
			want: `invalid --role / QUIRE_ROLE "nope": valid roles are ml, scheduler, web, worker`,
		},
		{
			name: "QueuesBadWeight",
			args: []string{"serve", "--queues", "default=1,critical=x"},
			want: `invalid --queues / QUIRE_QUEUES "default=1,critical=x": weight "x" of queue "critical"`,
		},
		{
			name: "QueuesEmptyEntry",
			args: []string{"serve", "--queues", "default=1,,critical=3"},
			want: `invalid --queues / QUIRE_QUEUES "default=1,,critical=3": empty queue entry`,
		},
		{
			name: "QueuesBadName",
			args: []string{"serve", "--queues", "a{b}=1"},
			want: `invalid --queues / QUIRE_QUEUES "a{b}=1": queue name "a{b}"`,
		},
		{
			name: "QueuesBadEnv",
			args: []string{"serve"},
			env:  map[string]string{"QUIRE_QUEUES": "default=0"},
			want: `invalid --queues / QUIRE_QUEUES "default=0"`,
		},
		{
			name: "ConcurrencyBadEnv",
			args: []string{"serve"},
			env:  map[string]string{"QUIRE_CONCURRENCY": "lots"},
			want: `invalid --concurrency / QUIRE_CONCURRENCY "lots"`,
		},
		{
			name: "ConcurrencyZero",
			args: []string{"serve", "--concurrency", "0"},
			want: `invalid --concurrency / QUIRE_CONCURRENCY 0`,
		},
		{
			name: "ShutdownTimeoutZero",
			args: []string{"serve", "--shutdown-timeout", "0s"},
			want: `invalid --shutdown-timeout / QUIRE_SHUTDOWN_TIMEOUT 0`,
		},
		{
			name: "LogLevelBad",
			args: []string{"version", "--log-level", "loud"},
			want: `invalid --log-level / QUIRE_LOG_LEVEL "loud"`,
		},
		{
			name: "LogFormatBadEnv",
			args: []string{"version"},
			env:  map[string]string{"QUIRE_LOG_FORMAT": "xml"},
			want: `invalid --log-format / QUIRE_LOG_FORMAT "xml": use text or json`,
		},
		{
			name: "FlagUnknown",
			args: []string{"serve", "--nope"},
			want: "unknown flag: --nope",
		},
		{
			name: "StateBad",
			args: []string{"jobs", "retry", "X", "--state", "ready"},
			want: `invalid --state "ready": use retry, dead, scheduled`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t.Context(), t, &runOpts{env: tt.env}, tt.args...)
			require.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, tt.want)
			require.NotContains(t, r.stderr, "hunter2")
			require.Empty(t, r.stdout)
		})
	}
}

func TestFlagBeatsEnv(t *testing.T) {
	t.Parallel()
	// The flag is valid and the environment is not: the flag wins, so the
	// command gets as far as the next setting, which is wrong on purpose.
	r := runCLI(t.Context(), t, &runOpts{env: map[string]string{"QUIRE_ROLE": "nope"}}, "serve", "--role", "worker", "--concurrency", "0")
	require.Equal(t, exitUsage, r.code)
	require.NotContains(t, r.stderr, "--role")
	require.Contains(t, r.stderr, "invalid --concurrency / QUIRE_CONCURRENCY 0")
}

// TestDataDirUnusable: a --data-dir that cannot hold the database stops
// every command that opens the job engine, with a message naming the
// setting and the path.
func TestDataDirUnusable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("not a directory"), 0o644))
	bad := filepath.Join(file, "quire-data") // even root cannot make it

	for _, args := range [][]string{
		{"up", "--addr", "127.0.0.1:0"},
		{"serve", "--role", "worker", "--addr", "127.0.0.1:0"},
		{"jobs", "queues"},
		{"jobs", "enqueue", "noop"},
	} {
		t.Run(args[0]+"_"+args[1], func(t *testing.T) {
			t.Parallel()
			r := runCLI(t.Context(), t, nil, append(args, "--data-dir", bad)...)
			require.Equal(t, exitError, r.code, r.stderr)
			require.Contains(t, r.stderr, `open the job database in --data-dir / QUIRE_DATA_DIR "`+bad+`"`)
			require.Empty(t, r.stdout)
		})
	}
	t.Run("Env", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t.Context(), t, &runOpts{env: map[string]string{"QUIRE_DATA_DIR": bad}}, "jobs", "stats")
		require.Equal(t, exitError, r.code, r.stderr)
		require.Contains(t, r.stderr, `--data-dir / QUIRE_DATA_DIR "`+bad+`"`)
	})
}
