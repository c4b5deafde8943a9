package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// riverSQLiteSynchronous is the synchronous pragma of the River database:
// FULL, the default of SQLite and of Quire's embedded driver, so that both
// sync the log at every commit and an enqueue that returned survives a power
// cut in either.
const riverSQLiteSynchronous = "FULL"

// riverSQLiteEngine runs the workload on River's SQLite driver (modernc.org
// sqlite through database/sql) in a fresh database file in a temporary
// directory, removed at the end. Bulk mode uses InsertManyFast, which on
// SQLite is one INSERT … SELECT FROM json_each per batch of 1000.
type riverSQLiteEngine struct {
	cfg    config
	rec    *recorder
	dir    string
	db     *sql.DB
	client *river.Client[*sql.Tx]
}

func (e *riverSQLiteEngine) setup(ctx context.Context, cfg config, rec *recorder) error {
	e.cfg, e.rec = cfg, rec
	dir, err := os.MkdirTemp("", "quirebench-river-sqlite-")
	if err != nil {
		return err
	}
	e.dir = dir
	// The pragmas are applied to every connection the pool opens.
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+riverSQLiteSynchronous+")")
	q.Add("_pragma", "busy_timeout(10000)")
	dsn := "file:" + filepath.Join(dir, "river.db") + "?" + q.Encode()
	if e.db, err = sql.Open("sqlite", dsn); err != nil {
		return err
	}
	// River's SQLite driver runs its maintenance, fetches and completions in
	// parallel; SQLite allows one writer at a time, so River's own advice is
	// a pool of one connection, which also avoids SQLITE_BUSY.
	e.db.SetMaxOpenConns(1)
	if err := e.db.PingContext(ctx); err != nil {
		return err
	}

	driver := riversqlite.New(e.db)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quietLogger()})
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &riverNoopWorker{rec: rec})
	e.client, err = river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}},
		Workers:           workers,
		FetchCooldown:     riverFetchCooldown,
		FetchPollInterval: riverFetchPollInterval,
		Logger:            quietLogger(),
	})
	return err
}

func (e *riverSQLiteEngine) method() string {
	return fmt.Sprintf("InsertManyFast (one INSERT … SELECT FROM json_each) in batches of %d", riverBatchSize)
}

func (e *riverSQLiteEngine) singleCall() string { return "Client.Insert" }

func (e *riverSQLiteEngine) enqueueBulk(ctx context.Context, n int) error {
	return riverInsertBulk(ctx, e.client, n)
}

func (e *riverSQLiteEngine) enqueueOne(ctx context.Context) error {
	_, err := e.client.Insert(ctx, riverNoopArgs{T: time.Now().UnixNano()}, nil)
	return err
}

func (e *riverSQLiteEngine) start(ctx context.Context) error {
	// As for River on Postgres: the client lives until stop, not until the
	// run's timeout.
	return e.client.Start(context.WithoutCancel(ctx))
}

func (e *riverSQLiteEngine) stop(ctx context.Context) error {
	if e.client == nil {
		return nil
	}
	err := e.client.Stop(ctx)
	var completed int
	if qerr := e.db.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE state = 'completed'").Scan(&completed); qerr == nil {
		slog.Info("river jobs marked completed", "count", completed)
	}
	return err
}

func (e *riverSQLiteEngine) cleanup(context.Context) error {
	var err error
	if e.db != nil {
		err = e.db.Close()
	}
	if e.dir != "" {
		if rerr := os.RemoveAll(e.dir); rerr != nil && err == nil {
			err = rerr
		}
		slog.Info("cleaned up", "engine", "river-sqlite", "dir_removed", e.dir)
	}
	return err
}
