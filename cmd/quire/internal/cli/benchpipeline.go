package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// Defaults of `bench pipeline`.
const (
	// BenchPipelineConcurrency is high because a stage mostly waits on
	// the store and the broker; the PDF engines bound the CPU-heavy work.
	BenchPipelineConcurrency    = 64
	BenchPipelineTimeoutDefault = 30 * time.Minute
	BenchPipelinePDFWorkers     = 2
	// BenchPipelineIngestConcurrency stands for the clients uploading at
	// once.
	BenchPipelineIngestConcurrency = 16
)

// benchPipelineConfig holds the settings of `bench pipeline`.
type benchPipelineConfig struct {
	// Corpus is the directory whose files (recursively) are ingested.
	Corpus string
	// Concurrency is the server's Concurrency.
	Concurrency int
	// IngestConcurrency is how many files are ingested at once.
	IngestConcurrency int
	// PDFWorkers is the number of PDF engine instances.
	PDFWorkers int
	// JSON prints one JSON object as the last line.
	JSON bool
	// Timeout stops the benchmark.
	Timeout time.Duration
	// CPUProfile, when set, writes a CPU profile of the measured run there.
	CPUProfile string
}

// stageLatency is the p50 and p99 of one stage, started to done.
type stageLatency struct {
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

// benchPipelineResult is what `bench pipeline --json` prints.
type benchPipelineResult struct {
	Engine string `json:"engine"`
	Store  string `json:"store"`
	// ML reports that the analyze stage ran the machine-learning analyses
	// (--ml), not only the basic facts.
	ML          bool    `json:"ml"`
	Files       int     `json:"files"`
	Documents   int64   `json:"documents"` // files ingested plus attachments
	Done        int64   `json:"done"`
	Failed      int64   `json:"failed"`
	Duplicates  int     `json:"duplicates"` // files whose content was already ingested
	Refused     int     `json:"refused"`    // files ingest refused (empty, too large)
	Pages       int64   `json:"pages"`
	Concurrency int     `json:"concurrency"`
	ElapsedS    float64 `json:"elapsed_s"`
	// IngestS is how long ingesting every file took, from the start.
	IngestS   float64 `json:"ingest_s"`
	DocsPerS  float64 `json:"docs_per_s"`
	PagesPerS float64 `json:"pages_per_s"`
	// P50MS and P99MS are ingest to done (or failed) per document.
	P50MS  float64                 `json:"p50_ms"`
	P99MS  float64                 `json:"p99_ms"`
	Stages map[string]stageLatency `json:"stages"`
	// Failures counts failed documents by reason (its first 80 characters).
	Failures map[string]int `json:"failures,omitempty"`
	RSSMiB   float64        `json:"rss_mib"`
}

func (a *app) newBenchPipelineCommand() *cobra.Command {
	cfg := &benchPipelineConfig{}
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
			res, err := a.runBenchPipeline(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if cfg.JSON {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n", b)
				return err
			}
			return writeBenchPipelineTable(a.stdout, res)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Corpus, "corpus", "", "directory of documents to ingest, recursively (required)")
	fs.IntVar(&cfg.Concurrency, "concurrency", BenchPipelineConcurrency, "jobs the server runs at once")
	fs.IntVar(&cfg.IngestConcurrency, "ingest-concurrency", BenchPipelineIngestConcurrency, "files ingested at once")
	fs.IntVar(&cfg.PDFWorkers, "pdf-workers", BenchPipelinePDFWorkers, "PDF engine instances")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object as the last line")
	fs.DurationVar(&cfg.Timeout, "timeout", BenchPipelineTimeoutDefault, "give up after this long")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	_ = fs.MarkHidden("cpuprofile")
	return cmd
}

func (cfg *benchPipelineConfig) validate() error {
	var errs []error
	if cfg.Corpus == "" {
		errs = append(errs, errors.New("--corpus is required: give a directory of documents"))
	} else if fi, err := os.Stat(cfg.Corpus); err != nil || !fi.IsDir() {
		errs = append(errs, fmt.Errorf("invalid --corpus %q: not a directory", cfg.Corpus))
	}
	if cfg.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --concurrency %d: it must be at least 1", cfg.Concurrency))
	}
	if cfg.IngestConcurrency < 1 {
		errs = append(errs, fmt.Errorf("invalid --ingest-concurrency %d: it must be at least 1", cfg.IngestConcurrency))
	}
	if cfg.PDFWorkers < 1 {
		errs = append(errs, fmt.Errorf("invalid --pdf-workers %d: it must be at least 1", cfg.PDFWorkers))
	}
	if cfg.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("invalid --timeout %s: it must be positive", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return &usageError{err}
	}
	return nil
}

// corpusFiles lists the regular files under dir, skipping hidden ones (the
// corpora's .complete markers).
func corpusFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}

func (a *app) runBenchPipeline(ctx context.Context, cfg *benchPipelineConfig) (res *benchPipelineResult, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	files, err := corpusFiles(cfg.Corpus)
	if err != nil {
		return nil, fmt.Errorf("bench: list --corpus %q: %w", cfg.Corpus, err)
	}
	if len(files) == 0 {
		return nil, usagef("invalid --corpus %q: no files in it", cfg.Corpus)
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
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench: timed out after %s", cfg.Timeout))
	defer cancel()
	cleanup, err := a.benchRedis(ctx, b, &g)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	g.Limits.pdfWorkers = cfg.PDFWorkers // the bench's own: as many PDF engines as asked
	docs, err := openDocuments(ctx, &g, b, a.log)
	if err != nil {
		return nil, err
	}
	defer docs.Close()
	p := docs.pipeline
	before, err := docs.store.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read the store: %w", err)
	}
	if before.Documents > 0 {
		return nil, usagef("the store (%s) already holds %d documents: give the bench a fresh database",
			storeSetting(&g), before.Documents)
	}

	handlers := jobs.NewHandlers()
	p.Register(handlers)
	srv, err := a.newJobServer(b.driver, "bench", jobs.Config{
		Handlers:     handlers,
		Queues:       pipeline.Queues(),
		Concurrency:  cfg.Concurrency,
		PeriodicJobs: pipeline.PeriodicJobs(),
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), benchStopTimeout)
		defer scancel()
		if serr := srv.Stop(sctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("bench: stop server: %w", serr))
		}
	}()

	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("bench: create --cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("bench: start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	a.log.Info("bench: starting", append([]any{"corpus", cfg.Corpus, "files", len(files), "concurrency", cfg.Concurrency,
		"pdf_workers", cfg.PDFWorkers, "store", docs.store.Backend()}, b.attrs...)...)
	start := time.Now()
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	ing, err := ingestAll(ctx, p, files, cfg.IngestConcurrency)
	if err != nil {
		return nil, err
	}
	ingested := time.Since(start)
	a.log.Info("bench: ingested", "files", len(files), "created", ing.created, "duplicates", ing.duplicates,
		"refused", ing.refused, "elapsed", ingested.Round(time.Millisecond))
	st, err := waitFinal(ctx, docs.store)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	a.log.Info("bench: every document is done or failed", "documents", st.Documents, "elapsed", elapsed.Round(time.Millisecond))

	res = &benchPipelineResult{
		Engine: b.engine, Store: docs.store.Backend(), ML: docs.analyzer != nil, Files: len(files), Documents: st.Documents,
		Done: st.ByState[store.StateDone], Failed: st.ByState[store.StateFailed],
		Duplicates: ing.duplicates, Refused: ing.refused, Concurrency: cfg.Concurrency,
		ElapsedS: elapsed.Seconds(), IngestS: ingested.Seconds(), Failures: map[string]int{},
	}
	if err := collectLatencies(ctx, docs.store, res); err != nil {
		return nil, err
	}
	n := res.Done + res.Failed
	res.DocsPerS = perSecond(int(n), elapsed)
	res.PagesPerS = perSecond(int(res.Pages), elapsed)
	rss, _ := peakRSS()
	res.RSSMiB = mib(rss)
	return res, nil
}

type ingestCounts struct {
	created, duplicates, refused int
}

// ingestAll ingests files from workers goroutines.
func ingestAll(ctx context.Context, p *pipeline.Pipeline, files []string, workers int) (ingestCounts, error) {
	var next atomic.Int64
	var created, dups, refused atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range min(workers, len(files)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) || ctx.Err() != nil {
					return
				}
				f, err := os.Open(files[i])
				if err == nil {
					var c bool
					_, c, err = p.Ingest(ctx, &pipeline.IngestParams{Name: filepath.Base(files[i]), Body: f, Source: store.SourceProcess})
					f.Close()
					switch {
					case err == nil && c:
						created.Add(1)
					case err == nil:
						dups.Add(1)
					case errors.Is(err, pipeline.ErrEmpty) || errors.Is(err, pipeline.ErrTooLarge):
						refused.Add(1)
						err = nil
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("bench: ingest %s: %w", files[i], err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	return ingestCounts{int(created.Load()), int(dups.Load()), int(refused.Load())}, firstErr
}

// waitFinal waits until every document in the store is done or failed.
func waitFinal(ctx context.Context, st store.Store) (*store.Stats, error) {
	for {
		s, err := st.Stats(ctx)
		if err == nil && s.ByState[store.StateDone]+s.ByState[store.StateFailed] == s.Documents {
			return s, nil
		}
		select {
		case <-ctx.Done():
			if s != nil {
				return nil, fmt.Errorf("%w: %d of %d documents done or failed", context.Cause(ctx),
					s.ByState[store.StateDone]+s.ByState[store.StateFailed], s.Documents)
			}
			return nil, context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// collectLatencies reads every document and its events: pages, failure
// reasons, ingest to done, and started to done per stage.
func collectLatencies(ctx context.Context, st store.Store, res *benchPipelineResult) error {
	var total []time.Duration
	stages := map[string][]time.Duration{}
	cursor := ""
	for {
		list, err := st.ListDocuments(ctx, &store.ListDocumentsParams{Cursor: cursor, Limit: store.ListLimitMax})
		if err != nil {
			return fmt.Errorf("bench: list documents: %w", err)
		}
		for _, d := range list.Documents {
			res.Pages += int64(d.PageCount)
			if d.State == store.StateFailed {
				reason := d.FailureReason
				if len(reason) > 80 {
					reason = reason[:80]
				}
				res.Failures[reason]++
			}
			events, err := st.ListEvents(ctx, d.ID)
			if err != nil {
				return fmt.Errorf("bench: list events of %s: %w", d.ID, err)
			}
			var first, last time.Time
			started := map[string]time.Time{}
			for _, ev := range events {
				if first.IsZero() {
					first = ev.At
				}
				switch ev.Type {
				case store.EventStarted:
					started[ev.Stage] = ev.At
				case store.EventDone, store.EventFailed:
					if s, ok := started[ev.Stage]; ok {
						stages[ev.Stage] = append(stages[ev.Stage], ev.At.Sub(s))
						delete(started, ev.Stage)
					}
					last = ev.At
				}
			}
			if !first.IsZero() && !last.IsZero() {
				total = append(total, last.Sub(first))
			}
		}
		if list.Next == "" {
			break
		}
		cursor = list.Next
	}
	slices.Sort(total)
	res.P50MS, res.P99MS = millis(percentile(total, 0.50)), millis(percentile(total, 0.99))
	res.Stages = map[string]stageLatency{}
	for name, d := range stages {
		slices.Sort(d)
		res.Stages[name] = stageLatency{Count: len(d), P50MS: millis(percentile(d, 0.50)), P99MS: millis(percentile(d, 0.99))}
	}
	return nil
}

// stageOrder is the order stages are printed in; others follow by name.
var stageOrder = []string{"extract", "ocr", "analyze", "notify"}

func writeBenchPipelineTable(w io.Writer, r *benchPipelineResult) error {
	analysis := "basic analysis"
	if r.ML {
		analysis = "machine learning"
	}
	fmt.Fprintf(w, "quire bench pipeline (%s, store %s, %s): %d files, %d documents, concurrency %d\n",
		r.Engine, r.Store, analysis, r.Files, r.Documents, r.Concurrency)
	fmt.Fprintf(w, "  %-20s %10d\n", "done", r.Done)
	fmt.Fprintf(w, "  %-20s %10d\n", "failed", r.Failed)
	fmt.Fprintf(w, "  %-20s %10.1f docs/s  (%.2f s)\n", "throughput", r.DocsPerS, r.ElapsedS)
	fmt.Fprintf(w, "  %-20s %10.1f pages/s (%d pages)\n", "pages", r.PagesPerS, r.Pages)
	fmt.Fprintf(w, "  %-20s %10.1f ms p50, %.1f ms p99\n", "ingest to done", r.P50MS, r.P99MS)
	names := make([]string, 0, len(r.Stages))
	for n := range r.Stages {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ii, jj := slices.Index(stageOrder, names[i]), slices.Index(stageOrder, names[j])
		if ii < 0 {
			ii = len(stageOrder)
		}
		if jj < 0 {
			jj = len(stageOrder)
		}
		if ii != jj {
			return ii < jj
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		s := r.Stages[n]
		fmt.Fprintf(w, "  %-20s %10.1f ms p50, %.1f ms p99 (%d runs)\n", "stage "+n, s.P50MS, s.P99MS, s.Count)
	}
	fmt.Fprintf(w, "  %-20s %10.1f MiB\n", "peak RSS", r.RSSMiB)
	reasons := make([]string, 0, len(r.Failures))
	for reason := range r.Failures {
		reasons = append(reasons, reason)
	}
	sort.Slice(reasons, func(i, j int) bool { return r.Failures[reasons[i]] > r.Failures[reasons[j]] })
	for _, reason := range reasons {
		if _, err := fmt.Fprintf(w, "  failed %6d  %s\n", r.Failures[reason], reason); err != nil {
			return err
		}
	}
	return nil
}
