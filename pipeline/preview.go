package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/store"
)

// Previews: the extract stage makes a thumbnail of a document's first page
// while the document's bytes are at hand (extract.Extractor.Thumbnail, on
// the extractor's own engines), stores it in blob storage under the
// document's ID and records it (store.Previews). A preview is a nicety: one
// that cannot be made is an event of the document's audit trail (stage
// "preview"), never the document's failure.

// PreviewStage is the stage name of the previews' events.
const PreviewStage = "preview"

// PreviewConfig configures the previews.
type PreviewConfig struct {
	// Disabled turns previews off: no thumbnails are made; those made
	// before are still served.
	Disabled bool
	// MaxPixels bounds the pixels of an image decoded for a thumbnail,
	// within the extractor's decompressed-size limit (see
	// extract.ThumbnailOptions). 0 leaves that limit alone.
	MaxPixels int64
}

// preview makes, stores and records the preview of a document whose
// extraction succeeded, and returns what its audit trail says of it. data
// is the document's content, nil when the extraction came from the cache
// (the content is then read again, for a type that may have a preview
// only).
func (p *Pipeline) preview(ctx context.Context, doc *store.Document, res *extract.Result, data []byte) []store.AddEventParams {
	if p.cfg.Previews.Disabled || !extract.ThumbnailSupported(res.Type) {
		return nil
	}
	started := time.Now()
	events := func(typ store.EventType, msg string) []store.AddEventParams {
		return []store.AddEventParams{
			{Stage: PreviewStage, Type: store.EventStarted, At: started},
			{Stage: PreviewStage, Type: typ, Message: msg},
		}
	}
	msg, err := p.makePreview(ctx, doc, res.Type, data)
	switch {
	case errors.Is(err, extract.ErrNoThumbnail):
		return events(store.EventDone, "no preview: "+err.Error())
	case err != nil:
		if ctx.Err() == nil {
			p.log.Warn("pipeline: preview not made", "document_id", doc.ID, "type", res.Type, "error", err)
		}
		return events(store.EventFailed, "no preview: "+err.Error())
	}
	return events(store.EventDone, msg)
}

func (p *Pipeline) makePreview(ctx context.Context, doc *store.Document, typ string, data []byte) (string, error) {
	key, err := blob.PreviewKey(doc.ID)
	if err != nil {
		return "", err
	}
	if data == nil {
		if data, err = p.readContent(ctx, doc); err != nil {
			return "", err
		}
	}
	th, err := p.cfg.Extractor.Thumbnail(ctx, &extract.Input{Name: doc.Name, Data: data, Type: typ},
		&extract.ThumbnailOptions{MaxPixels: p.cfg.Previews.MaxPixels})
	if err != nil {
		return "", err
	}
	if err := p.cfg.Blobs.PutPreview(ctx, key, th.Data, extract.ThumbnailType); err != nil {
		return "", err
	}
	if _, err := p.cfg.Store.SavePreview(ctx, &store.SavePreviewParams{DocumentID: doc.ID, BlobKey: key,
		MIMEType: extract.ThumbnailType, Version: extract.ThumbnailVersion, Width: th.Width, Height: th.Height,
		Size: int64(len(th.Data))}); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d×%d from the %s", th.Width, th.Height, th.Source), nil
}

// readContent reads a document's content from blob storage, no more than
// the limit of a document.
func (p *Pipeline) readContent(ctx context.Context, doc *store.Document) ([]byte, error) {
	rc, err := p.cfg.Blobs.Open(ctx, doc.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", doc.BlobKey, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, p.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", doc.BlobKey, err)
	}
	if int64(len(data)) > p.cfg.MaxBytes {
		return nil, &extract.LimitError{Limit: "bytes", Max: p.cfg.MaxBytes}
	}
	return data, nil
}

// DeleteDocument deletes a document's records (store.Documents's
// DeleteDocument) and then its preview. The content's blob stays: blobs
// are shared by content. A preview left by a failure here is replaced if
// the same content comes back, and names no document otherwise.
func (p *Pipeline) DeleteDocument(ctx context.Context, id string) error {
	if err := p.cfg.Store.DeleteDocument(ctx, id); err != nil {
		return err
	}
	key, err := blob.PreviewKey(id)
	if err != nil {
		return nil // an ID no preview could have
	}
	if err := p.cfg.Blobs.Delete(ctx, key); err != nil {
		p.log.Warn("pipeline: preview of a deleted document not deleted", "document_id", id, "error", err)
	}
	return nil
}
