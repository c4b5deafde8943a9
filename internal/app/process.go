package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// ProcessSummary is the outcome of ProcessFiles: what quire process
// prints at the end.
type ProcessSummary struct {
	Files       int            `json:"files"`
	Total       int            `json:"total"`
	Done        int            `json:"done"`
	Failed      int            `json:"failed"`
	Duplicates  int            `json:"duplicates"`
	Attachments int            `json:"attachments"`
	Unfinished  int            `json:"unfinished,omitempty"`
	Reasons     map[string]int `json:"reasons"`
	DocsPerS    float64        `json:"docs_per_s"`
	ElapsedS    float64        `json:"elapsed_s"`
	// Interrupted says the run was stopped before every document
	// finished.
	Interrupted bool `json:"interrupted,omitempty"`
	// BatchID is the job engine's batch of the run's jobs (see the jobs
	// page's batches tab), empty when the broker keeps no batches.
	BatchID string `json:"batch_id,omitempty"`
}

// tracker follows the documents of one process run to done or failed.
type tracker struct {
	mu sync.Mutex
	// docs maps the ID of every document of the run to its final state,
	// empty while it is in progress.
	docs map[string]store.State
	// reasons of the failed documents, by ID; ingest failures by path.
	reasons     map[string]string
	files       int
	start       time.Time
	duplicates  int
	attachments int
	// heard are the documents the worker finished before the run counted
	// them (a small file can be done before Ingest returns), and orphans
	// the attachments found in a document not counted yet, by its ID.
	heard   map[string]*store.Document
	orphans map[string][]string
	// wake is signalled when a document of the run finishes.
	wake chan struct{}
}

func newTracker() *tracker {
	return &tracker{docs: map[string]store.State{}, reasons: map[string]string{},
		heard: map[string]*store.Document{}, orphans: map[string][]string{}, wake: make(chan struct{}, 1)}
}

// add records a document; it returns false when it was already seen.
func (t *tracker) add(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addLocked(id)
}

func (t *tracker) addLocked(id string) bool {
	if _, ok := t.docs[id]; ok {
		return false
	}
	t.docs[id] = ""
	if d := t.heard[id]; d != nil {
		delete(t.heard, id)
		t.finishLocked(id, d.State, d.FailureReason)
	}
	for _, c := range t.orphans[id] {
		t.addChildLocked(c)
	}
	delete(t.orphans, id)
	return true
}

// addChild records an attachment of parent, the worker says, once parent
// is one of the run's.
func (t *tracker) addChild(parent, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.docs[parent]; !ok {
		t.orphans[parent] = append(t.orphans[parent], id)
		return
	}
	t.addChildLocked(id)
}

func (t *tracker) addChildLocked(id string) {
	if t.addLocked(id) {
		t.attachments++
	}
}

// finished records a document the worker finished, the run's or one it
// will count.
func (t *tracker) finished(d *store.Document) {
	t.mu.Lock()
	if _, ok := t.docs[d.ID]; ok {
		t.finishLocked(d.ID, d.State, d.FailureReason)
	} else {
		t.heard[d.ID] = d
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *tracker) pending() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, s := range t.docs {
		if s == "" {
			ids = append(ids, id)
		}
	}
	return ids
}

func (t *tracker) finish(id string, s store.State, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finishLocked(id, s, reason)
}

func (t *tracker) finishLocked(id string, s store.State, reason string) {
	t.docs[id] = s
	if s == store.StateFailed {
		t.reasons[id] = reason
	}
}

// failIngest records a file that could not be ingested.
func (t *tracker) failIngest(path string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := "file:" + path
	t.docs[key] = store.StateFailed
	t.reasons[key] = ingestReason(err)
}

// ingestReason trims the file name off an ingest error, so that the same
// failure counts once in the reasons.
func ingestReason(err error) string {
	switch {
	case errors.Is(err, pipeline.ErrEmpty):
		return "ingest: " + pipeline.ErrEmpty.Error()
	case errors.Is(err, pipeline.ErrTooLarge):
		// "document too large: more than 100 MiB", without the file's
		// name, so that the reason counts every such file once.
		msg := err.Error()
		return "ingest: " + msg[strings.Index(msg, pipeline.ErrTooLarge.Error()):] + " (" + Setting("max-document-bytes") + ")"
	}
	return "ingest: " + err.Error()
}

// counts returns the documents seen and those finished.
func (t *tracker) counts() (total, finished int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.docs {
		if s != "" {
			finished++
		}
	}
	return len(t.docs), finished
}

func (t *tracker) summary(elapsed time.Duration) *ProcessSummary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &ProcessSummary{Files: t.files, Total: len(t.docs), Duplicates: t.duplicates,
		Attachments: t.attachments, Reasons: map[string]int{}, ElapsedS: elapsed.Seconds()}
	for id, st := range t.docs {
		switch st {
		case store.StateDone:
			s.Done++
		case store.StateFailed:
			s.Failed++
			s.Reasons[trimReason(t.reasons[id])]++
		default:
			s.Unfinished++
		}
	}
	if elapsed > 0 {
		s.DocsPerS = float64(s.Done+s.Failed) / elapsed.Seconds()
	}
	return s
}

// documentIDs matches the ULIDs in failure reasons: taken out, the same
// failure of different documents counts once.
var documentIDs = regexp.MustCompile(`\s*\b[0-9A-HJKMNP-TV-Z]{26}\b`)

// trimReason makes a failure reason fit one line of the summary, without
// the document's ID.
func trimReason(r string) string {
	r = strings.TrimSpace(documentIDs.ReplaceAllString(r, ""))
	if i := strings.IndexAny(r, "\r\n"); i >= 0 {
		r = strings.TrimSpace(r[:i])
	}
	if r == "" {
		return "unknown"
	}
	const maxLen = 160
	if len(r) > maxLen {
		r = strings.ToValidUTF8(r[:maxLen], "") + "…"
	}
	return r
}

// ingestFile ingests one file and records its document in tr.
func (a *App) ingestFile(ctx context.Context, docs *Documents, tr *tracker, path string) {
	f, err := os.Open(path)
	if err != nil {
		tr.failIngest(path, err)
		a.Log.Warn("process: cannot read a file", "path", path, "error", err)
		return
	}
	defer f.Close()
	// The ingest span is the root of the document's trace: the stages'
	// jobs, enqueued under it, continue it.
	ctx, span := a.Config.tracer().Start(ctx, "ingest", trace.WithAttributes(attribute.String("file.name", filepath.Base(path))))
	doc, created, err := docs.Pipeline.Ingest(ctx, &pipeline.IngestParams{Name: filepath.Base(path), Body: f, Source: store.SourceProcess})
	if doc != nil {
		span.SetAttributes(attribute.String("document.id", doc.ID))
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		tr.failIngest(path, err)
		a.Log.Warn("process: file not ingested", "path", path, "error", err)
		return
	}
	// A duplicate is the same content as another file of this run, or as
	// a document received before it. created alone is not enough: two
	// concurrent ingests of the same content may both be told false.
	fresh := tr.add(doc.ID)
	if !fresh || (!created && doc.CreatedAt.Before(tr.start)) {
		tr.mu.Lock()
		tr.duplicates++
		tr.mu.Unlock()
		a.Log.Info("process: duplicate of a document already received", "path", path, "document_id", doc.ID, "state", doc.State)
	}
	if fresh && !created {
		// Received before, perhaps finished then: no worker will say so.
		if err := pollDocuments(ctx, docs.Store, tr, []string{doc.ID}); err != nil && ctx.Err() == nil {
			a.Log.Warn("process: cannot read a document; retrying later", "document_id", doc.ID, "error", err)
		}
	}
}

// pollDocuments looks in the store at the documents ids of tr, which
// another process may have finished, or an earlier run: a finished one is
// recorded, and its attachments, which its extraction recorded before it
// moved on, are looked at in turn.
func pollDocuments(ctx context.Context, st store.Documents, tr *tracker, ids []string) error {
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		doc, err := st.GetDocument(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			tr.finish(id, store.StateFailed, "deleted while processing")
			continue
		}
		if err != nil {
			return err
		}
		if doc.State != store.StateDone && doc.State != store.StateFailed {
			continue
		}
		children, err := addChildren(ctx, st, tr, id)
		if err != nil {
			return err
		}
		tr.finish(id, doc.State, doc.FailureReason)
		ids = append(ids, children...)
	}
	return nil
}

// addChildren records the attachments of document id and returns those it
// had not seen.
func addChildren(ctx context.Context, st store.Documents, tr *tracker, id string) ([]string, error) {
	var added []string
	cursor := ""
	for {
		page, err := st.ListDocuments(ctx, &store.ListDocumentsParams{ParentID: id, Cursor: cursor, Limit: store.ListLimitMax})
		if err != nil {
			return nil, fmt.Errorf("list the attachments of %s: %w", id, err)
		}
		for _, c := range page.Documents {
			if tr.add(c.ID) {
				added = append(added, c.ID)
				tr.mu.Lock()
				tr.attachments++
				tr.mu.Unlock()
			}
		}
		if page.Next == "" {
			return added, nil
		}
		cursor = page.Next
	}
}

// How ProcessFiles learns that its documents are finished. Its own worker
// tells it of every document it finishes (pipeline.Config.Finished) and of
// every attachment it finds (pipeline.Config.Ingested). Documents that
// another process sharing the broker took are covered by a batch: the run's
// ingests enqueue their first jobs into one, every job those jobs enqueue
// joins it (jobs.WithBatch), and its completion callback comes to this
// process. Only then is the store read, once, for the documents no event
// reported.
const (
	// queueProcess is where the completion callbacks of process runs wait:
	// only process commands serve it, each taking its own run's.
	queueProcess = "process"
	// jobProcessDone is a run's completion callback.
	jobProcessDone = "quire.process.done"
	// processCallbackTTL bounds how long a run's callback may wait for its
	// process: one whose run was interrupted, or killed, goes to the dead
	// set after it instead of waiting in the queue for ever.
	processCallbackTTL = time.Hour
	// processCallbackSnooze is how long a process that fetched another
	// run's callback leaves it for that run's process.
	processCallbackSnooze = time.Second
	// processIdle is how long ProcessFiles waits without hearing of a
	// finished document before it asks the store about the documents it
	// cannot learn of otherwise: those of an earlier run still in progress
	// (not members of this run's batch), or every document when the broker
	// keeps no batches.
	processIdle = 5 * time.Second
)

// ProcessIngestConcurrencyDefault is how many files `quire process` ingests
// at once. An ingest spends its time waiting for commits (its document's
// record, its first job), which concurrent ingests share, not on the CPU:
// as many files as jobs left the run waiting on ingest.
const ProcessIngestConcurrencyDefault = 32

// ProcessFilesParams are the inputs of ProcessFiles.
type ProcessFilesParams struct {
	// Files are the paths of the files to ingest.
	Files []string
	// Concurrency is how many jobs run at once.
	Concurrency int
	// IngestConcurrency is how many files are ingested at once. Defaults
	// to ProcessIngestConcurrencyDefault.
	IngestConcurrency int
	// ShutdownTimeout is how long running jobs may finish when ctx is
	// cancelled; negative waits forever.
	ShutdownTimeout time.Duration
	// Progress, when set, is told how many documents finished of how many
	// counted so far; final says no more will be counted.
	Progress func(finished, total int, final bool)
}

// ProcessFiles runs Files through the whole document pipeline in this
// process, on a worker of its own, and waits until each document, and each
// attachment it yields, is done or failed. Cancelling ctx stops it
// gracefully: the documents already accepted are kept, and the summary
// says Interrupted and counts them Unfinished. The error is the worker's
// failure to start or stop; failed documents are in the summary.
func (a *App) ProcessFiles(ctx context.Context, p *ProcessFilesParams) (*ProcessSummary, error) {
	if p.Concurrency < 1 {
		return nil, Usagef("invalid --concurrency %d: it must be at least 1", p.Concurrency)
	}
	if p.IngestConcurrency < 0 {
		return nil, Usagef("invalid --ingest-concurrency %d: it must not be negative", p.IngestConcurrency)
	}
	if p.ShutdownTimeout == 0 {
		return nil, Usagef("invalid --shutdown-timeout 0: give a duration, or a negative one to wait forever")
	}
	start := time.Now()
	b, err := OpenBroker(&a.Config)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	tr := newTracker()
	tr.files = len(p.Files)
	tr.start = start
	var client *jobs.Client
	docs, err := OpenDocuments(ctx, &a.Config, b, a.Log, func(c *pipeline.Config) {
		c.Finished = tr.finished
		c.Ingested = func(parent string, d *store.Document) { tr.addChild(parent, d.ID) }
		client = c.Jobs
	})
	if err != nil {
		return nil, err
	}
	defer docs.Close()
	if err := docs.StartML(ctx, &a.Config.ML, a.Log); err != nil {
		return nil, err
	}
	handlers := BuiltinHandlers()
	docs.Pipeline.Register(handlers)
	queues := maps.Clone(pipeline.Queues())
	if _, ok := queues[jobs.QueueDefault]; !ok {
		queues[jobs.QueueDefault] = 1
	}
	run, err := a.newProcessBatch(ctx, client, len(p.Files))
	if err != nil {
		return nil, err
	}
	if run.batch != nil {
		queues[queueProcess] = 1
		jobs.HandleArgs(handlers, jobProcessDone, run.callback, nil)
	}
	shutdownTimeout := p.ShutdownTimeout
	if shutdownTimeout < 0 {
		shutdownTimeout = -1
	}
	srv, err := a.NewJobServer(b.Driver, "process", jobs.Config{
		Handlers:        handlers,
		PeriodicJobs:    pipeline.PeriodicJobs(),
		Queues:          queues,
		Concurrency:     p.Concurrency,
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		return nil, err
	}
	// The server runs until every document is finished, not until ctx is
	// done: an interrupt stops it below, gracefully.
	if err := srv.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	a.Log.Info("process: started", append(slices.Clone(b.Attrs), "files", len(p.Files), "concurrency", p.Concurrency)...)
	progress := p.Progress
	if progress == nil {
		progress = func(int, int, bool) {}
	}

	// Ingest, bounded, while the worker already runs.
	ingestDone := make(chan struct{})
	go func() {
		defer close(ingestDone)
		sem := make(chan struct{}, cmp.Or(p.IngestConcurrency, ProcessIngestConcurrencyDefault))
		var wg sync.WaitGroup
		for _, path := range p.Files {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				a.ingestFile(run.context(ctx), docs, tr, path)
			})
		}
		wg.Wait()
	}()

	interrupted := false
	// Without a batch the store is asked after each processIdle of
	// silence; with one, only once the batch completed.
	idle := time.NewTimer(processIdle)
	defer idle.Stop()
	if run.waiting() {
		idle.Stop()
	}
	ingesting := true
	for {
		select {
		case <-ctx.Done():
			interrupted = true
		case <-ingestDone:
			ingesting = false
			ingestDone = nil
			if run.batch != nil {
				// Every file's first job joined the batch: it may complete.
				if err := run.batch.Commit(context.WithoutCancel(ctx)); err != nil {
					a.Log.Warn("process: cannot commit the run's batch; asking the store instead", "batch_id", run.batch.ID(), "error", err)
					run.failed = true
					idle.Reset(processIdle)
				}
			}
		case <-tr.wake:
			if !run.waiting() {
				idle.Reset(processIdle)
			}
		case <-run.done:
			run.done, run.complete = nil, true
			a.Log.Info("process: every job of the run finished", "batch_id", run.batch.ID())
			if err := pollDocuments(ctx, docs.Store, tr, tr.pending()); err != nil && ctx.Err() == nil {
				a.Log.Warn("process: cannot read documents; retrying", "error", err)
			}
			idle.Reset(processIdle)
		case <-idle.C:
			pending := tr.pending()
			a.Log.Debug("process: asking the store about documents no event reported", "num_documents", len(pending))
			if err := pollDocuments(ctx, docs.Store, tr, pending); err != nil && ctx.Err() == nil {
				a.Log.Warn("process: cannot read documents; retrying", "error", err)
			}
			idle.Reset(processIdle)
		}
		if interrupted {
			break
		}
		total, finished := tr.counts()
		progress(finished, total, !ingesting)
		// With a batch the run ends when it completed too: its callback
		// must not be left for no one.
		if !ingesting && finished == total && !run.waiting() {
			break
		}
	}
	if interrupted && ingestDone != nil {
		<-ingestDone // ctx is done: the ingest loop stops at the next file
		if run.batch != nil {
			// Committed, the batch is kept only for its retention once its
			// jobs finished, and its callback expires unclaimed.
			if err := run.batch.Commit(context.WithoutCancel(ctx)); err != nil {
				a.Log.Warn("process: cannot commit the run's batch", "batch_id", run.batch.ID(), "error", err)
			}
		}
	}
	stopCtx := context.WithoutCancel(ctx)
	if shutdownTimeout > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, shutdownTimeout+StopGrace)
		defer cancel()
	}
	stopErr := srv.Stop(stopCtx)
	sum := tr.summary(time.Since(start))
	sum.Interrupted = interrupted
	if run.batch != nil {
		sum.BatchID = run.batch.ID()
	}
	if stopErr != nil {
		return sum, fmt.Errorf("stop worker: %w", stopErr)
	}
	return sum, nil
}

// processBatch follows the batch of one process run.
type processBatch struct {
	// batch is nil when the broker keeps no batches.
	batch *jobs.Batch
	// done is closed when the batch's completion callback ran here;
	// complete records it once the run's loop saw it.
	done     chan struct{}
	once     sync.Once
	complete bool
	// failed says the batch could not be committed: the run asks the
	// store instead.
	failed bool
}

// waiting reports whether the run waits for its batch to complete.
func (r *processBatch) waiting() bool { return r.batch != nil && !r.complete && !r.failed }

// newProcessBatch creates the batch of a run of files.
func (a *App) newProcessBatch(ctx context.Context, client *jobs.Client, files int) (*processBatch, error) {
	run := &processBatch{done: make(chan struct{})}
	host, _ := os.Hostname()
	b, err := client.NewBatch(ctx, &jobs.BatchOpts{
		Description: fmt.Sprintf("quire process: %d files, on %s, pid %d", files, host, os.Getpid()),
		OnComplete:  &jobs.BatchCallback{Type: jobProcessDone, Queue: queueProcess, ExpiresIn: processCallbackTTL},
	})
	switch {
	case errors.Is(err, jobs.ErrNotImplemented):
		a.Log.Info("process: the broker keeps no batches; asking the store about documents other processes finish")
		run.done = nil
		return run, nil
	case err != nil:
		return nil, fmt.Errorf("create the run's batch: %w", err)
	}
	run.batch = b
	return run, nil
}

// context returns ctx for the run's ingests: the jobs they enqueue join the
// batch. The worker's own context must not carry it, or its periodic jobs
// would join too.
func (r *processBatch) context(ctx context.Context) context.Context {
	if r.batch == nil {
		return ctx
	}
	return jobs.WithBatch(ctx, r.batch.ID())
}

// callback is the handler of the runs' completion callbacks: this run's
// ends the wait; another run's is left to its own process.
func (r *processBatch) callback(_ context.Context, _ *jobs.Job, args jobs.BatchCallbackArgs) error {
	if args.BatchID != r.batch.ID() {
		return jobs.Snooze(processCallbackSnooze)
	}
	r.once.Do(func() { close(r.done) })
	return nil
}
