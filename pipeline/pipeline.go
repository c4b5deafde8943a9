// Package pipeline is Quire's document pipeline: the job handlers that take a
// document from ingest to done.
//
// A document is received (stored in blob storage by content hash and
// recorded in the relational store), then moves through stages, each a job
// on its own queue so that each can be scaled and watched on its own:
//
//	extract (or ocr) -> analyze -> notify
//	received -> extracting -> analyzing -> indexed -> done, or -> failed
//
// A small document (Config.OneJobMaxBytes) takes a shorter way: the extract
// job analyses it too and saves everything with the move to done in one
// commit, since for small documents the round trips of two more jobs would
// cost more than their work.
//
// A document is searchable as soon as its text is saved (the store indexes
// it in the same transaction), and indexed once its analysis is saved too;
// notify then marks it done and tells the webhooks.
//
// Every stage is idempotent per (document, stage): a stage claims the
// document by its state, saves its results together with the move to the
// next state in one transaction (its audit trail included), and enqueues its
// next job unique on (document, stage). So the engine's at-least-once
// delivery never double-counts, a stage that ran twice is harmless, and a
// document costs the store a handful of round trips, not dozens. The moves
// between stages do not wait for the disk (store.SetStateParams.Unsynced):
// one that a crash of the database's machine undoes leaves the document
// behind its next job, which then runs the lost stage again (catchUp). The
// final moves, done and failed, wait for the disk, and so make every move
// before them durable too.
//
// Every accepted document ends in a visible final state: a failure that a
// retry cannot mend (an encrypted PDF, a limit exceeded) fails the document
// at once with a reason a person can act on; other failures retry with
// backoff and fail the document after the last attempt; and a periodic sweep
// re-enqueues the stage of any document left behind (a process killed
// between two writes).
package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
)

// The pipeline's queues. Stages have queues of their own so that a slow one
// (OCR) never holds up a fast one, and each can be given its own workers.
const (
	QueueExtract     = "extract"
	QueueOCR         = "ocr"
	QueueAnalyze     = "analyze"
	QueueNotify      = "notify"
	QueueMaintenance = "maintenance"
)

// The pipeline's job types.
const (
	JobExtract = "pipeline.extract"
	JobAnalyze = "pipeline.analyze"
	JobNotify  = "pipeline.notify"
	JobWebhook = "pipeline.webhook"
	JobSweep   = "pipeline.sweep"
)

// Queues returns the pipeline's queues with the weights a worker that serves
// them all should give them: later stages first, so documents already under
// way finish before new ones start.
func Queues() map[string]int {
	return map[string]int{
		QueueExtract: 3, QueueOCR: 1, QueueAnalyze: 4, QueueNotify: 5, QueueMaintenance: 1,
	}
}

// stageStore is the store's roles the pipeline uses: it records documents
// and moves them through their states (with the pages, text and analyses
// each move saves), reads their text for analysis, appends to their audit
// trail and reads the webhooks to notify.
type stageStore interface {
	store.Documents
	store.Events
	store.Tags
	store.Texts
	store.Webhooks
	store.Previews
}

// Config configures a Pipeline.
type Config struct {
	// Store records the documents and what the stages found in them.
	// Required. Any store.Store will do.
	Store     stageStore
	Blobs     *blob.Store
	Jobs      *jobs.Client
	Extractor *extract.Extractor
	// Cache holds extraction results by content hash. Optional; it may
	// forget anything at any time and never fails its caller.
	Cache cache.Cache
	// Analyzer runs the models on a document's text. Defaults to
	// BasicAnalyzer, which records language-independent facts.
	Analyzer Analyzer
	// TagSuggester, when set, suggests tags from a document's text (the
	// tag classifier); only suggestions of tags whose rule is "auto" are
	// set. Optional: without it, "auto" tags are set by people only.
	TagSuggester TagSuggester
	// OneJobMaxBytes is the size up to which a document is extracted and
	// analysed by one job and finished in one commit, when its text is no
	// larger either; larger ones go through a job per stage, so that their
	// long stages show and scale on their own queues. Defaults to
	// OneJobMaxBytesDefault; negative sends every document through a job
	// per stage.
	OneJobMaxBytes int64
	// MaxBytes bounds one document at ingest. Defaults to the extractor's
	// limit (extract.MaxBytesDefault).
	MaxBytes int64
	// StageTimeout bounds one run of a stage. Defaults to 5 minutes.
	StageTimeout time.Duration
	// MaxRetries is how often a stage that failed for a reason that may
	// pass (a database down) is retried before the document fails.
	// Defaults to 8.
	MaxRetries int
	// RetryDelay picks the delay before a stage's retry. Defaults to the
	// engine's.
	RetryDelay jobs.RetryDelayFunc
	// MaxRescues is how many times a stage may stop its worker (the job's
	// lease ran out: the process died, was killed or froze) on a document
	// before the next delivery fails the document rather than run the
	// stage again; set it to the job server's Config.MaxRescues, so that
	// the document fails before the server sends the job to the dead set
	// unrun. Defaults to jobs.MaxRescuesDefault.
	MaxRescues int
	// StuckAfter is how long a document may sit in a state before the sweep
	// enqueues its stage again. Defaults to 10 minutes.
	StuckAfter time.Duration
	// ObserveStage, when set, is told of each run of a stage that a job of
	// its own does not show: the analysis of a small document, done by the
	// extract job (OneJobMaxBytes). err is nil when the run succeeded.
	ObserveStage func(stage string, d time.Duration, err error)
	// Finished, when set, is told of each document this process moves to
	// done or failed, once the move is committed: what a command waiting
	// for its documents listens to instead of polling the store. It must
	// not block.
	Finished func(doc *store.Document)
	// Ingested, when set, is told of each document the pipeline records
	// inside another (an attachment, an archive's member) the first time it
	// is seen, with the ID of the document it came in. It must not block.
	Ingested func(parentID string, doc *store.Document)
	// HTTPClient delivers webhooks. Defaults to a client with a 10 s
	// timeout that refuses to connect to private addresses (see
	// ErrWebhookTarget) unless WebhookAllowPrivate. A client given here is
	// used as it is: the check at connection time is then its own affair,
	// and only the check of the URL's host before each delivery remains.
	HTTPClient *http.Client
	// WebhookAllowPrivate lets webhooks reach loopback, private,
	// link-local and other non-public addresses: for receivers inside the
	// deployment's own network. Defaults to false: whoever may register a
	// webhook must not be able to make the workers call internal services.
	WebhookAllowPrivate bool
	// WebhookConcurrency, when positive, is how many deliveries to one
	// webhook may be in flight at once across every worker that shares
	// Broker: a receiver that is slow, or that refuses bursts, is not sent
	// more than it takes while thousands of documents finish. A delivery
	// that finds every slot taken waits its turn (its job is snoozed,
	// without using a retry). Zero sends without a limit.
	WebhookConcurrency int
	// Broker is the job engine's driver, where limiters shared by every
	// worker keep their slots. Required when WebhookConcurrency is set.
	Broker jobs.Driver
	// Previews configures the thumbnails of documents' first pages
	// (preview.go). Defaults to on.
	Previews PreviewConfig
	Logger   *slog.Logger
}

// Defaults of Config.
const (
	StageTimeoutDefault = 5 * time.Minute
	MaxRetriesDefault   = 8
	StuckAfterDefault   = 10 * time.Minute
	// OneJobMaxBytesDefault keeps the small documents that make up most of
	// a busy system's traffic (emails, web pages, short office files) on
	// the one-job path.
	OneJobMaxBytesDefault = 256 << 10
	// SweepSchedule is how often the sweep looks for documents left behind.
	SweepSchedule = "@every 1m"
)

// Pipeline runs documents through the stages.
type Pipeline struct {
	cfg Config
	log *slog.Logger
	// hooks caches the webhooks; see webhooksTTL.
	hooks atomic.Pointer[webhookList]
	// tagCache caches the tags' rules; see tagRulesTTL.
	tagCache tagRuleCache
	// webhookLimiters holds each webhook's limiter (WebhookConcurrency),
	// by webhook ID.
	webhookLimiters sync.Map
}

// New returns a pipeline. Register its handlers with a jobs server that
// serves Queues, and add PeriodicJobs to that server's config.
func New(cfg Config) (*Pipeline, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if cfg.Blobs == nil {
		errs = append(errs, errors.New("Blobs is required"))
	}
	if cfg.Jobs == nil {
		errs = append(errs, errors.New("Jobs is required"))
	}
	if cfg.Extractor == nil {
		errs = append(errs, errors.New("Extractor is required"))
	}
	if cfg.WebhookConcurrency < 0 {
		errs = append(errs, fmt.Errorf("WebhookConcurrency %d is negative", cfg.WebhookConcurrency))
	}
	if cfg.WebhookConcurrency > 0 && cfg.Broker == nil {
		errs = append(errs, errors.New("Broker is required with WebhookConcurrency"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("pipeline: invalid config: %w", err)
	}
	if cfg.Analyzer == nil {
		cfg.Analyzer = BasicAnalyzer{}
	}
	cfg.MaxBytes = cmp.Or(cfg.MaxBytes, extract.MaxBytesDefault)
	cfg.StageTimeout = cmp.Or(cfg.StageTimeout, StageTimeoutDefault)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, MaxRetriesDefault)
	cfg.StuckAfter = cmp.Or(cfg.StuckAfter, StuckAfterDefault)
	cfg.MaxRescues = cmp.Or(cfg.MaxRescues, jobs.MaxRescuesDefault)
	cfg.OneJobMaxBytes = cmp.Or(cfg.OneJobMaxBytes, OneJobMaxBytesDefault)
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = jobs.DefaultRetryDelay
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = newWebhookClient(cfg.WebhookAllowPrivate)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Pipeline{cfg: cfg, log: cfg.Logger}, nil
}

// MaxBytes is the largest document Ingest takes (Config.MaxBytes).
func (p *Pipeline) MaxBytes() int64 { return p.cfg.MaxBytes }

// Register registers the pipeline's handlers.
func (p *Pipeline) Register(hs *jobs.Handlers) {
	opts := &jobs.HandlerOpts{Timeout: p.cfg.StageTimeout, RetryDelayFunc: p.cfg.RetryDelay}
	jobs.HandleArgs(hs, JobExtract, p.stage("extract", p.runExtract), opts)
	jobs.HandleArgs(hs, JobAnalyze, p.stage("analyze", p.runAnalyze), opts)
	jobs.HandleArgs(hs, JobNotify, p.stage("notify", p.runNotify), opts)
	jobs.HandleArgs(hs, JobWebhook, p.deliverWebhook, opts)
	hs.Handle(JobSweep, p.sweep, opts)
}

// PeriodicJobs are the pipeline's periodic jobs: the sweep.
func PeriodicJobs() []jobs.PeriodicJob {
	return []jobs.PeriodicJob{{Name: JobSweep, Schedule: SweepSchedule, Type: JobSweep,
		Opts: &jobs.EnqueueOpts{Queue: QueueMaintenance, MaxRetries: jobs.NoRetries}}}
}

// docArgs are the arguments of every stage's job.
type docArgs struct {
	DocumentID string `json:"document_id"`
	// Language is, for an extraction, the language of the text the
	// document came with (IngestParams.Language), as OCR names it.
	Language string `json:"language,omitempty"`
}

// enqueueStage enqueues a stage's job for a document, unique on (document,
// stage, the document's last change) until it finishes. The last change is
// part of the key so that a run started while the previous run's job still
// holds its key (a reprocess that follows done closely, before that job's
// acknowledgement) is not taken for a duplicate and dropped; a document that
// has not moved (a client's retried upload, the sweep finding it waiting)
// gives the same key, so its waiting job is not doubled.
func (p *Pipeline) enqueueStage(ctx context.Context, jobType, queue string, doc *store.Document) error {
	return p.enqueueStageArgs(ctx, jobType, queue, doc, docArgs{DocumentID: doc.ID})
}

// enqueueStageArgs is enqueueStage with more arguments than the document.
func (p *Pipeline) enqueueStageArgs(ctx context.Context, jobType, queue string, doc *store.Document, args docArgs) error {
	_, err := p.cfg.Jobs.Enqueue(ctx, jobType, args, p.stageOpts(jobType, queue, doc))
	if err != nil {
		return fmt.Errorf("enqueue %s of document %s: %w", jobType, doc.ID, err)
	}
	return nil
}

// stageOpts are the options of a stage's job for a document (enqueueStage).
//
// A stage's job is enqueued without waiting for the disk (NoSync): the
// document's state, committed before it, is the record the job can be made
// again from, and the sweep makes it again for a document left in a state
// that is not final for longer than StuckAfter, whatever a crash of the
// machine undid (the job, the move, or both: the state is then the one
// before). So an upload waits for one flush, its record's, not two; a
// crash of the process loses no job, and a crash of the machine delays a
// document by StuckAfter instead of losing it.
func (p *Pipeline) stageOpts(jobType, queue string, doc *store.Document) *jobs.EnqueueOpts {
	return &jobs.EnqueueOpts{
		NoSync:     true,
		Queue:      queue,
		MaxRetries: p.cfg.MaxRetries,
		Unique:     &jobs.UniqueOpts{Key: fmt.Sprintf("%s:%s:%d", jobType, doc.ID, doc.UpdatedAt.UnixMicro())},
		Tags:       []string{"document:" + doc.ID},
	}
}

// stageRun is one run of a stage on a document.
type stageRun struct {
	stage   string
	docID   string
	job     *jobs.Job
	started time.Time
	// mimeType is the document's type as the run detected it from the
	// whole content, when that differs from what ingest saw: saved with
	// the move the run ends with, failed or not, so that a failure names
	// the type the document really is.
	mimeType string
	// language is the job's docArgs.Language.
	language string
	// content is the document's content as the extraction read it, kept
	// for its preview; nil when the extraction came from the cache.
	content []byte
}

// events are a run's audit trail when it ends as typ: its start and its end,
// written in the transaction that moves the document on.
func (r *stageRun) events(typ store.EventType, msg string) []store.AddEventParams {
	return []store.AddEventParams{
		{Stage: r.stage, Type: store.EventStarted, Attempt: r.job.Attempt, At: r.started},
		{Stage: r.stage, Type: typ, Message: msg, Attempt: r.job.Attempt},
	}
}

// stageFunc runs one stage on a document.
type stageFunc func(ctx context.Context, r *stageRun) error

// stage wraps a stage: it turns errors into the document's fate. A permanent
// error fails the document at once; any other is retried until the last
// attempt, which fails the document too.
func (p *Pipeline) stage(name string, run stageFunc) func(ctx context.Context, j *jobs.Job, a docArgs) error {
	return func(ctx context.Context, j *jobs.Job, a docArgs) error {
		if a.DocumentID == "" {
			return jobs.Discard(errors.New("job has no document_id"))
		}
		r := &stageRun{stage: name, docID: a.DocumentID, job: j, started: time.Now(), language: a.Language}
		if p.cfg.MaxRescues >= 0 && j.Rescues >= p.cfg.MaxRescues {
			// The document takes down whatever runs this stage on it (a
			// parser that crashes, exhausts memory or never returns):
			// not on one more worker.
			times := fmt.Sprintf("%d times", j.Rescues)
			if j.Rescues == 1 {
				times = "once"
			}
			return p.fail(ctx, r, fmt.Sprintf("%s stopped its worker %s (the process died, was killed or froze); not run again",
				name, times))
		}
		err := run(ctx, r)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrNotFound):
			return nil // deleted meanwhile: nothing to do
		case errors.Is(err, store.ErrStateConflict):
			// Another run moved the document on, or it was reprocessed:
			// this run has nothing left to do.
			p.log.Debug("pipeline: stage skipped", "stage", name, "document_id", r.docID, "reason", err)
			return nil
		case errors.Is(err, jobs.ErrLimited):
			// A shared limiter (the remote model's, OCR's) is full: the
			// error snoozes the job without using an attempt, and it is
			// no failure to record.
			return err
		}
		if reason, ok := permanent(err); ok {
			return p.fail(ctx, r, reason)
		}
		return p.retryOrFail(ctx, r, err)
	}
}

// retryOrFail records a failed attempt; after the last one it fails the
// document, and the job goes to the dead set with the error.
func (p *Pipeline) retryOrFail(ctx context.Context, r *stageRun, err error) error {
	if r.job.Attempt > r.job.MaxRetries {
		reason := fmt.Sprintf("%s failed after %d attempts: %v", r.stage, r.job.Attempt, err)
		if ferr := p.fail(ctx, r, reason); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	p.event(ctx, r.docID, r.stage, store.EventRetried, err.Error(), r.job.Attempt)
	return err
}

// fail moves the document to failed with reason. When the store cannot be
// reached, the error makes the job retry, so the failure is recorded later.
func (p *Pipeline) fail(ctx context.Context, r *stageRun, reason string) error {
	failed, err := p.cfg.Store.SetState(ctx, &store.SetStateParams{
		ID: r.docID, From: []store.State{store.StateReceived, store.StateExtracting, store.StateAnalyzing, store.StateIndexed},
		To: store.StateFailed, Reason: reason, Stage: r.stage, Events: r.events(store.EventFailed, reason),
		MIMEType: r.mimeType,
	})
	if errors.Is(err, store.ErrStateConflict) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fail document %s: %w", r.docID, err)
	}
	p.log.Warn("pipeline: document failed", "document_id", r.docID, "stage", r.stage, "reason", reason)
	p.finished(failed)
	if err := p.enqueueWebhooks(ctx, failed, EventDocumentFailed); err != nil {
		p.log.Error("pipeline: webhooks of a failed document not enqueued", "document_id", r.docID, "error", err)
	}
	return nil
}

// finished tells Config.Finished of a document that reached done or failed.
func (p *Pipeline) finished(doc *store.Document) {
	if p.cfg.Finished != nil {
		p.cfg.Finished(doc)
	}
}

// event appends to the audit trail; losing an event must not fail a stage.
func (p *Pipeline) event(ctx context.Context, docID, stage string, typ store.EventType, msg string, attempt int) {
	if _, err := p.cfg.Store.AddEvent(ctx, &store.AddEventParams{DocumentID: docID, Stage: stage, Type: typ,
		Message: msg, Attempt: attempt}); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.Warn("pipeline: event not recorded", "document_id", docID, "stage", stage, "event", typ, "error", err)
	}
}
