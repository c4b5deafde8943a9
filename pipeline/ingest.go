package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/bytesize"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
)

// Errors of Ingest that the caller should show as they are.
var (
	// ErrTooLarge: the document is larger than Config.MaxBytes.
	ErrTooLarge = errors.New("document too large")
	// ErrEmpty: the document has no content.
	ErrEmpty = errors.New("document is empty")
)

// IngestParams describe one document received.
type IngestParams struct {
	// Name is the file name; only its base is kept.
	Name string
	// Type is the declared media type, if any; the content decides.
	Type string
	// Body is the content, read once.
	Body io.Reader
	// Source says how the document came in.
	Source store.Source
	// ParentID is the document this one was attached to.
	ParentID string
	// Language is the language of the text the document came with (its
	// parent's), as OCR names it (extract.Extractor.TextLanguage): an
	// image is read in it alone. Optional.
	Language string
}

// detectHead is how much of the content type detection looks at.
const detectHead = 3072

// Ingest stores a document's content and records it, then starts its
// processing. Identical content is stored and processed once: Ingest then
// returns the existing document and false. The document is durable when
// Ingest returns, and it will reach done or failed.
func (p *Pipeline) Ingest(ctx context.Context, ip *IngestParams) (*store.Document, bool, error) {
	cp, err := p.storeContent(ctx, ip)
	if err != nil {
		return nil, false, err
	}
	doc, created, err := p.cfg.Store.CreateDocument(ctx, cp)
	if err != nil {
		return nil, false, fmt.Errorf("ingest %s: record document: %w", cp.Name, err)
	}
	// A document that is still waiting (its first ingest failed to enqueue,
	// or a client retried the upload) is enqueued again: the job is unique,
	// so this never runs it twice.
	if created || doc.State == store.StateReceived {
		args := docArgs{DocumentID: doc.ID, Language: ip.Language}
		if err := p.enqueueStageArgs(ctx, JobExtract, extractQueue(doc.MIMEType), doc, args); err != nil {
			return nil, false, fmt.Errorf("ingest %s: %w", cp.Name, err)
		}
	}
	return doc, created, nil
}

// IngestResult is the outcome of one document of IngestMany: what Ingest
// would have returned for it.
type IngestResult struct {
	Document *store.Document
	Created  bool
	Err      error
}

// IngestMany is Ingest for many documents at once, with every guarantee of
// Ingest for each (identical content processed once, the size limit, an
// outcome of its own, durable when IngestMany returns). Their contents are
// stored one after the other, but their records are written with one
// commit and their first jobs enqueued with one more, so a client with many
// small files waits for two commits a batch rather than two a file: what
// bounds the rate of a client that uploads one file at a time. A batch of
// 16 to 64 small files suits; a client with large files gains nothing.
//
// The results are in the order of ips. An error of the store or the job
// engine that concerns the whole batch is the Err of every document it
// concerns: a document recorded whose job could not be enqueued waits for
// the sweep, or for being ingested again, as with Ingest.
func (p *Pipeline) IngestMany(ctx context.Context, ips []*IngestParams) []IngestResult {
	res := make([]IngestResult, len(ips))
	cps := make([]*store.CreateDocumentParams, 0, len(ips))
	idx := make([]int, 0, len(ips)) // the index in ips of each of cps
	for i, ip := range ips {
		cp, err := p.storeContent(ctx, ip)
		if err != nil {
			res[i].Err = err
			continue
		}
		cps = append(cps, cp)
		idx = append(idx, i)
	}
	if len(cps) == 0 {
		return res
	}
	created, err := p.cfg.Store.CreateDocuments(ctx, cps)
	if err != nil {
		for _, i := range idx {
			res[i].Err = fmt.Errorf("ingest %s: record document: %w", ips[i].Name, err)
		}
		return res
	}
	var enq []jobs.EnqueueParams
	var enqIdx []int
	for k, cr := range created {
		i := idx[k]
		if cr.Err != nil {
			res[i].Err = fmt.Errorf("ingest %s: record document: %w", cps[k].Name, cr.Err)
			continue
		}
		res[i].Document, res[i].Created = cr.Document, cr.Created
		// As in Ingest: a document still waiting is enqueued again.
		if cr.Created || cr.Document.State == store.StateReceived {
			doc := cr.Document
			enq = append(enq, jobs.EnqueueParams{Type: JobExtract,
				Args: docArgs{DocumentID: doc.ID, Language: ips[i].Language},
				Opts: p.stageOpts(JobExtract, extractQueue(doc.MIMEType), doc)})
			enqIdx = append(enqIdx, i)
		}
	}
	if len(enq) > 0 {
		if _, err := p.cfg.Jobs.EnqueueMany(ctx, enq); err != nil {
			for _, i := range enqIdx {
				res[i] = IngestResult{Err: fmt.Errorf("ingest %s: enqueue %s of document %s: %w",
					res[i].Document.Name, JobExtract, res[i].Document.ID, err)}
			}
		}
	}
	return res
}

// storeContent stores a document's content in blob storage and returns its
// record to create: the first half of an ingest.
func (p *Pipeline) storeContent(ctx context.Context, ip *IngestParams) (*store.CreateDocumentParams, error) {
	name := filepath.Base(strings.ReplaceAll(ip.Name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "document"
	}
	head := &headBuffer{max: detectHead}
	put, err := p.cfg.Blobs.Put(ctx, io.TeeReader(ip.Body, head), &blob.PutOpts{MaxBytes: p.cfg.MaxBytes})
	var tooLarge *blob.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("ingest %s: %w: more than %s", name, ErrTooLarge, bytesize.Format(p.cfg.MaxBytes))
	}
	if err != nil {
		return nil, fmt.Errorf("ingest %s: store content: %w", name, err)
	}
	key, size := put.Key, put.Size
	if size == 0 {
		return nil, fmt.Errorf("ingest %s: %w", name, ErrEmpty)
	}
	mime := extract.Detect(name, head.Bytes())
	if mime == "application/octet-stream" && ip.Type != "" {
		mime = ip.Type
	}
	return &store.CreateDocumentParams{
		SHA256: put.SHA256, Name: name, MIMEType: mime, Size: size,
		ParentID: ip.ParentID, Source: ip.Source, BlobKey: key,
		Events: []store.AddEventParams{{Stage: "ingest", Type: store.EventDone,
			Message: fmt.Sprintf("%s, %d bytes, %s", name, size, mime)}},
	}, nil
}

// extractQueue sends images, which need OCR, to their own slower queue.
func extractQueue(mime string) string {
	// SVG is text in XML, read without OCR.
	if strings.HasPrefix(mime, "image/") && !strings.HasPrefix(mime, "image/svg+xml") {
		return QueueOCR
	}
	return QueueExtract
}

// Reprocess runs a done or failed document through the pipeline again, from
// extraction, bypassing the cached extraction (the extractor may have
// changed, or OCR been installed).
func (p *Pipeline) Reprocess(ctx context.Context, id string) (*store.Document, error) {
	doc, err := p.cfg.Store.SetState(ctx, &store.SetStateParams{ID: id,
		From: []store.State{store.StateDone, store.StateFailed}, To: store.StateReceived,
		Events: []store.AddEventParams{{Stage: "reprocess", Type: store.EventStarted}}})
	if err != nil {
		return nil, fmt.Errorf("reprocess %s: %w", id, err)
	}
	if p.cfg.Cache != nil {
		p.cfg.Cache.Delete(ctx, extractCacheKey(doc.SHA256))
	}
	if err := p.enqueueStage(ctx, JobExtract, extractQueue(doc.MIMEType), doc); err != nil {
		return nil, fmt.Errorf("reprocess %s: %w", id, err)
	}
	return doc, nil
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	bytes.Buffer
	max int
}

func (h *headBuffer) Write(b []byte) (int, error) {
	if room := h.max - h.Len(); room > 0 {
		h.Buffer.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}
