package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/bytesize"
	"github.com/quirehq/quire/store"
)

// extractCacheTTL is how long an extraction result stays cached.
const extractCacheTTL = 24 * time.Hour

// extractCacheMaxBytes bounds a cached extraction: the cache is for the
// small documents that arrive again and again, and memcached refuses items
// over 1 MiB by default; a large text would only push the small ones out.
const extractCacheMaxBytes = 1 << 20

// cachedExtraction is an extraction result as cached by content hash.
type cachedExtraction struct {
	Type   string         `json:"type"`
	Title  string         `json:"title,omitempty"`
	Author string         `json:"author,omitempty"`
	Text   string         `json:"text"`
	Pages  []extract.Page `json:"pages,omitempty"`
	// Truncated: Text is the document's first Limits.MaxText bytes.
	Truncated bool              `json:"truncated,omitempty"`
	Created   time.Time         `json:"created,omitzero"`
	Meta      map[string]string `json:"meta,omitempty"`
}

// extractCacheKey is where an extraction is cached; v2 holds the type
// detected from the whole content and the metadata.
func extractCacheKey(sha string) string { return "quire:extract:v2:" + sha }

// runExtract extracts a document's text, ingests its attachments as
// documents of their own, and saves its pages and text with the move to
// analyzing. A small document (Config.OneJobMaxBytes) is analysed by the same
// job too, and finished in one commit: for the small documents that make up
// most of a busy system's traffic, the job round trips and transactions of
// two more stages would cost more than their work. A large one is claimed
// first (received -> extracting, so that its long extraction shows), and
// analysed by a job of its own.
func (p *Pipeline) runExtract(ctx context.Context, r *stageRun) error {
	doc, err := p.cfg.Store.GetDocument(ctx, r.docID)
	if err != nil {
		return fmt.Errorf("load document: %w", err)
	}
	switch doc.State {
	case store.StateReceived, store.StateExtracting:
	case store.StateAnalyzing:
		// A run that ended before it passed the document on.
		return p.enqueueStage(ctx, JobAnalyze, QueueAnalyze, doc)
	default:
		return &store.StateConflictError{ID: doc.ID, Current: doc.State, From: []store.State{store.StateReceived}, To: store.StateExtracting}
	}
	oneJob := doc.Size <= p.cfg.OneJobMaxBytes
	if !oneJob && doc.State == store.StateReceived {
		if doc, err = p.cfg.Store.SetState(ctx, &store.SetStateParams{ID: r.docID,
			From: []store.State{store.StateReceived}, To: store.StateExtracting}); err != nil {
			return fmt.Errorf("start extraction: %w", err)
		}
	}
	res, err := p.extract(ctx, r, doc)
	if err != nil {
		return err
	}
	notes, err := p.ingestChildren(ctx, r, doc, res)
	if err != nil {
		return err
	}
	previewEvents := p.preview(ctx, doc, res, r.content)
	r.content = nil
	pages := make([]store.Page, len(res.Pages))
	for i, pg := range res.Pages {
		pages[i] = store.Page{Number: pg.Number, Text: pg.Text, OCR: pg.OCR}
	}
	move := &store.SetStateParams{ID: doc.ID,
		From: []store.State{store.StateReceived, store.StateExtracting}, To: store.StateAnalyzing,
		Pages: pages,
		Text: &store.SaveTextParams{Text: res.Text, Title: res.Title, Author: res.Author, Truncated: res.Truncated,
			Metadata: metadata(res)},
		Events: append(r.events(store.EventDone, joinNotes(append(append([]string{r.typeNote()}, notes...), p.extractNote(res)))),
			previewEvents...), Unsynced: true,
		MIMEType: r.mimeType,
	}
	if oneJob && int64(len(res.Text)) <= p.cfg.OneJobMaxBytes {
		return p.finishInOneJob(ctx, r, doc, move)
	}
	if doc, err = p.cfg.Store.SetState(ctx, move); err != nil {
		return fmt.Errorf("save extraction: %w", err)
	}
	return p.enqueueStage(ctx, JobAnalyze, QueueAnalyze, doc)
}

// MaxDepth bounds how deep documents nest: an attachment or an archive's
// member is one deeper than the document it came in, and the documents
// inside one nested MaxDepth deep are left out, its timeline saying so. An
// archive of archives five deep is unusual; one deeper is a bomb's
// recursion (42.zip nests five).
const MaxDepth = 5

// ingestChildren ingests a document's attachments and archive members as
// documents of their own, unless the document is nested MaxDepth deep
// already. It returns what the extraction's event should say: its
// warnings, and the children left out.
func (p *Pipeline) ingestChildren(ctx context.Context, r *stageRun, doc *store.Document, res *extract.Result) ([]string, error) {
	notes := slices.Clone(res.Warnings[:min(len(res.Warnings), extractWarningsMax)])
	if len(res.Warnings) > extractWarningsMax {
		notes = append(notes, fmt.Sprintf("%d more warnings", len(res.Warnings)-extractWarningsMax))
	}
	if len(res.Children) == 0 {
		return notes, nil
	}
	depth, err := p.depth(ctx, doc)
	if err != nil {
		return nil, err
	}
	if depth >= MaxDepth {
		// Not ingested rather than ingested and failed: the same content
		// uploaded on its own later is then a new document, not this
		// failure again.
		return append(notes, fmt.Sprintf("%d documents inside this one left out: it is nested %d deep, the depth limit (archives in archives, attachments of attachments)",
			len(res.Children), depth)), nil
	}
	// The children are read in the language of the document's text, or,
	// when it has too little to tell (an archive), of the text it came
	// with: OCR of an image then needs only that language's model.
	lang := p.cfg.Extractor.TextLanguage(res.Text)
	if lang == "" {
		lang = r.language
	}
	for _, c := range res.Children {
		child, created, err := p.Ingest(ctx, &IngestParams{Name: c.Name, Type: c.Type, Body: bytes.NewReader(c.Data),
			Source: doc.Source, ParentID: doc.ID, Language: lang})
		if errors.Is(err, ErrEmpty) || errors.Is(err, ErrTooLarge) {
			notes = append(notes, err.Error())
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ingest attachment %q: %w", c.Name, err)
		}
		p.log.Debug("pipeline: attachment ingested", "document_id", doc.ID, "child_id", child.ID)
		if created && p.cfg.Ingested != nil {
			p.cfg.Ingested(doc.ID, child)
		}
	}
	return notes, nil
}

// joinNotes joins the non-empty notes of an event.
func joinNotes(notes []string) string {
	kept := notes[:0]
	for _, n := range notes {
		if n != "" {
			kept = append(kept, n)
		}
	}
	return strings.Join(kept, "; ")
}

// extractWarningsMax is how many of an extraction's warnings its event
// carries.
const extractWarningsMax = 5

// depth is how deep a document is nested: 0 for one received on its own,
// its parent's depth + 1 for an attachment or an archive's member. It walks
// the parents, at most MaxDepth of them. A document's parent is the one its
// content first came in with: content-addressing keeps one document per
// content, so a zip that holds itself is its own member, already there, and
// ends.
func (p *Pipeline) depth(ctx context.Context, doc *store.Document) (int, error) {
	depth := 0
	for d := doc; d.ParentID != "" && depth < MaxDepth; depth++ {
		parent, err := p.cfg.Store.GetDocument(ctx, d.ParentID)
		if errors.Is(err, store.ErrNotFound) {
			break // the parent was deleted: the chain ends here
		}
		if err != nil {
			return 0, fmt.Errorf("load parent of %s: %w", d.ID, err)
		}
		d = parent
	}
	return depth, nil
}

// finishInOneJob analyses a small document's extracted text and saves the
// extraction, the analysis and the move to done in one commit. The audit
// trail still shows each stage, with its own start and end.
func (p *Pipeline) finishInOneJob(ctx context.Context, r *stageRun, doc *store.Document, move *store.SetStateParams) (err error) {
	analyze := &stageRun{stage: "analyze", docID: r.docID, job: r.job, started: time.Now()}
	if p.cfg.ObserveStage != nil {
		defer func() { p.cfg.ObserveStage(analyze.stage, time.Since(analyze.started), err) }()
	}
	res, err := p.cfg.Analyzer.Analyze(ctx, &AnalyzeInput{Document: doc, Text: move.Text.Text})
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	move.To, move.Unsynced, move.Analyses = store.StateDone, false, res
	move.Events = append(move.Events, analyze.events(store.EventDone, "")...)
	tags, tagEvents, err := p.documentTags(ctx, analyze, doc, move.Text.Title, move.Text.Text)
	if err != nil {
		return err
	}
	move.Tags, move.Events = tags, append(move.Events, tagEvents...)
	done, err := p.cfg.Store.SetState(ctx, move)
	if err != nil {
		return fmt.Errorf("save extraction and analysis: %w", err)
	}
	p.finished(done)
	return p.enqueueWebhooks(ctx, done, EventDocumentDone)
}

// extract runs the extractor on the document's content, or takes the result
// cached for the same content. The type is detected again from the whole
// content: ingest saw its first bytes only, which name a ZIP or CFB
// container but seldom what it holds (an EPUB, a DOCX without its
// extension, a Visio drawing); the run keeps the type found for its move.
func (p *Pipeline) extract(ctx context.Context, r *stageRun, doc *store.Document) (*extract.Result, error) {
	key := extractCacheKey(doc.SHA256)
	if p.cfg.Cache != nil {
		if b, ok := p.cfg.Cache.Get(ctx, key); ok {
			var c cachedExtraction
			if json.Unmarshal(b, &c) == nil {
				if c.Type != doc.MIMEType {
					r.mimeType = c.Type
				}
				return &extract.Result{Type: c.Type, Title: c.Title, Author: c.Author, Text: c.Text, Pages: c.Pages,
					Truncated: c.Truncated, Created: c.Created, Meta: c.Meta}, nil
			}
		}
	}
	rc, err := p.cfg.Blobs.Open(ctx, doc.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", doc.BlobKey, err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", doc.BlobKey, err)
	}
	typ := extract.Detect(doc.Name, data)
	if typ == "application/octet-stream" {
		typ = doc.MIMEType // what an attachment was declared as, if anything
	}
	if typ != doc.MIMEType {
		r.mimeType = typ
	}
	r.content = data
	res, err := p.cfg.Extractor.Extract(ctx, &extract.Input{Name: doc.Name, Data: data, Type: typ, Language: r.language})
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", doc.ID, err)
	}
	if res.Type != doc.MIMEType {
		r.mimeType = res.Type // a reader may name the type more exactly (an XML dialect)
	}
	if p.cfg.Cache != nil && len(res.Children) == 0 && 2*len(res.Text) < extractCacheMaxBytes {
		// Documents with attachments are not cached: the attachments must
		// be ingested, and they are not in the cached form. (Pages hold
		// the text a second time.)
		if b, err := json.Marshal(cachedExtraction{Type: res.Type, Title: res.Title, Author: res.Author,
			Text: res.Text, Pages: res.Pages, Truncated: res.Truncated, Created: res.Created, Meta: res.Meta}); err == nil && len(b) <= extractCacheMaxBytes {
			p.cfg.Cache.Set(ctx, key, b, extractCacheTTL)
		}
	}
	return res, nil
}

// A document's metadata is for display and search, not a second text: a
// recipient list of thousands is cut.
const (
	metadataFieldsMax = 64
	metadataValueMax  = 4 << 10
)

// typeNote is what the audit trail says of a type the run found that
// ingest, which saw the first bytes only, did not.
func (r *stageRun) typeNote() string {
	if r.mimeType == "" {
		return ""
	}
	return "the content is " + r.mimeType
}

// metadata is what a document says of itself beyond its title and author,
// as the store keeps it: the format's own fields and, where the document
// has one, its creation date.
func metadata(res *extract.Result) map[string]string {
	if len(res.Meta) == 0 && res.Created.IsZero() {
		return nil
	}
	m := make(map[string]string, len(res.Meta)+1)
	for k, v := range res.Meta {
		if len(m) == metadataFieldsMax {
			break
		}
		if len(v) > metadataValueMax {
			v = strings.ToValidUTF8(v[:metadataValueMax], "") + "…"
		}
		m[k] = v
	}
	if !res.Created.IsZero() {
		m["created"] = res.Created.UTC().Format(time.RFC3339)
	}
	return m
}

// extractNote is what the audit trail says of an extraction beyond its
// success: that the text was cut at the limit, so that a person who finds
// the end of a document missing learns why, and which setting to raise.
func (p *Pipeline) extractNote(res *extract.Result) string {
	if !res.Truncated {
		return ""
	}
	return fmt.Sprintf("text truncated: the document holds more than the text limit of %s (--max-text-bytes); the first %s are kept",
		bytesize.Format(p.cfg.Extractor.Limits().MaxText), bytesize.Format(int64(len(res.Text))))
}

// runAnalyze runs the analyzer on the text and saves what it found with
// the move to indexed.
func (p *Pipeline) runAnalyze(ctx context.Context, r *stageRun) error {
	doc, err := p.cfg.Store.GetDocument(ctx, r.docID)
	if err != nil {
		return fmt.Errorf("load document: %w", err)
	}
	if doc.State == store.StateIndexed {
		return p.enqueueStage(ctx, JobNotify, QueueNotify, doc)
	}
	if doc.State == store.StateReceived || doc.State == store.StateExtracting {
		_, err := p.catchUp(ctx, doc)
		return err
	}
	if doc.State != store.StateAnalyzing {
		return &store.StateConflictError{ID: doc.ID, Current: doc.State, From: []store.State{store.StateAnalyzing}, To: store.StateIndexed}
	}
	text, err := p.cfg.Store.GetText(ctx, doc.ID)
	if err != nil {
		return fmt.Errorf("load text: %w", err)
	}
	res, err := p.cfg.Analyzer.Analyze(ctx, &AnalyzeInput{Document: doc, Text: text})
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	tags, tagEvents, err := p.documentTags(ctx, r, doc, doc.Title, text)
	if err != nil {
		return err
	}
	if doc, err = p.cfg.Store.SetState(ctx, &store.SetStateParams{ID: doc.ID,
		From: []store.State{store.StateAnalyzing}, To: store.StateIndexed,
		Analyses: res, Events: append(r.events(store.EventDone, ""), tagEvents...), Tags: tags, Unsynced: true,
	}); err != nil {
		return fmt.Errorf("save analysis: %w", err)
	}
	return p.enqueueStage(ctx, JobNotify, QueueNotify, doc)
}

// runNotify marks the document done and tells the webhooks. Done is a
// final state: its commit waits for the disk, and so covers every unsynced
// move before it.
func (p *Pipeline) runNotify(ctx context.Context, r *stageRun) error {
	done, err := p.cfg.Store.SetState(ctx, &store.SetStateParams{ID: r.docID,
		From: []store.State{store.StateIndexed}, To: store.StateDone, Events: r.events(store.EventDone, ""),
	})
	var conflict *store.StateConflictError
	if errors.As(err, &conflict) && (conflict.Current == store.StateReceived ||
		conflict.Current == store.StateExtracting || conflict.Current == store.StateAnalyzing) {
		doc, err := p.cfg.Store.GetDocument(ctx, r.docID)
		if err != nil {
			return fmt.Errorf("load document: %w", err)
		}
		if behind, err := p.catchUp(ctx, doc); behind || err != nil {
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	p.finished(done)
	return p.enqueueWebhooks(ctx, done, EventDocumentDone)
}

// catchUp runs again the stage a document is at when a later stage's job
// finds it there. A stage enqueues the next only after its move committed,
// so a document behind its job lost that move: the moves do not wait for
// the disk, and a crash of the database's machine can undo the last ones.
// It reports whether the document was behind.
func (p *Pipeline) catchUp(ctx context.Context, doc *store.Document) (bool, error) {
	var jobType, queue string
	switch doc.State {
	case store.StateReceived, store.StateExtracting:
		jobType, queue = JobExtract, extractQueue(doc.MIMEType)
	case store.StateAnalyzing:
		jobType, queue = JobAnalyze, QueueAnalyze
	default:
		return false, nil
	}
	p.log.Info("pipeline: document behind its job, running its stage again", "document_id", doc.ID, "state", doc.State, "job", jobType)
	return true, p.enqueueStage(ctx, jobType, queue, doc)
}

// limitSettings name the settings that raise an extract.LimitError's
// limit, for the reason a person reads.
var limitSettings = map[string]string{
	"bytes":      "--max-document-bytes",
	"PDF memory": "--max-pdf-memory",
}

// permanent reports whether an error is one a retry cannot mend, and the
// reason to show for it.
func permanent(err error) (string, bool) {
	var limit *extract.LimitError
	var panicked *extract.PanicError
	switch {
	case errors.As(err, &limit):
		if flag := limitSettings[limit.Limit]; flag != "" {
			return limit.Error() + "; raise " + flag + " or split the document", true
		}
		return limit.Error() + "; raise the limit or split the document", true
	case errors.Is(err, extract.ErrEncrypted):
		// What the reader knows of the protection (a password-protected
		// Word document, every member of a 7z archive) helps the person
		// who has to find the password.
		detail := strings.TrimPrefix(strings.TrimPrefix(unwrapAll(err, extract.ErrEncrypted).Error(), extract.ErrEncrypted.Error()), ": ")
		if detail == "" {
			return "the document is encrypted: upload it without a password", true
		}
		return fmt.Sprintf("the document is encrypted (%s): upload it without a password", detail), true
	case errors.Is(err, extract.ErrConverterUnavailable):
		// The reason names the type and what to install; converting it
		// by hand is not the advice.
		return unwrapAll(err, extract.ErrUnsupported).Error(), true
	case errors.Is(err, extract.ErrUnsupported):
		return fmt.Sprintf("%v: convert it to PDF, an office format, HTML, email or text", unwrapAll(err, extract.ErrUnsupported)), true
	case errors.Is(err, extract.ErrOCRUnavailable):
		return "the document has no text layer and OCR is not available: install tesseract-ocr on the workers", true
	case errors.Is(err, extract.ErrCorrupt):
		return "the document could not be read: " + unwrapAll(err, extract.ErrCorrupt).Error(), true
	case errors.As(err, &panicked):
		return "the parser failed on this document (" + panicked.Error() + "); please report it", true
	case errors.Is(err, store.ErrInvalid):
		return err.Error(), true
	}
	return "", false
}

// unwrapAll returns the innermost message that still wraps target: the
// extractor's "unsupported document type: image/svg+xml".
func unwrapAll(err, target error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil || !errors.Is(next, target) || next == target {
			return err
		}
		err = next
	}
}
