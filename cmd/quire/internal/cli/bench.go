package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/jobs"
)

// benchCleanupTimeout bounds the deletion of a bench's Redis keys.
const benchCleanupTimeout = time.Minute

// benchJobsFlags holds the settings of `bench jobs`: the harness's, and how
// to print its result.
type benchJobsFlags struct {
	bench.JobsConfig
	// JSON prints one JSON object as the last line.
	JSON bool
}

func (a *app) newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine",
	}
	f := &benchJobsFlags{}
	jobsCmd := &cobra.Command{
		Use:   "jobs",
		Short: "Measure enqueue and processing throughput and latency of no-op jobs",
		Long: `Measure the engine on no-op jobs, in this one process.

Without --rate, it enqueues --jobs jobs in bulk (EnqueueMany, 5,000 per call,
from a few goroutines), then starts a server and measures how fast it runs
them. With --rate, it starts the server first and enqueues one job per call at
that steady rate: the enqueue-to-start latency is the figure to watch there.

Without --redis-url it runs on the embedded SQLite driver, on a fresh
database in a new temporary directory that it removes at the end, so every run
starts from the same empty file and leaves nothing behind. The directory is
made in $TMPDIR, or in --data-dir when that is given, to measure the disk a
deployment uses (a tmpfs flatters the figures); an existing jobs.db there is
never touched.

With --redis-url it works under its own random key prefix (quirebench:…) and
deletes those keys at the end, with SCAN and UNLINK, never FLUSHDB: others may
share the Redis. --redis-prefix is ignored.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dataDirGiven := cmd.Flags().Changed("data-dir")
			if v, ok := a.lookupEnv(envName("data-dir")); ok && v != "" {
				dataDirGiven = true
			}
			res, err := a.runBench(cmd.Context(), f, dataDirGiven)
			if err != nil {
				return err
			}
			return a.printBench(res, f.JSON)
		},
	}
	fs := jobsCmd.Flags()
	fs.IntVar(&f.Jobs, "jobs", bench.JobsDefault, "jobs to enqueue and run")
	fs.IntVar(&f.Concurrency, "concurrency", bench.JobsConcurrencyDefault, "jobs the server runs at once")
	fs.IntVar(&f.Rate, "rate", 0, "enqueue one job per call at this many jobs/s with the server running; 0 enqueues in bulk first")
	fs.IntVar(&f.Batch, "batch", jobs.FetchBatchSizeDefault, "the server's fetch batch size")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&f.Timeout, "timeout", bench.JobsTimeoutDefault, "give up after this long")
	cmd.AddCommand(jobsCmd)
	cmd.AddCommand(a.newBenchPipelineCommand())
	return cmd
}

// validate checks the flags before anything is opened. The harness would
// take a zero for its default; a zero given on the command line is a
// mistake.
func (f *benchJobsFlags) validate() error {
	var errs []error
	if f.Jobs < 1 {
		errs = append(errs, fmt.Errorf("invalid --jobs %d: it must be at least 1", f.Jobs))
	}
	if f.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --concurrency %d: it must be at least 1", f.Concurrency))
	}
	if f.Rate < 0 {
		errs = append(errs, fmt.Errorf("invalid --rate %d: it must not be negative", f.Rate))
	}
	if f.Batch < 1 || f.Batch > jobs.FetchBatchSizeMax {
		errs = append(errs, fmt.Errorf("invalid --batch %d: it must be 1 to %d", f.Batch, jobs.FetchBatchSizeMax))
	}
	if f.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", f.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return nil
}

// runBench measures the engine on a broker of its own: a fresh database in
// a temporary directory (in --data-dir when dataDirGiven), or a random key
// prefix on the given Redis. Either is removed at the end.
func (a *app) runBench(ctx context.Context, f *benchJobsFlags, dataDirGiven bool) (res *bench.JobsResult, err error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	g := a.global
	if g.RedisURL != "" {
		g.RedisPrefix = "quirebench:" + randomHex(6)
	} else {
		dir, derr := benchTempDir(g.DataDir, dataDirGiven)
		if derr != nil {
			return nil, derr
		}
		// Deferred before the broker's Close, so it runs after it.
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("bench: remove %s: %w", dir, rerr))
				return
			}
			a.log.Info("bench: removed its database", "dir", dir)
		}()
		g.DataDir = dir
	}
	b, err := openBroker(&g)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	cleanup, err := a.benchRedis(ctx, b, &g)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	cfg := f.JobsConfig
	cfg.Driver = b.driver
	cfg.Engine = b.engine
	cfg.NewServerFunc = func(c jobs.Config) (*jobs.Server, error) { return a.newJobServer(b.driver, "bench", c) }
	cfg.Logger = a.log.With(b.attrs...)
	return bench.Jobs(ctx, &cfg)
}

// benchTempDir makes the bench's database directory: in dataDir when it was
// given, else in $TMPDIR.
func benchTempDir(dataDir string, given bool) (string, error) {
	parent := ""
	if given {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", fmt.Errorf("bench: use %s %q: %w", setting("data-dir"), dataDir, err)
		}
		parent = dataDir
	}
	dir, err := os.MkdirTemp(parent, "quirebench-")
	if err != nil {
		if given {
			return "", fmt.Errorf("bench: make a temporary directory in %s %q: %w", setting("data-dir"), dataDir, err)
		}
		return "", fmt.Errorf("bench: make a temporary directory: %w", err)
	}
	return dir, nil
}

// printBench prints a bench's result: one JSON object on a line, or the
// table.
func (a *app) printBench(res interface{ WriteTable(io.Writer) error }, asJSON bool) error {
	if !asJSON {
		return res.WriteTable(a.stdout)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchRedis checks that a bench's Redis answers and returns the function
// that deletes the keys the bench wrote under its own prefix; on the
// embedded broker there is nothing to check or delete.
func (a *app) benchRedis(ctx context.Context, b *broker, g *globalConfig) (func() error, error) {
	if b.rdb == nil {
		return func() error { return nil }, nil
	}
	pingCtx, pingCancel := context.WithTimeout(ctx, 5*time.Second)
	err := b.rdb.Ping(pingCtx).Err()
	pingCancel()
	if err != nil {
		return nil, fmt.Errorf("bench: reach Redis at %s: %w", redactURL(g.RedisURL), err)
	}
	return func() error {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), benchCleanupTimeout)
		defer ccancel()
		n, err := deleteKeys(cctx, b.rdb, g.RedisPrefix+":*")
		if err != nil {
			return fmt.Errorf("bench: clean up keys %s:*: %w", g.RedisPrefix, err)
		}
		a.log.Info("bench: deleted its keys", "redis_prefix", g.RedisPrefix, "num_keys", n)
		return nil
	}, nil
}
