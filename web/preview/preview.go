// Package preview serves documents' previews (the thumbnails of their first
// pages that the pipeline makes) to browsers and API clients, with the
// same validators and caching on both: the REST API's
// /api/v1/documents/{id}/thumbnail and the web UI's
// /documents/{id}/thumbnail.
package preview

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/store"
)

// CacheControl is the caching of a preview: private, since it shows a
// document only its readers may see, and for a day, after which the ETag
// makes revalidation cheap. A preview changes only when its document's
// content or the way previews are made (the version) does, and the ETag
// names both.
const CacheControl = "private, max-age=86400"

// ETag is a preview's entity tag: the document's SHA-256 and the version of
// the way its preview was made.
func ETag(doc *store.Document, pv *store.Preview) string {
	return `"` + doc.SHA256 + "-p" + strconv.Itoa(pv.Version) + `"`
}

// ErrNoBlob reports a preview recorded whose picture is not in blob
// storage: the caller answers as it would for no preview.
var ErrNoBlob = errors.New("the preview's picture is missing from blob storage")

// Serve answers a request for doc's preview pv from blobs: 304 when the
// client's If-None-Match names its ETag, else the picture with its
// validators. An error (ErrNoBlob, or blob storage failing) means nothing
// was written.
func Serve(w http.ResponseWriter, r *http.Request, doc *store.Document, pv *store.Preview, blobs *blob.Store) error {
	etag := ETag(doc, pv)
	h := w.Header()
	h.Set("Cache-Control", CacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		h.Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	rd, err := blobs.Open(r.Context(), pv.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		h.Del("Cache-Control")
		return fmt.Errorf("preview of document %s: %w", doc.ID, ErrNoBlob)
	}
	if err != nil {
		h.Del("Cache-Control")
		return fmt.Errorf("preview of document %s: %w", doc.ID, err)
	}
	defer rd.Close()
	h.Set("ETag", etag)
	h.Set("Content-Type", pv.MIMEType)
	h.Set("Content-Length", strconv.FormatInt(rd.Size(), 10))
	// A picture is never a page: nothing in it may run or load.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rd)
	}
	return nil
}

// noneMatch reports whether an If-None-Match header names etag, weakly
// compared as RFC 9110 asks for GET: W/"x" matches "x", and * matches any.
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
