package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

const (
	// riverDatabase is created on the server if missing; each run uses its
	// own schema in it, dropped at the end.
	riverDatabase  = "quire_bench_river"
	riverBatchSize = 1000

	// River's default fetch timings (100 ms cooldown, 1 s poll) cap
	// throughput; its docs advise lowering them when throughput matters.
	riverFetchCooldown     = 2 * time.Millisecond
	riverFetchPollInterval = 20 * time.Millisecond
)

// riverEngine runs the workload on River (Postgres, pgx v5 driver). Bulk
// mode uses InsertManyFast (COPY FROM) in sequential batches of 1000.
type riverEngine struct {
	cfg    config
	rec    *recorder
	pool   *pgxpool.Pool
	schema string
	client *river.Client[pgx.Tx]
}

type riverNoopArgs struct {
	T int64 `json:"t"` // enqueue wall-clock time, unix nanoseconds
}

func (riverNoopArgs) Kind() string { return "quirebench_noop" }

type riverNoopWorker struct {
	river.WorkerDefaults[riverNoopArgs]
	rec *recorder
}

func (w *riverNoopWorker) Work(_ context.Context, job *river.Job[riverNoopArgs]) error {
	w.rec.record(job.Args.T)
	return nil
}

func (e *riverEngine) setup(ctx context.Context, cfg config, rec *recorder) error {
	e.cfg, e.rec = cfg, rec
	benchURL, err := ensureRiverDatabase(ctx, cfg.PostgresURL)
	if err != nil {
		return err
	}
	pcfg, err := pgxpool.ParseConfig(benchURL)
	if err != nil {
		return err
	}
	pcfg.MaxConns = 20
	if e.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return err
	}

	schema := "bench_" + runID()
	if _, err := e.pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return err
	}
	e.schema = schema
	driver := riverpgxv5.New(e.pool)
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: quietLogger()})
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &riverNoopWorker{rec: rec})
	e.client, err = river.NewClient(driver, &river.Config{
		Schema:            schema,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}},
		Workers:           workers,
		FetchCooldown:     riverFetchCooldown,
		FetchPollInterval: riverFetchPollInterval,
		Logger:            quietLogger(),
	})
	return err
}

// ensureRiverDatabase creates riverDatabase if missing and returns its URL.
func ensureRiverDatabase(ctx context.Context, adminURL string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", riverDatabase).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		_, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{riverDatabase}.Sanitize())
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") { // duplicate_database
			return "", err
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + riverDatabase
	return u.String(), nil
}

func (e *riverEngine) method() string {
	return fmt.Sprintf("InsertManyFast (COPY FROM) in batches of %d", riverBatchSize)
}

func (e *riverEngine) singleCall() string { return "Client.Insert" }

func (e *riverEngine) enqueueBulk(ctx context.Context, n int) error {
	return riverInsertBulk(ctx, e.client, n)
}

// riverInsertBulk inserts n no-op jobs with InsertManyFast in sequential
// batches of riverBatchSize, on either of River's drivers.
func riverInsertBulk[TTx any](ctx context.Context, client *river.Client[TTx], n int) error {
	params := make([]river.InsertManyParams, 0, riverBatchSize)
	for done := 0; done < n; {
		size := min(riverBatchSize, n-done)
		params = params[:0]
		t := time.Now().UnixNano()
		for range size {
			params = append(params, river.InsertManyParams{Args: riverNoopArgs{T: t}})
		}
		if _, err := client.InsertManyFast(ctx, params); err != nil {
			return err
		}
		done += size
	}
	return nil
}

func (e *riverEngine) enqueueOne(ctx context.Context) error {
	_, err := e.client.Insert(ctx, riverNoopArgs{T: time.Now().UnixNano()}, nil)
	return err
}

func (e *riverEngine) start(ctx context.Context) error {
	// Start's context is the client's lifetime, not the run's timeout:
	// stop is always called explicitly.
	return e.client.Start(context.WithoutCancel(ctx))
}

func (e *riverEngine) stop(ctx context.Context) error {
	if e.client == nil {
		return nil
	}
	err := e.client.Stop(ctx)
	var completed int
	if qerr := e.pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{e.schema, "river_job"}.Sanitize()+" WHERE state = 'completed'").Scan(&completed); qerr == nil {
		slog.Info("river jobs marked completed", "count", completed)
	}
	return err
}

func (e *riverEngine) cleanup(ctx context.Context) error {
	if e.pool == nil {
		return nil
	}
	defer e.pool.Close()
	if e.schema == "" {
		return nil
	}
	// Dropping the run's schema removes river_job and River's other tables.
	_, err := e.pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{e.schema}.Sanitize()+" CASCADE")
	slog.Info("cleaned up", "engine", "river", "database", riverDatabase, "schema_dropped", e.schema)
	return err
}

// quietLogger logs River's warnings and errors only, to stderr.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
