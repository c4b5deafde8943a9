package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/app"
	"github.com/quirehq/quire/internal/bench"
)

// benchSearchFlags holds the settings of `bench search`: the harness's,
// the store's it opens, and how to print its result.
type benchSearchFlags struct {
	bench.SearchConfig
	app.BenchSearchOptions
	// JSON prints one JSON object as the last line.
	JSON bool
}

func (a *cli) newBenchSearchCommand() *cobra.Command {
	f := &benchSearchFlags{}
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Measure full-text search on generated documents",
		Long: `Measure full-text search on --docs generated documents, in this one process.

It generates documents of real words (English, with some French, German and
Spanish, drawn by frequency as in natural text; a few hundred to several
thousand words each; several media types, states and languages) and saves
each as the pipeline does, through the store, from --loaders goroutines. Then
it runs --warmup queries, and measures --queries more one at a time: common
and rare words, several words, phrases, prefixes, and words within a state.
The last line of --json is {"docs":…,"p50_ms":…,"p95_ms":…,"qps":…,…}, with
the figures of each kind of query under "kinds".

By default the store is a fresh SQLite database in a new temporary directory
in $TMPDIR, or in --data-dir when that is given. With --postgres-url the
bench creates a database of its own on that server (the URL's database is
only used to create it). Either is removed at the end, unless --keep: then a
later run can measure it again with --existing LOCATION (a SQLite file or a
PostgreSQL URL, as the kept run printed), which migrates it first.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.DataDirGiven = cmd.Flags().Changed("data-dir")
			if v, ok := a.lookupEnv(app.EnvName("data-dir")); ok && v != "" {
				f.DataDirGiven = true
			}
			res, err := a.runBenchSearch(cmd.Context(), f)
			if err != nil {
				return err
			}
			return a.printBench(res, f.JSON)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&f.Docs, "docs", bench.SearchDocsDefault, "documents to generate")
	fs.IntVar(&f.Queries, "queries", bench.SearchQueriesDefault, "queries to measure")
	fs.IntVar(&f.Warmup, "warmup", bench.SearchWarmupDefault, "queries to run first, not measured")
	fs.IntVar(&f.Limit, "limit", bench.SearchLimitDefault, "hits asked of each query")
	fs.IntVar(&f.Loaders, "loaders", bench.SearchLoadersDefault, "goroutines saving documents at once")
	fs.BoolVar(&f.Keep, "keep", false, "keep the store at the end, for --existing")
	fs.StringVar(&f.ExistingStore, "existing", "", "measure the store a --keep run left (a SQLite file or a PostgreSQL URL) instead of generating one")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&f.Timeout, "timeout", bench.SearchTimeoutDefault, "give up after this long")
	return cmd
}

// validate checks the flags before anything is opened. The harness would
// take a zero for its default; a zero given on the command line is a
// mistake.
func (f *benchSearchFlags) validate() error {
	var errs []error
	if f.Docs < 1 {
		errs = append(errs, fmt.Errorf("invalid --docs %d: it must be at least 1", f.Docs))
	}
	if f.Queries < 1 {
		errs = append(errs, fmt.Errorf("invalid --queries %d: it must be at least 1", f.Queries))
	}
	if f.Warmup < 0 {
		errs = append(errs, fmt.Errorf("invalid --warmup %d: it must not be negative", f.Warmup))
	}
	if f.Limit < 1 || f.Limit > 1000 {
		errs = append(errs, fmt.Errorf("invalid --limit %d: it must be 1 to 1000", f.Limit))
	}
	if f.Loaders < 1 {
		errs = append(errs, fmt.Errorf("invalid --loaders %d: it must be at least 1", f.Loaders))
	}
	if f.Keep && f.ExistingStore != "" {
		errs = append(errs, errors.New("--keep and --existing: an existing store is always kept"))
	}
	if f.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", f.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{Err: err}
	}
	return nil
}

// runBenchSearch checks the flags, then measures search (app.BenchSearch).
func (a *cli) runBenchSearch(ctx context.Context, f *benchSearchFlags) (*bench.SearchResult, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	return a.BenchSearch(ctx, &f.SearchConfig, &f.BenchSearchOptions)
}
