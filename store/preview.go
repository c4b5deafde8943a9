package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Previews is the store's role of documents' previews: the small picture
// of a document's first page the pipeline makes, kept in blob storage. A
// preview is deleted with its document.
type Previews interface {
	// GetPreview returns a document's preview, or an error matching
	// ErrNotFound when the document has none or there is no such document.
	GetPreview(ctx context.Context, documentID string) (*Preview, error)
	// ListPreviews returns the previews of those of documentIDs that have
	// one, by document ID (at most ListLimitMax IDs).
	ListPreviews(ctx context.Context, documentIDs []string) (map[string]Preview, error)
	// SavePreview records a document's preview, replacing the one it had.
	SavePreview(ctx context.Context, p *SavePreviewParams) (*Preview, error)
}

// Preview is a document's preview.
type Preview struct {
	DocumentID string
	// BlobKey is where the picture is in blob storage.
	BlobKey string
	// MIMEType is the picture's type: "image/jpeg".
	MIMEType string
	// Version is the way the picture was made (extract.ThumbnailVersion).
	Version int
	// Width and Height are the picture's size in pixels.
	Width, Height int
	// Size is the picture's length in bytes.
	Size      int64
	CreatedAt time.Time
}

// SavePreviewParams are the inputs of SavePreview.
type SavePreviewParams struct {
	DocumentID string
	BlobKey    string
	MIMEType   string
	Version    int
	Width      int
	Height     int
	Size       int64
}

func (p *SavePreviewParams) validate() error {
	var errs []error
	if p.DocumentID == "" {
		errs = append(errs, errors.New("document ID is empty"))
	}
	if p.BlobKey == "" {
		errs = append(errs, errors.New("blob key is empty"))
	}
	if p.MIMEType == "" {
		errs = append(errs, errors.New("MIME type is empty"))
	}
	if p.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d is not positive", p.Version))
	}
	if p.Width < 1 || p.Height < 1 {
		errs = append(errs, fmt.Errorf("size %d×%d is not positive", p.Width, p.Height))
	}
	if p.Size < 0 {
		errs = append(errs, fmt.Errorf("length %d is negative", p.Size))
	}
	return invalid(errs...)
}
