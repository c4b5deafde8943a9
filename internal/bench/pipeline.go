package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// Defaults of PipelineConfig.
const (
	// PipelineConcurrencyDefault is high because a stage mostly waits on
	// the store and the broker; the PDF engines bound the CPU-heavy work.
	PipelineConcurrencyDefault = 64
	// PipelineIngestConcurrencyDefault stands for the clients uploading at
	// once.
	PipelineIngestConcurrencyDefault = 16
	// PipelineIngestBatchDefault is how many files an ingesting client
	// sends at once: one, with pipeline.Ingest, as a client uploading one
	// file at a time does, so that figures compare with earlier ones. More
	// (pipeline.IngestMany) spare a client of small files the two commits
	// a file that bound the run with 16 clients; docs/benchmarks.md (issue
	// 18) has what that did, on a loaded machine, to the run as a whole.
	PipelineIngestBatchDefault = 1
	PipelineTimeoutDefault     = 30 * time.Minute
)

// finalPollInterval is how often Pipeline reads the store's counts while it
// waits for every document to be done or failed.
const finalPollInterval = 20 * time.Millisecond

// ErrCorpusEmpty is returned by Pipeline when the corpus holds no files.
var ErrCorpusEmpty = errors.New("no files in the corpus")

// StoreNotEmptyError is returned by Pipeline when the store already holds
// documents: the bench measures a fresh store, and counts every document in
// it as its own.
type StoreNotEmptyError struct {
	// Documents is how many documents the store holds.
	Documents int64
}

func (e *StoreNotEmptyError) Error() string {
	return fmt.Sprintf("bench: the store already holds %d documents", e.Documents)
}

// benchStore is the store's roles the bench reads: its backend's name, the
// documents and their counts, and the events that time their stages.
type benchStore interface {
	store.Documents
	store.Events
	Backend() string
}

// PipelineConfig configures Pipeline.
type PipelineConfig struct {
	// Pipeline ingests and processes the documents. Required.
	Pipeline *pipeline.Pipeline
	// Store is the pipeline's store, which must hold no documents yet.
	// Required. Any store.Store will do.
	Store benchStore
	// NewServerFunc builds the server that runs the pipeline's stages, on
	// the broker the pipeline enqueues them to, from the bench's handlers
	// and settings; a caller sets the logger, version and labels its
	// servers have. Required.
	NewServerFunc func(jobs.Config) (*jobs.Server, error)
	// Engine names the broker in the result, as quire-redis or quire-sqlite.
	Engine string
	// ML reports in the result that the analyze stage runs the
	// machine-learning analyses, not only the basic facts.
	ML bool
	// Logger receives the bench's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// CPUProfile, when set, receives a CPU profile of the measured run.
	CPUProfile io.Writer

	// Corpus is the directory whose files (recursively, hidden ones
	// skipped) are ingested. Required.
	Corpus string
	// Concurrency is the server's Concurrency. Defaults to 64.
	Concurrency int
	// IngestConcurrency is how many files are ingested at once. Defaults to
	// 16.
	IngestConcurrency int
	// IngestBatch is how many files an ingesting client sends at once,
	// with pipeline.IngestMany; 1 ingests each file on its own
	// (pipeline.Ingest). Defaults to 1.
	IngestBatch int
	// Timeout stops the benchmark. Defaults to 30 minutes.
	Timeout time.Duration
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c PipelineConfig) WithDefaults() PipelineConfig {
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.Concurrency = cmp.Or(c.Concurrency, PipelineConcurrencyDefault)
	c.IngestConcurrency = cmp.Or(c.IngestConcurrency, PipelineIngestConcurrencyDefault)
	c.IngestBatch = cmp.Or(c.IngestBatch, PipelineIngestBatchDefault)
	c.Timeout = cmp.Or(c.Timeout, PipelineTimeoutDefault)
	return c
}

func (c *PipelineConfig) validate() error {
	var errs []error
	if c.Pipeline == nil {
		errs = append(errs, errors.New("Pipeline is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.NewServerFunc == nil {
		errs = append(errs, errors.New("NewServerFunc is required"))
	}
	if c.Corpus == "" {
		errs = append(errs, errors.New("Corpus is required"))
	} else if fi, err := os.Stat(c.Corpus); err != nil || !fi.IsDir() {
		errs = append(errs, fmt.Errorf("Corpus %q is not a directory", c.Corpus))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("Concurrency %d must be at least 1", c.Concurrency))
	}
	if c.IngestConcurrency < 1 {
		errs = append(errs, fmt.Errorf("IngestConcurrency %d must be at least 1", c.IngestConcurrency))
	}
	if c.IngestBatch < 1 {
		errs = append(errs, fmt.Errorf("IngestBatch %d must be at least 1", c.IngestBatch))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("Timeout %s must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

// StageLatency is the p50 and p99 of one stage, started to done.
type StageLatency struct {
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

// PipelineResult is what Pipeline measured; its JSON is what `quire bench
// pipeline --json` prints.
type PipelineResult struct {
	Engine string `json:"engine"`
	Store  string `json:"store"`
	// ML reports that the analyze stage ran the machine-learning analyses
	// (--ml), not only the basic facts.
	ML          bool  `json:"ml"`
	Files       int   `json:"files"`
	Documents   int64 `json:"documents"` // files ingested plus attachments
	Done        int64 `json:"done"`
	Failed      int64 `json:"failed"`
	Duplicates  int   `json:"duplicates"` // files whose content was already ingested
	Refused     int   `json:"refused"`    // files ingest refused (empty, too large)
	Pages       int64 `json:"pages"`
	Concurrency int   `json:"concurrency"`
	// IngestConcurrency and IngestBatch are the ingesting clients and the
	// files each sends at once.
	IngestConcurrency int     `json:"ingest_concurrency"`
	IngestBatch       int     `json:"ingest_batch"`
	ElapsedS          float64 `json:"elapsed_s"`
	// IngestS is how long ingesting every file took, from the start.
	IngestS   float64 `json:"ingest_s"`
	DocsPerS  float64 `json:"docs_per_s"`
	PagesPerS float64 `json:"pages_per_s"`
	// P50MS and P99MS are ingest to done (or failed) per document.
	P50MS  float64                 `json:"p50_ms"`
	P99MS  float64                 `json:"p99_ms"`
	Stages map[string]StageLatency `json:"stages"`
	// Failures counts failed documents by reason (its first 80 characters).
	Failures map[string]int `json:"failures,omitempty"`
	RSSMiB   float64        `json:"rss_mib"`
	// CPUS is the CPU time, user and system, that this process and the
	// programs it ran (tesseract, LibreOffice) spent from the first ingest
	// to the last document finished: steadier than documents/s on a
	// machine whose speed drifts. The servers' (Redis, PostgreSQL) is not
	// in it. 0 where it is not measured (not Unix).
	CPUS float64 `json:"cpu_s"`
}

// Pipeline measures the document pipeline end to end, in this process. It
// starts a server with the pipeline's stages, ingests every file of the
// corpus from IngestConcurrency goroutines, and waits until every document
// (with the attachments found in them) is done or failed. It reports
// documents/s and pages/s from the first ingest to the last document
// finished, the p50 and p99 of ingest to done per document, and of started
// to done per stage, from the documents' processing events.
//
// It returns ErrCorpusEmpty when the corpus has no files, and a
// *StoreNotEmptyError when the store already holds documents.
func Pipeline(ctx context.Context, cfg *PipelineConfig) (res *PipelineResult, err error) {
	c := cfg.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("bench: invalid pipeline config: %w", err)
	}
	files, err := corpusFiles(c.Corpus)
	if err != nil {
		return nil, fmt.Errorf("bench: list the corpus %q: %w", c.Corpus, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("bench: %q: %w", c.Corpus, ErrCorpusEmpty)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout, fmt.Errorf("bench: timed out after %s", c.Timeout))
	defer cancel()
	before, err := c.Store.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read the store: %w", err)
	}
	if before.Documents > 0 {
		return nil, &StoreNotEmptyError{Documents: before.Documents}
	}

	handlers := jobs.NewHandlers()
	c.Pipeline.Register(handlers)
	srv, err := c.NewServerFunc(jobs.Config{
		Handlers:     handlers,
		Queues:       pipeline.Queues(),
		Concurrency:  c.Concurrency,
		PeriodicJobs: pipeline.PeriodicJobs(),
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stopServer(ctx, srv)) }()

	if c.CPUProfile != nil {
		if err := pprof.StartCPUProfile(c.CPUProfile); err != nil {
			return nil, fmt.Errorf("bench: start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	c.Logger.Info("bench: starting", "corpus", c.Corpus, "files", len(files), "concurrency", c.Concurrency,
		"store", c.Store.Backend())
	start, cpuStart := time.Now(), cpuTime()
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	ing, err := ingestAll(ctx, c.Pipeline, files, c.IngestConcurrency, c.IngestBatch)
	if err != nil {
		return nil, err
	}
	ingested := time.Since(start)
	c.Logger.Info("bench: ingested", "files", len(files), "created", ing.created, "duplicates", ing.duplicates,
		"refused", ing.refused, "elapsed", ingested.Round(time.Millisecond))
	st, err := waitFinal(ctx, c.Store)
	if err != nil {
		return nil, err
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpuStart
	if c.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	c.Logger.Info("bench: every document is done or failed", "documents", st.Documents, "elapsed", elapsed.Round(time.Millisecond))

	res = &PipelineResult{
		Engine: c.Engine, Store: c.Store.Backend(), ML: c.ML, Files: len(files), Documents: st.Documents,
		Done: st.ByState[store.StateDone], Failed: st.ByState[store.StateFailed],
		Duplicates: ing.duplicates, Refused: ing.refused, Concurrency: c.Concurrency,
		IngestConcurrency: c.IngestConcurrency, IngestBatch: c.IngestBatch,
		ElapsedS: elapsed.Seconds(), IngestS: ingested.Seconds(), Failures: map[string]int{},
		CPUS: cpu.Seconds(),
	}
	if err := collectLatencies(ctx, c.Store, res); err != nil {
		return nil, err
	}
	n := res.Done + res.Failed
	res.DocsPerS = perSecond(int(n), elapsed)
	res.PagesPerS = perSecond(int(res.Pages), elapsed)
	rss, _ := peakRSS()
	res.RSSMiB = mib(rss)
	return res, nil
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

type ingestCounts struct {
	created, duplicates, refused int
}

// ingestAll ingests files from workers goroutines, batch files at a time
// each.
func ingestAll(ctx context.Context, p *pipeline.Pipeline, files []string, workers, batch int) (ingestCounts, error) {
	var next atomic.Int64
	var created, dups, refused atomic.Int64
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range min(workers, (len(files)+batch-1)/batch) {
		wg.Go(func() {
			for {
				from := int(next.Add(int64(batch)) - int64(batch))
				if from >= len(files) || ctx.Err() != nil {
					return
				}
				names := files[from:min(from+batch, len(files))]
				res, err := ingestFiles(ctx, p, names)
				if err != nil {
					fail(err)
					return
				}
				for i, r := range res {
					switch {
					case r.Err == nil && r.Created:
						created.Add(1)
					case r.Err == nil:
						dups.Add(1)
					case errors.Is(r.Err, pipeline.ErrEmpty) || errors.Is(r.Err, pipeline.ErrTooLarge):
						refused.Add(1)
					default:
						fail(fmt.Errorf("bench: ingest %s: %w", names[i], r.Err))
						return
					}
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

// ingestFiles ingests files, one with pipeline.Ingest, more with
// pipeline.IngestMany.
func ingestFiles(ctx context.Context, p *pipeline.Pipeline, names []string) ([]pipeline.IngestResult, error) {
	ips := make([]*pipeline.IngestParams, 0, len(names))
	defer func() {
		for _, ip := range ips {
			ip.Body.(*os.File).Close()
		}
	}()
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("bench: ingest %s: %w", name, err)
		}
		ips = append(ips, &pipeline.IngestParams{Name: filepath.Base(name), Body: f, Source: store.SourceProcess})
	}
	if len(ips) == 1 {
		var r pipeline.IngestResult
		r.Document, r.Created, r.Err = p.Ingest(ctx, ips[0])
		return []pipeline.IngestResult{r}, nil
	}
	return p.IngestMany(ctx, ips), nil
}

// waitFinal waits until every document in the store is done or failed.
func waitFinal(ctx context.Context, st store.Documents) (*store.Stats, error) {
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
		case <-time.After(finalPollInterval):
		}
	}
}

// collectLatencies reads every document and its events: pages, failure
// reasons, ingest to done, and started to done per stage.
func collectLatencies(ctx context.Context, st benchStore, res *PipelineResult) error {
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
	res.Stages = map[string]StageLatency{}
	for name, d := range stages {
		slices.Sort(d)
		res.Stages[name] = StageLatency{Count: len(d), P50MS: millis(percentile(d, 0.50)), P99MS: millis(percentile(d, 0.99))}
	}
	return nil
}

// stageOrder is the order stages are printed in; others follow by name.
var stageOrder = []string{"extract", "ocr", "analyze", "notify"}

// WriteTable writes the result as the table `quire bench pipeline` prints.
func (r *PipelineResult) WriteTable(w io.Writer) error {
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
	fmt.Fprintf(w, "  %-20s %10.1f s\n", "CPU", r.CPUS)
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
