package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/jobs"
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

func (a *app) newBenchPipelineCommand() *cobra.Command {
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
	if f.PDFWorkers < 1 {
		errs = append(errs, fmt.Errorf("invalid --pdf-workers %d: it must be at least 1", f.PDFWorkers))
	}
	if f.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", f.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return nil
}

// runBenchPipeline measures the pipeline on a broker, a store and blobs of
// its own: a new temporary directory, removed at the end, and a random key
// prefix on the given Redis or the given PostgreSQL database, which must
// hold no documents.
func (a *app) runBenchPipeline(ctx context.Context, f *benchPipelineFlags) (res *bench.PipelineResult, err error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	g := a.global
	g.BlobURL = ""
	dir, err := os.MkdirTemp("", "quirebench-pipeline-")
	if err != nil {
		return nil, fmt.Errorf("bench: make a temporary directory: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("bench: remove %s: %w", dir, rerr))
			return
		}
		a.log.Info("bench: removed its data", "dir", dir)
	}()
	g.DataDir = dir
	if g.RedisURL != "" {
		g.RedisPrefix = "quirebench:" + randomHex(6)
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
	g.Limits.pdfWorkers = f.PDFWorkers // the bench's own: as many PDF engines as asked
	docs, err := openDocuments(ctx, &g, b, a.log)
	if err != nil {
		return nil, err
	}
	defer docs.Close()

	cfg := f.PipelineConfig
	cfg.Pipeline = docs.pipeline
	cfg.Store = docs.store
	cfg.NewServerFunc = func(c jobs.Config) (*jobs.Server, error) { return a.newJobServer(b.driver, "bench", c) }
	cfg.Engine = b.engine
	cfg.ML = docs.analyzer != nil
	cfg.Logger = a.log.With(append(slices.Clone(b.attrs), "pdf_workers", f.PDFWorkers)...)
	if f.CPUProfile != "" {
		prof, err := os.Create(f.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("bench: create --cpuprofile: %w", err)
		}
		defer prof.Close()
		cfg.CPUProfile = prof
	}
	res, err = bench.Pipeline(ctx, &cfg)
	var notEmpty *bench.StoreNotEmptyError
	switch {
	case errors.Is(err, bench.ErrCorpusEmpty):
		return nil, usagef("invalid --corpus %q: no files in it", f.Corpus)
	case errors.As(err, &notEmpty):
		return nil, usagef("the store (%s) already holds %d documents: give the bench a fresh database",
			storeSetting(&g), notEmpty.Documents)
	}
	return res, err
}
