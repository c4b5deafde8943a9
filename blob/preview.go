package blob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	gcblob "gocloud.dev/blob"
)

// Previews are the one kind of blob not addressed by content: a document's
// thumbnail is kept under its document's ID, so that making it again
// replaces it and deleting the document deletes it, where two documents
// whose first pages look alike would otherwise share one blob that neither
// could delete. Keys are previews/<last two characters of the ID>/<ID>.jpg:
// document IDs (ULIDs) end in random characters, so a directory store
// spreads them over 1,024 directories.

// previewIDMax bounds a document ID in a preview key.
const previewIDMax = 64

// PreviewKey returns the key of a document's preview (a JPEG), or an error
// matching ErrInvalidKey for an ID that is not made of 4 to 64 ASCII
// letters and digits.
func PreviewKey(documentID string) (string, error) {
	if !validPreviewID(documentID) {
		return "", fmt.Errorf("%w: preview of %q: a document ID is 4 to %d ASCII letters and digits", ErrInvalidKey, documentID, previewIDMax)
	}
	return "previews/" + documentID[len(documentID)-2:] + "/" + documentID + ".jpg", nil
}

func validPreviewID(id string) bool {
	if len(id) < 4 || len(id) > previewIDMax {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// isPreviewKey reports whether key is one PreviewKey makes.
func isPreviewKey(key string) bool {
	rest, ok := strings.CutPrefix(key, "previews/")
	if !ok {
		return false
	}
	shard, file, ok := strings.Cut(rest, "/")
	id, ok2 := strings.CutSuffix(file, ".jpg")
	return ok && ok2 && validPreviewID(id) && shard == id[len(id)-2:]
}

// checkKey accepts the keys the store hands out: content keys (Key) and
// preview keys (PreviewKey). Keys come back from the database and URLs, so
// every method checks them: a key can name nothing outside the layout.
func checkKey(key string) error {
	if isPreviewKey(key) {
		return nil
	}
	_, err := ParseKey(key)
	return err
}

// PutPreview stores data as the preview under key (from PreviewKey),
// replacing the one there. A failed write leaves the previous preview, or
// none, never part of one.
func (s *Store) PutPreview(ctx context.Context, key string, data []byte, contentType string) error {
	if !isPreviewKey(key) {
		return fmt.Errorf("blob: put preview %s into %s: %w: not a preview key", key, s.url, ErrInvalidKey)
	}
	// Cancelling the writer's context before Close abandons the write.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wopts := &gcblob.WriterOptions{ContentType: contentType}
	// A preview shows a document's page: it is as private as the document.
	wopts.BeforeWrite = func(as func(any) bool) error {
		var f *os.File
		if as(&f) {
			return f.Chmod(0o600)
		}
		return nil
	}
	w, err := s.bucket.NewWriter(wctx, key, wopts)
	if err != nil {
		return fmt.Errorf("blob: put preview %s into %s: %w", key, s.url, err)
	}
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("blob: put preview %s into %s: %w", key, s.url, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("blob: put preview %s into %s: %w", key, s.url, err)
	}
	return nil
}
