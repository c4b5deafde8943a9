package app

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
)

// EnvAnnotation marks a flag with the environment variable that sets it when
// the flag is not given.
const EnvAnnotation = "quire_env"

// Defaults of the global settings.
const (
	DataDirDefault   = "./quire-data"
	LogFormatDefault = "text"
	LogLevelDefault  = "info"
	// WebhookConcurrencyDefault lets a receiver take a few deliveries at
	// once, not the hundreds a busy pipeline would otherwise send it.
	WebhookConcurrencyDefault = 4
)

// Config holds the settings every command shares.
type Config struct {
	// DataDir holds the embedded broker's database, jobs.db, used when
	// RedisURL is empty. Defaults to ./quire-data, created if missing.
	DataDir string
	// RedisURL locates the broker: redis://, rediss://, redis+cluster:// or
	// a comma-separated list of host:port. Empty runs on the embedded
	// broker in DataDir.
	RedisURL string
	// RedisPrefix starts every key. Defaults to "quire".
	RedisPrefix string
	// RedisWaitReplicas makes every enqueue wait until that many replicas
	// hold the job (Redis WAIT). Defaults to 0.
	RedisWaitReplicas int
	// PostgresURL locates the relational store. Empty keeps it in an
	// embedded SQLite database, quire.db in DataDir.
	PostgresURL string
	// BlobURL locates the documents' content: file:///dir (a local or
	// shared directory), s3://bucket, gs://bucket. Empty keeps it in
	// DataDir/blobs.
	BlobURL string
	// CacheURL locates the cache: memcache://host:11211,… or memory://.
	// Empty caches in the process.
	CacheURL string
	// WebhookAllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses. Defaults to false.
	WebhookAllowPrivate bool
	// WebhookConcurrency is how many deliveries to one webhook may be in
	// flight at once across every worker (pipeline.Config), 0 for no
	// limit. Defaults to WebhookConcurrencyDefault.
	WebhookConcurrency int
	// MaxRescues is how many times a job may stop the worker running it (its
	// lease ran out: the process died, was killed or froze) before the
	// pipeline fails its document and the engine sends it to the dead set
	// unrun; negative for no limit. One setting for both, so that the
	// document fails first. Defaults to jobs.MaxRescuesDefault.
	MaxRescues int
	// QueueLimits caps queues across every worker sharing the job engine:
	// "ocr=2,analyze=8" lets at most that many jobs of each run at once
	// (jobs.Config.QueueGlobalLimits). A worker applies the caps of the
	// queues it serves, so one setting serves a whole deployment.
	QueueLimits string
	// LogLevel is debug, info, warn or error. Defaults to info.
	LogLevel string
	// LogFormat is text or json. Defaults to text.
	LogFormat string
	// ML holds the machine-learning settings (mlworker.go).
	ML MLSettings
	// Limits holds the per-document limits (limits.go).
	Limits LimitSettings
	// Previews holds the previews' settings (previews.go).
	Previews PreviewSettings

	// Tracing (issue #21, tracing.go).

	// OTLPEndpoint, when set, exports traces over OTLP/HTTP to it, e.g.
	// http://otel-collector:4318. Defaults to the standard
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT;
	// with none of them, nothing is traced.
	OTLPEndpoint string
	// tracerProvider is set by App.StartTracing while traces are exported.
	tracerProvider *sdktrace.TracerProvider
}

// AddFlags adds the settings every command shares to fs, each with its
// environment variable.
func (g *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.DataDir, "data-dir", DataDirDefault, "directory of the embedded job database (jobs.db), used without --redis-url; created if missing")
	fs.StringVar(&g.RedisURL, "redis-url", "", "Redis to use instead of the embedded database: redis://[user:pass@]host:port/db, rediss://…, redis+cluster://h1:p1,h2:p2 or h1:p1,h2:p2")
	fs.StringVar(&g.RedisPrefix, "redis-prefix", redisdriver.PrefixDefault, "prefix of every Redis key, so deployments can share a Redis")
	fs.IntVar(&g.RedisWaitReplicas, "redis-wait-replicas", 0, "enqueue returns only once this many replicas hold the job, so a failover cannot lose it")
	fs.StringVar(&g.PostgresURL, "postgres-url", "", "PostgreSQL to keep documents and results in instead of the embedded database: postgres://user:pass@host:5432/db")
	fs.StringVar(&g.BlobURL, "blob-url", "", "where documents' content is kept instead of --data-dir/blobs: file:///shared/dir, s3://bucket?region=…, gs://bucket")
	fs.StringVar(&g.CacheURL, "cache-url", "", "cache instead of the in-process one: memcache://host:11211[,host2:11211]")
	fs.BoolVar(&g.WebhookAllowPrivate, "webhook-allow-private", false, "let webhooks reach loopback, private, link-local and other non-public addresses (receivers inside your own network)")
	fs.IntVar(&g.WebhookConcurrency, "webhook-concurrency", WebhookConcurrencyDefault, "deliveries in flight to one webhook at once, across every worker sharing the job engine; 0: no limit")
	fs.IntVar(&g.MaxRescues, "max-rescues", jobs.MaxRescuesDefault, "times a job may stop the worker running it (the process died, was killed or froze) before its document fails and the job goes to the dead set unrun; negative: no limit")
	fs.StringVar(&g.QueueLimits, "queue-limits", "", "at most this many jobs of a queue running at once across every worker sharing the job engine: ocr=2,analyze=8")
	fs.StringVar(&g.LogLevel, "log-level", LogLevelDefault, "log level: debug, info, warn or error")
	fs.StringVar(&g.LogFormat, "log-format", LogFormatDefault, "log format: text or json")
	fs.StringVar(&g.OTLPEndpoint, "otlp-endpoint", "", "export traces over OTLP/HTTP to this collector, e.g. http://otel-collector:4318 (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; none traces nothing)")
	for _, name := range []string{"data-dir", "redis-url", "redis-prefix", "redis-wait-replicas", "postgres-url", "blob-url", "cache-url", "webhook-allow-private", "webhook-concurrency", "max-rescues", "queue-limits", "log-level", "log-format", "otlp-endpoint"} {
		WithEnv(fs, name)
	}
	g.ML.AddFlags(fs)
	g.Limits.AddFlags(fs)
	g.Previews.AddFlags(fs)
}

// maxRescues returns MaxRescues, refusing 0: jobs.Config and
// pipeline.Config read 0 as their default, which a setting of 0 would not
// mean.
func (g *Config) maxRescues() (int, error) {
	if g.MaxRescues == 0 {
		return 0, Usagef("invalid %s 0: give at least 1, or a negative number for no limit", Setting("max-rescues"))
	}
	return g.MaxRescues, nil
}

// Logger builds the Logger the settings ask for, writing to w.
func (g *Config) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.LogLevel)); err != nil {
		return nil, Usagef("invalid %s %q: use debug, info, warn or error", Setting("log-level"), g.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, Usagef("invalid %s %q: use text or json", Setting("log-format"), g.LogFormat)
}

// LogSettings logs, at the debug level, the settings every command shares,
// with the passwords of their URLs hidden: a log is read by more people
// than the deployment's secrets are.
func (g *Config) LogSettings(log *slog.Logger, command string) {
	log.Debug("quire: settings", "command", command, "data_dir", g.DataDir,
		"redis_url", RedactURL(g.RedisURL), "redis_prefix", g.RedisPrefix,
		"postgres_url", RedactURL(g.PostgresURL), "blob_url", RedactURL(g.BlobURL),
		"cache_url", RedactURL(g.CacheURL), "webhook_allow_private", g.WebhookAllowPrivate,
		"webhook_concurrency", g.WebhookConcurrency, "max_rescues", g.MaxRescues)
}

// EnvName returns the environment variable of a flag: QUIRE_ and the flag's
// name in upper case with underscores.
func EnvName(flag string) string {
	return "QUIRE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// WithEnv lets the environment set flag name when it is not given.
func WithEnv(fs *pflag.FlagSet, name string) {
	f := fs.Lookup(name)
	if f == nil {
		panic("cli: withEnv: no flag " + name)
	}
	env := EnvName(name)
	f.Usage += " [$" + env + "]"
	if err := fs.SetAnnotation(name, EnvAnnotation, []string{env}); err != nil {
		panic(err)
	}
}

// Setting names a flag the way error messages do: "--redis-url /
// QUIRE_REDIS_URL" for a flag with an environment fallback, else "--name".
func Setting(flag string) string {
	return "--" + flag + " / " + EnvName(flag)
}

// ParseQueueLimits reads "ocr=2,analyze=8": queue names, each with its
// cap. Empty is no cap.
func ParseQueueLimits(s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return parseQueueNumbers(s, "limit", false)
}

// ParseQueues reads "default=1,critical=3": queue names with optional
// weights, which default to 1.
func ParseQueues(s string) (map[string]int, error) {
	return parseQueueNumbers(s, "weight", true)
}

// parseQueueNumbers reads "name=N,name=N", each N a whole number of at least
// 1 called what; optional says a bare name stands for 1.
func parseQueueNumbers(s, what string, optional bool) (map[string]int, error) {
	out := make(map[string]int)
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("empty queue entry: use name=%s,name=%s", what, what)
		}
		name, text, hasNumber := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if err := jobs.ValidateQueueName(name); err != nil {
			return nil, err
		}
		n := 1
		switch {
		case hasNumber:
			v, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil || v < 1 {
				return nil, fmt.Errorf("%s %q of queue %q must be a whole number of at least 1", what, text, name)
			}
			n = v
		case !optional:
			return nil, fmt.Errorf("queue %q has no %s: use name=%s,name=%s", name, what, what, what)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("queue %q is listed twice", name)
		}
		out[name] = n
	}
	return out, nil
}
