package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/jobs"
)

// benchJobsFlags holds the settings of `bench jobs`: the harness's, and how
// to print its result.
type benchJobsFlags struct {
	bench.JobsConfig
	// JSON prints one JSON object as the last line.
	JSON bool
}

func (a *cli) newBenchCommand() *cobra.Command {
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
			if v, ok := a.lookupEnv(app.EnvName("data-dir")); ok && v != "" {
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
	fs.BoolVar(&f.InBatch, "in-batch", false, "enqueue every job into one jobs batch and wait for its success callback")
	fs.IntVar(&f.Limiter, "limiter", 0, "run every job through a concurrency limiter of this many slots; at --concurrency or more none is refused, which measures the limiter's cost")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&f.Timeout, "timeout", bench.JobsTimeoutDefault, "give up after this long")
	cmd.AddCommand(jobsCmd)
	cmd.AddCommand(a.newBenchPipelineCommand())
	cmd.AddCommand(a.newBenchSearchCommand())
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
	if f.Limiter < 0 {
		errs = append(errs, fmt.Errorf("invalid --limiter %d: it must not be negative", f.Limiter))
	}
	if f.Batch < 1 || f.Batch > jobs.FetchBatchSizeMax {
		errs = append(errs, fmt.Errorf("invalid --batch %d: it must be 1 to %d", f.Batch, jobs.FetchBatchSizeMax))
	}
	if f.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", f.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{Err: err}
	}
	return nil
}

// printBench prints a bench's result: one JSON object on a line, or the
// table.
func (a *cli) printBench(res interface{ WriteTable(io.Writer) error }, asJSON bool) error {
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

// runBench checks the flags, then measures the engine (app.BenchJobs).
func (a *cli) runBench(ctx context.Context, f *benchJobsFlags, dataDirGiven bool) (*bench.JobsResult, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	return a.BenchJobs(ctx, &f.JobsConfig, dataDirGiven)
}
