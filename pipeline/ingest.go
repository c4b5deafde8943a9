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
	name := filepath.Base(strings.ReplaceAll(ip.Name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "document"
	}
	head := &headBuffer{max: detectHead}
	put, err := p.cfg.Blobs.Put(ctx, io.TeeReader(ip.Body, head), &blob.PutOpts{MaxBytes: p.cfg.MaxBytes})
	var tooLarge *blob.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, false, fmt.Errorf("ingest %s: %w: more than %s", name, ErrTooLarge, bytesize.Format(p.cfg.MaxBytes))
	}
	if err != nil {
		return nil, false, fmt.Errorf("ingest %s: store content: %w", name, err)
	}
	key, size := put.Key, put.Size
	if size == 0 {
		return nil, false, fmt.Errorf("ingest %s: %w", name, ErrEmpty)
	}
	mime := extract.Detect(name, head.Bytes())
	if mime == "application/octet-stream" && ip.Type != "" {
		mime = ip.Type
	}
	doc, created, err := p.cfg.Store.CreateDocument(ctx, &store.CreateDocumentParams{
		SHA256: put.SHA256, Name: name, MIMEType: mime, Size: size,
		ParentID: ip.ParentID, Source: ip.Source, BlobKey: key,
		Events: []store.AddEventParams{{Stage: "ingest", Type: store.EventDone,
			Message: fmt.Sprintf("%s, %d bytes, %s", name, size, mime)}},
	})
	if err != nil {
		return nil, false, fmt.Errorf("ingest %s: record document: %w", name, err)
	}
	// A document that is still waiting (its first ingest failed to enqueue,
	// or a client retried the upload) is enqueued again: the job is unique,
	// so this never runs it twice.
	if created || doc.State == store.StateReceived {
		args := docArgs{DocumentID: doc.ID, Language: ip.Language}
		if err := p.enqueueStageArgs(ctx, JobExtract, extractQueue(doc.MIMEType), doc, args); err != nil {
			return nil, false, fmt.Errorf("ingest %s: %w", name, err)
		}
	}
	return doc, created, nil
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
