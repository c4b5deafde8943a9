package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// processConfig holds the settings of the process command.
type processConfig struct {
	Concurrency     int
	ShutdownTimeout time.Duration
	JSON            bool
}

// processPoll is how often process looks in the store for the documents it
// still waits for. Its own worker tells it of every document it finishes
// (pipeline.Config.Finished); the store is only asked about those that
// another process sharing the broker took.
const processPoll = 5 * time.Second

func (a *app) newProcessCommand() *cobra.Command {
	cfg := &processConfig{}
	cmd := &cobra.Command{
		Use:   "process PATH...",
		Short: "Run files and folders through the whole document pipeline, then exit",
		Long: `Run every file under the given paths (folders recursively; hidden files and
folders skipped) through the whole document pipeline in this process, wait
until each document, and each attachment it yields, is done or failed, then
print a summary: documents, done, failed, the failure reasons counted, and
documents per second. A progress bar is drawn on stderr when it is a
terminal.

It uses the same --data-dir (or --redis-url, --postgres-url, ...) as up:
documents already there with the same content are not processed again and
are reported as duplicates.

The exit status is 1 when any document failed. SIGINT stops it gracefully:
the documents already accepted are kept and finish on the next run of
quire process or quire up (their jobs go back to the queues and the sweep
re-enqueues any left behind).`,
		Example: `  quire process ~/scans reports/q3.pdf
  quire process --json inbox/ | tail -1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: give at least one file or folder", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runProcessFiles(cmd.Context(), cfg, args)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Concurrency, "concurrency", runtime.NumCPU()*4, "jobs to run at once, and files to ingest at once")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", jobs.ShutdownTimeoutDefault, "how long running jobs may finish when interrupted")
	fs.BoolVar(&cfg.JSON, "json", false, "print the summary as one JSON object on the last line")
	return cmd
}

// processSummary is what process prints at the end.
type processSummary struct {
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
		return "ingest: " + msg[strings.Index(msg, pipeline.ErrTooLarge.Error()):] + " (" + setting("max-document-bytes") + ")"
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

func (t *tracker) summary(elapsed time.Duration) *processSummary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &processSummary{Files: t.files, Total: len(t.docs), Duplicates: t.duplicates,
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

func (a *app) runProcessFiles(ctx context.Context, cfg *processConfig, paths []string) error {
	if cfg.Concurrency < 1 {
		return usagef("invalid --concurrency %d: it must be at least 1", cfg.Concurrency)
	}
	if cfg.ShutdownTimeout == 0 {
		return usagef("invalid --shutdown-timeout 0: give a duration, or a negative one to wait forever")
	}
	files, err := collectFiles(paths)
	if err != nil {
		return &usageError{err}
	}
	start := time.Now()
	b, err := openBroker(&a.global)
	if err != nil {
		return err
	}
	defer b.Close()
	tr := newTracker()
	tr.files = len(files)
	tr.start = start
	docs, err := openDocuments(ctx, &a.global, b, a.log, func(c *pipeline.Config) {
		c.Finished = tr.finished
		c.Ingested = func(parent string, d *store.Document) { tr.addChild(parent, d.ID) }
	})
	if err != nil {
		return err
	}
	defer docs.Close()
	if err := docs.startML(ctx, &a.global.ML, a.log); err != nil {
		return err
	}
	handlers := builtinHandlers()
	docs.pipeline.Register(handlers)
	queues := maps.Clone(pipeline.Queues())
	if _, ok := queues[jobs.QueueDefault]; !ok {
		queues[jobs.QueueDefault] = 1
	}
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout < 0 {
		shutdownTimeout = -1
	}
	srv, err := a.newJobServer(b.driver, "process", jobs.Config{
		Handlers:        handlers,
		PeriodicJobs:    pipeline.PeriodicJobs(),
		Queues:          queues,
		Concurrency:     cfg.Concurrency,
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		return err
	}
	// The server runs until every document is finished, not until ctx is
	// done: an interrupt stops it below, gracefully.
	if err := srv.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	a.log.Info("process: started", append(slices.Clone(b.attrs), "files", len(files), "concurrency", cfg.Concurrency)...)

	bar := newProgressBar(a.stderr, "documents")
	defer bar.finish()

	// Ingest, bounded, while the worker already runs.
	ingestDone := make(chan struct{})
	go func() {
		defer close(ingestDone)
		sem := make(chan struct{}, cfg.Concurrency)
		var wg sync.WaitGroup
		for _, path := range files {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				a.ingestFile(ctx, docs, tr, path)
			})
		}
		wg.Wait()
	}()

	interrupted := false
	tick := time.NewTicker(processPoll)
	defer tick.Stop()
	ingesting := true
	for {
		select {
		case <-ctx.Done():
			interrupted = true
		case <-ingestDone:
			ingesting = false
			ingestDone = nil
		case <-tr.wake:
		case <-tick.C:
			if err := pollDocuments(ctx, docs.store, tr, tr.pending()); err != nil && ctx.Err() == nil {
				a.log.Warn("process: cannot read documents; retrying", "error", err)
			}
		}
		if interrupted {
			break
		}
		total, finished := tr.counts()
		bar.set(finished, total, !ingesting)
		if !ingesting && finished == total {
			break
		}
	}
	if interrupted && ingestDone != nil {
		<-ingestDone // ctx is done: the ingest loop stops at the next file
	}
	stopCtx := context.WithoutCancel(ctx)
	if shutdownTimeout > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, shutdownTimeout+stopGrace)
		defer cancel()
	}
	stopErr := srv.Stop(stopCtx)
	bar.finish()

	sum := tr.summary(time.Since(start))
	if err := a.printProcessSummary(cfg.JSON, sum, interrupted); err != nil {
		return err
	}
	if stopErr != nil {
		return fmt.Errorf("stop worker: %w", stopErr)
	}
	switch {
	case interrupted:
		return fmt.Errorf("interrupted: %d of %d documents unfinished; they finish on the next run of quire process or quire up", sum.Unfinished, sum.Total)
	case sum.Failed > 0:
		return fmt.Errorf("%d of %d documents failed", sum.Failed, sum.Total)
	}
	return nil
}

// ingestFile ingests one file and records its document in tr.
func (a *app) ingestFile(ctx context.Context, docs *documents, tr *tracker, path string) {
	f, err := os.Open(path)
	if err != nil {
		tr.failIngest(path, err)
		a.log.Warn("process: cannot read a file", "path", path, "error", err)
		return
	}
	defer f.Close()
	doc, created, err := docs.pipeline.Ingest(ctx, &pipeline.IngestParams{Name: filepath.Base(path), Body: f, Source: store.SourceProcess})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		tr.failIngest(path, err)
		a.log.Warn("process: file not ingested", "path", path, "error", err)
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
		a.log.Info("process: duplicate of a document already received", "path", path, "document_id", doc.ID, "state", doc.State)
	}
	if fresh && !created {
		// Received before, perhaps finished then: no worker will say so.
		if err := pollDocuments(ctx, docs.store, tr, []string{doc.ID}); err != nil && ctx.Err() == nil {
			a.log.Warn("process: cannot read a document; retrying later", "document_id", doc.ID, "error", err)
		}
	}
}

// pollDocuments looks in the store at the documents ids of tr, which
// another process may have finished, or an earlier run: a finished one is
// recorded, and its attachments, which its extraction recorded before it
// moved on, are looked at in turn.
func pollDocuments(ctx context.Context, st store.Store, tr *tracker, ids []string) error {
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
func addChildren(ctx context.Context, st store.Store, tr *tracker, id string) ([]string, error) {
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

func (a *app) printProcessSummary(asJSON bool, s *processSummary, interrupted bool) error {
	if asJSON {
		line, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", line)
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "%d documents from %d files", s.Total, s.Files)
	if s.Attachments > 0 {
		fmt.Fprintf(w, " (%d attachments)", s.Attachments)
	}
	fmt.Fprintf(w, ": %d done, %d failed", s.Done, s.Failed)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, ", %d duplicates (already received, not processed again)", s.Duplicates)
	}
	if s.Unfinished > 0 {
		fmt.Fprintf(w, ", %d unfinished", s.Unfinished)
	}
	fmt.Fprintf(w, " in %s, %.1f documents/s\n", time.Duration(s.ElapsedS*float64(time.Second)).Round(10*time.Millisecond), s.DocsPerS)
	reasons := slices.Sorted(maps.Keys(s.Reasons))
	slices.SortStableFunc(reasons, func(x, y string) int { return s.Reasons[y] - s.Reasons[x] })
	if len(reasons) > 0 {
		fmt.Fprintln(w, "failures:")
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "  %5d  %s\n", s.Reasons[r], r)
	}
	if interrupted {
		fmt.Fprintln(w, "interrupted: the unfinished documents are kept and finish on the next run of quire process or quire up")
	}
	return nil
}

// collectFiles lists the regular files under paths: a file as given, a
// folder recursively, skipping hidden files and folders inside it.
func collectFiles(paths []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, errors.Unwrap(err))
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file or a folder", root)
			}
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, err)
		}
	}
	return files, nil
}

// progressBar draws one line on a terminal, redrawn in place; on anything
// else it draws nothing.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	noun  string
	on    bool
	drawn bool
	last  time.Time
}

func newProgressBar(w io.Writer, noun string) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, noun: noun, on: ok && term.IsTerminal(int(f.Fd()))}
}

// set draws done of total; known says total is final.
func (p *progressBar) set(done, total int, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	more := ""
	if !known {
		more = "+"
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d%s %s ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total, more, p.noun)
	p.drawn = true
}

// clear wipes the bar's line so that a message can be printed on it; the
// next set draws it again.
func (p *progressBar) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
		p.last = time.Time{}
	}
}

// finish ends the bar's line, once.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
