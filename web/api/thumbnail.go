package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/preview"
)

// thumbnail serves a document's preview: a JPEG of its first page, with an
// ETag and private caching; 404 when the document has none (a text, an
// email, one not yet extracted, or previews turned off).
func (a *api) thumbnail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	doc, err := a.st.GetDocument(r.Context(), id)
	if a.storeError(w, r, err) {
		return
	}
	pv, err := a.st.GetPreview(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.problem(w, r, http.StatusNotFound, fmt.Errorf("document %s has no preview", id))
		return
	}
	if a.storeError(w, r, err) {
		return
	}
	if a.blobs == nil {
		a.problem(w, r, http.StatusServiceUnavailable, errors.New("thumbnail: no blob storage configured"))
		return
	}
	err = preview.Serve(w, r, doc, pv, a.blobs)
	switch {
	case errors.Is(err, preview.ErrNoBlob):
		a.problem(w, r, http.StatusNotFound, fmt.Errorf("document %s has no preview: %w", id, err))
	case err != nil:
		a.problem(w, r, http.StatusServiceUnavailable, err)
	}
}
