package app

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/internal/buildinfo"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/redisdriver"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

// JobsDBName is the embedded broker's file in --data-dir.
const JobsDBName = "jobs.db"

// Broker is the job driver a command runs on, with what it needs to close.
// Every command opens it with openBroker, so that the embedded default and
// the switch to Redis behave the same everywhere.
type Broker struct {
	Driver jobs.Driver
	// RDB is the client under the Redis driver; nil on the embedded one.
	RDB redis.UniversalClient
	// Engine names the broker in bench results: quire-redis or
	// quire-sqlite.
	Engine string
	// Attrs describe the broker in logs, without secrets.
	Attrs []any
}

// OpenBroker opens the broker g selects: Redis when RedisURL is set, else
// the embedded SQLite database in DataDir, created if missing. Errors name
// the setting to mend.
func OpenBroker(g *Config) (*Broker, error) {
	if g.RedisURL != "" {
		return openRedisBroker(g)
	}
	if g.DataDir == "" {
		return nil, Usagef("invalid %s %q: give a directory, or use --redis-url", Setting("data-dir"), g.DataDir)
	}
	path := filepath.Join(g.DataDir, JobsDBName)
	drv, err := sqlitedriver.Open(path, nil)
	if err != nil {
		// Not a usage error: the setting may be right and the disk full or
		// the file locked by hand; the message names both anyway.
		return nil, fmt.Errorf("open the job database in %s %q: %w", Setting("data-dir"), g.DataDir, err)
	}
	return &Broker{Driver: drv, Engine: "quire-sqlite", Attrs: []any{"jobs_db", drv.Path()}}, nil
}

func openRedisBroker(g *Config) (*Broker, error) {
	rdb, err := redisdriver.OpenURL(g.RedisURL)
	if err != nil {
		return nil, Usagef("invalid %s %q: %w", Setting("redis-url"), RedactURL(g.RedisURL), redactErr(err))
	}
	if g.RedisWaitReplicas < 0 {
		_ = rdb.Close()
		return nil, Usagef("invalid %s %d: it must not be negative", Setting("redis-wait-replicas"), g.RedisWaitReplicas)
	}
	drv, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: g.RedisPrefix, WaitReplicas: g.RedisWaitReplicas})
	if err != nil {
		_ = rdb.Close()
		return nil, Usagef("invalid %s %q: %w", Setting("redis-prefix"), g.RedisPrefix, err)
	}
	return &Broker{
		Driver: drv,
		RDB:    rdb,
		Engine: "quire-redis",
		Attrs:  []any{"redis_url", RedactURL(g.RedisURL), "redis_prefix", drv.Prefix()},
	}, nil
}

// Close closes the driver, then the Redis client under it, which the
// driver does not own.
func (b *Broker) Close() error {
	err := b.Driver.Close()
	if b.RDB != nil {
		err = errors.Join(err, b.RDB.Close())
	}
	return err
}

// NewJobServer builds a job server on d for a role: the one place a
// command assembles one, so that every server logs to the command's logger
// and reports Quire's version and its role (the Web UI's processes page
// shows both); a bad setting is a usage error.
func (a *App) NewJobServer(d jobs.Driver, role string, cfg jobs.Config) (*jobs.Server, error) {
	cfg.Logger = a.Log
	cfg.Version = buildinfo.Version
	cfg.Labels = map[string]string{"role": role}
	if cfg.MaxRescues == 0 {
		n, err := a.Config.maxRescues()
		if err != nil {
			return nil, err
		}
		cfg.MaxRescues = n
	}
	limits, err := ParseQueueLimits(a.Config.QueueLimits)
	if err != nil {
		return nil, Usagef("invalid %s %q: %w", Setting("queue-limits"), a.Config.QueueLimits, err)
	}
	for q, n := range limits {
		if _, ok := cfg.Queues[q]; ok { // the caps of queues other workers serve are theirs
			if cfg.QueueGlobalLimits == nil {
				cfg.QueueGlobalLimits = map[string]int{}
			}
			cfg.QueueGlobalLimits[q] = n
		}
	}
	if mw := a.Config.jobMiddleware(); mw != nil {
		cfg.Middleware = append(mw, cfg.Middleware...) // outermost: the span covers the rest
	}
	srv, err := jobs.NewServer(d, &cfg)
	if err != nil {
		return nil, Usagef("%w", err)
	}
	return srv, nil
}
