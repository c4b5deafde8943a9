package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/bench"
)

// benchPipelinePDFWorkersDefault is the PDF engines of `bench pipeline`.
const benchPipelinePDFWorkersDefault = 2

// benchPipelineFlags holds the settings of `bench pipeline`: the
// harness's, the documents' it opens, and how to print its result.
type benchPipelineFlags struct {
	bench.PipelineConfig
	// PDFWorkers is the number of PDF engine instances.
	PDFWorkers int
	// JSON prints one JSON object as the last line.
	JSON bool
	// CPUProfile, when set, writes a CPU profile of the measured run there.
	CPUProfile string
}

func (a *cli) newBenchPipelineCommand() *cobra.Command {
	f := &benchPipelineFlags{}
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Measure the document pipeline end to end on a corpus",
		Long: `Measure the document pipeline end to end on a directory of documents, in
this one process.

It starts a worker with the pipeline, ingests every file under --corpus
(recursively, from a few goroutines), and waits until every document (with the
attachments found in them) is done or failed. It reports documents/s and
pages/s from the first ingest to the last document finished, the p50 and p99
of ingest to done per document, and of started to done per stage, from the
documents' processing events.

By default everything is fresh and temporary: the job database, the store and
the blobs go to a new directory in $TMPDIR, removed at the end. With
--redis-url it works under its own random key prefix and deletes those keys at
the end. With --postgres-url it uses that database, which must hold no
documents yet (create a fresh one). Blobs always go to the temporary
directory: a file per document, deleted at the end. Set TMPDIR to a volume
like the one a deployment keeps its blobs on; on an ext4 without a journal,
file creation right after many deletions slows each run down
(scripts/bench-volume.sh mounts a journaled one).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := a.runBenchPipeline(cmd.Context(), f)
			if err != nil {
				return err
			}
			return a.printBench(res, f.JSON)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.Corpus, "corpus", "", "directory of documents to ingest, recursively (required)")
	fs.IntVar(&f.Concurrency, "concurrency", bench.PipelineConcurrencyDefault, "jobs the server runs at once")
	fs.IntVar(&f.IngestConcurrency, "ingest-concurrency", bench.PipelineIngestConcurrencyDefault, "files ingested at once")
	fs.IntVar(&f.IngestBatch, "ingest-batch", bench.PipelineIngestBatchDefault, "files each ingesting client sends at once (1: one at a time)")
	fs.IntVar(&f.PDFWorkers, "pdf-workers", benchPipelinePDFWorkersDefault, "PDF engine instances")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&f.Timeout, "timeout", bench.PipelineTimeoutDefault, "give up after this long")
	fs.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	_ = fs.MarkHidden("cpuprofile")
	return cmd
}

// validate checks the flags before anything is opened. The harness would
// take a zero for its default; a zero given on the command line is a
// mistake.
func (f *benchPipelineFlags) validate() error {
	var errs []error
	if f.Corpus == "" {
		errs = append(errs, errors.New("--corpus is required: give a directory of documents"))
	} else if fi, err := os.Stat(f.Corpus); err != nil || !fi.IsDir() {
		errs = append(errs, fmt.Errorf("invalid --corpus %q: not a directory", f.Corpus))
	}
	if f.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --concurrency %d: it must be at least 1", f.Concurrency))
	}
	if f.IngestConcurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --ingest-concurrency %d: it must be at least 1", f.IngestConcurrency))
	}
	if f.IngestBatch < 1 {
		errs = append(errs, fmt.Errorf("invalid --ingest-batch %d: it must be at least 1", f.IngestBatch))
	}
	if f.PDFWorkers < 1 {
		errs = append(errs, fmt.Errorf("invalid --pdf-workers %d: it must be at least 1", f.PDFWorkers))
	}
	if f.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", f.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{Err: err}
	}
	return nil
}

// runBenchPipeline checks the flags, then measures the pipeline
// (app.BenchPipeline).
func (a *cli) runBenchPipeline(ctx context.Context, f *benchPipelineFlags) (*bench.PipelineResult, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	var prof io.Writer // nil: no profile
	if f.CPUProfile != "" {
		pf, err := os.Create(f.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("bench: create --cpuprofile: %w", err)
		}
		defer pf.Close()
		prof = pf
	}
	res, err := a.BenchPipeline(ctx, &f.PipelineConfig, f.PDFWorkers, prof)
	if errors.Is(err, bench.ErrCorpusEmpty) {
		return nil, usagef("invalid --corpus %q: no files in it", f.Corpus)
	}
	return res, err
}
