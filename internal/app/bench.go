package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/jobs"
)

// benchCleanupTimeout bounds the deletion of a bench's Redis keys.
const benchCleanupTimeout = time.Minute

// BenchJobs measures the engine (bench.Jobs) on a broker of its own: a
// fresh database in a temporary directory (in --data-dir when
// dataDirGiven), or a random key prefix on the given Redis. Either is
// removed at the end. cfg's broker and server are set here.
func (a *App) BenchJobs(ctx context.Context, jc *bench.JobsConfig, dataDirGiven bool) (res *bench.JobsResult, err error) {
	g := a.Config
	if g.RedisURL == "" {
		dir, derr := benchTempDir(g.DataDir, dataDirGiven)
		if derr != nil {
			return nil, derr
		}
		// Deferred before the broker's Close, so it runs after it.
		defer func() { err = errors.Join(err, a.removeBenchDir(dir)) }()
		g.DataDir = dir
	}
	b, closeBroker, err := a.openBenchBroker(ctx, &g)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeBroker()) }()

	cfg := *jc
	cfg.Driver = b.Driver
	cfg.Engine = b.Engine
	cfg.NewServerFunc = func(c jobs.Config) (*jobs.Server, error) { return a.NewJobServer(b.Driver, "bench", c) }
	cfg.Logger = a.Log.With(b.Attrs...)
	return bench.Jobs(ctx, &cfg)
}

// openBenchBroker opens a bench's broker on g, on Redis under a random
// prefix of its own, and returns the function that deletes the bench's
// keys and closes it.
func (a *App) openBenchBroker(ctx context.Context, g *Config) (*Broker, func() error, error) {
	if g.RedisURL != "" {
		g.RedisPrefix = "quirebench:" + RandomHex(6)
	}
	b, err := OpenBroker(g)
	if err != nil {
		return nil, nil, err
	}
	cleanup, err := a.benchRedis(ctx, b, g)
	if err != nil {
		return nil, nil, errors.Join(err, b.Close())
	}
	return b, func() error { return errors.Join(cleanup(), b.Close()) }, nil
}

// removeBenchDir removes a bench's temporary directory.
func (a *App) removeBenchDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("bench: remove %s: %w", dir, err)
	}
	a.Log.Info("bench: removed its data", "dir", dir)
	return nil
}

// benchTempDir makes the bench's database directory: in dataDir when it was
// given, else in $TMPDIR.
func benchTempDir(dataDir string, given bool) (string, error) {
	parent := ""
	if given {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", fmt.Errorf("bench: use %s %q: %w", Setting("data-dir"), dataDir, err)
		}
		parent = dataDir
	}
	dir, err := os.MkdirTemp(parent, "quirebench-")
	if err != nil {
		if given {
			return "", fmt.Errorf("bench: make a temporary directory in %s %q: %w", Setting("data-dir"), dataDir, err)
		}
		return "", fmt.Errorf("bench: make a temporary directory: %w", err)
	}
	return dir, nil
}

// BenchPipeline measures the pipeline (bench.Pipeline) on a broker, a
// store and blobs of its own: a new temporary directory, removed at the
// end, and a random key prefix on the given Redis or the given PostgreSQL
// database, which must hold no documents.
//
// pdfWorkers is the number of PDF engines; cpuProfile, when not nil,
// receives a CPU profile of the measured run.
func (a *App) BenchPipeline(ctx context.Context, pc *bench.PipelineConfig, pdfWorkers int, cpuProfile io.Writer) (res *bench.PipelineResult, err error) {
	g := a.Config
	g.BlobURL = ""
	dir, err := os.MkdirTemp("", "quirebench-pipeline-")
	if err != nil {
		return nil, fmt.Errorf("bench: make a temporary directory: %w", err)
	}
	defer func() { err = errors.Join(err, a.removeBenchDir(dir)) }()
	g.DataDir = dir
	b, closeBroker, err := a.openBenchBroker(ctx, &g)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, closeBroker()) }()
	g.Limits.PDFWorkers = pdfWorkers // the bench's own: as many PDF engines as asked
	docs, err := OpenDocuments(ctx, &g, b, a.Log)
	if err != nil {
		return nil, err
	}
	defer docs.Close()

	cfg := *pc
	cfg.Pipeline = docs.Pipeline
	cfg.Store = docs.Store
	cfg.NewServerFunc = func(c jobs.Config) (*jobs.Server, error) { return a.NewJobServer(b.Driver, "bench", c) }
	cfg.Engine = b.Engine
	cfg.ML = docs.Analyzer != nil
	cfg.Logger = a.Log.With(append(slices.Clone(b.Attrs), "pdf_workers", pdfWorkers)...)
	if cpuProfile != nil {
		cfg.CPUProfile = cpuProfile
	}
	res, err = bench.Pipeline(ctx, &cfg)
	if notEmpty := (*bench.StoreNotEmptyError)(nil); errors.As(err, &notEmpty) {
		return nil, Usagef("the store (%s) already holds %d documents: give the bench a fresh database",
			StoreSetting(&g), notEmpty.Documents)
	}
	return res, err
}

// RandomHex returns n random bytes in hex: a key prefix of its own.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchRedis checks that a bench's Redis answers and returns the function
// that deletes the keys the bench wrote under its own prefix; on the
// embedded broker there is nothing to check or delete.
func (a *App) benchRedis(ctx context.Context, b *Broker, g *Config) (func() error, error) {
	if b.RDB == nil {
		return func() error { return nil }, nil
	}
	pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
	err := b.RDB.Ping(pingCtx).Err()
	pingCancel()
	if err != nil {
		return nil, fmt.Errorf("bench: reach Redis at %s: %w", RedactURL(g.RedisURL), err)
	}
	return func() error {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), benchCleanupTimeout)
		defer ccancel()
		n, err := DeleteKeys(cctx, b.RDB, g.RedisPrefix+":*")
		if err != nil {
			return fmt.Errorf("bench: clean up keys %s:*: %w", g.RedisPrefix, err)
		}
		a.Log.Info("bench: deleted its keys", "redis_prefix", g.RedisPrefix, "num_keys", n)
		return nil
	}, nil
}
