package cli

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

// jobsDBName is the embedded broker's file in --data-dir.
const jobsDBName = "jobs.db"

// broker is the job driver a command runs on, with what it needs to close.
// Every command opens it with openBroker, so that the embedded default and
// the switch to Redis behave the same everywhere.
type broker struct {
	driver jobs.Driver
	// rdb is the client under the Redis driver; nil on the embedded one.
	rdb redis.UniversalClient
	// engine names the broker in bench results: quire-redis or
	// quire-sqlite.
	engine string
	// attrs describe the broker in logs, without secrets.
	attrs []any
}

// openBroker opens the broker g selects: Redis when RedisURL is set, else
// the embedded SQLite database in DataDir, created if missing. Errors name
// the setting to mend.
func openBroker(g *globalConfig) (*broker, error) {
	if g.RedisURL != "" {
		return openRedisBroker(g)
	}
	if g.DataDir == "" {
		return nil, usagef("invalid %s %q: give a directory, or use --redis-url", setting("data-dir"), g.DataDir)
	}
	path := filepath.Join(g.DataDir, jobsDBName)
	drv, err := sqlitedriver.Open(path, nil)
	if err != nil {
		// Not a usage error: the setting may be right and the disk full or
		// the file locked by hand; the message names both anyway.
		return nil, fmt.Errorf("open the job database in %s %q: %w", setting("data-dir"), g.DataDir, err)
	}
	return &broker{driver: drv, engine: "quire-sqlite", attrs: []any{"jobs_db", drv.Path()}}, nil
}

func openRedisBroker(g *globalConfig) (*broker, error) {
	rdb, err := redisdriver.OpenURL(g.RedisURL)
	if err != nil {
		return nil, usagef("invalid %s %q: %w", setting("redis-url"), redactURL(g.RedisURL), redactErr(err))
	}
	if g.RedisWaitReplicas < 0 {
		_ = rdb.Close()
		return nil, usagef("invalid %s %d: it must not be negative", setting("redis-wait-replicas"), g.RedisWaitReplicas)
	}
	drv, err := redisdriver.New(rdb, &redisdriver.Config{Prefix: g.RedisPrefix, WaitReplicas: g.RedisWaitReplicas})
	if err != nil {
		_ = rdb.Close()
		return nil, usagef("invalid %s %q: %w", setting("redis-prefix"), g.RedisPrefix, err)
	}
	return &broker{
		driver: drv,
		rdb:    rdb,
		engine: "quire-redis",
		attrs:  []any{"redis_url", redactURL(g.RedisURL), "redis_prefix", drv.Prefix()},
	}, nil
}

// Close closes the driver, then the Redis client under it, which the
// driver does not own.
func (b *broker) Close() error {
	err := b.driver.Close()
	if b.rdb != nil {
		err = errors.Join(err, b.rdb.Close())
	}
	return err
}

// newJobServer builds a job server on d for a role: the one place a
// command assembles one, so that every server logs to the command's logger
// and reports Quire's version and its role (the Web UI's processes page
// shows both); a bad setting is a usage error.
func (a *app) newJobServer(d jobs.Driver, role string, cfg jobs.Config) (*jobs.Server, error) {
	cfg.Logger = a.log
	cfg.Version = buildinfo.Version
	cfg.Labels = map[string]string{"role": role}
	srv, err := jobs.NewServer(d, &cfg)
	if err != nil {
		return nil, usagef("%w", err)
	}
	return srv, nil
}
