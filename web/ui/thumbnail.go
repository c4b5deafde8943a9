package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/preview"
)

// Thumbnails are shown in the documents list and on a document's page, at
// most thumbListSide and thumbPageSide CSS pixels; the picture itself is
// larger (400 pixels), for screens of two or more pixels per point.
const (
	thumbListSide = 48
	thumbPageSide = 160
)

// thumbView is a thumbnail as a page shows it: its address and the size it
// takes, so that the layout does not move when it loads. Src is empty for a
// document without a preview, which shows a placeholder of the same box.
type thumbView struct {
	Src           string
	Width, Height int
}

// newThumbView fits a preview into a square of side pixels; pv nil is a
// document without one.
func newThumbView(docID string, pv *store.Preview, side int) thumbView {
	if pv == nil || pv.Width < 1 || pv.Height < 1 {
		return thumbView{Width: side * 3 / 4, Height: side}
	}
	w, h := side, side
	if pv.Width >= pv.Height {
		h = max(pv.Height*side/pv.Width, 1)
	} else {
		w = max(pv.Width*side/pv.Height, 1)
	}
	// The version in the address lets a browser keep a picture for its
	// whole max-age and still see a new one when previews are remade.
	return thumbView{Src: "/documents/" + url.PathEscape(docID) + "/thumbnail?v=" + strconv.Itoa(pv.Version), Width: w, Height: h}
}

// listThumbs returns the thumbnails of a list of documents, by ID.
func (u *ui) listThumbs(r *http.Request, docs []store.Document) (map[string]thumbView, error) {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	pvs, err := u.st.ListPreviews(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]thumbView, len(docs))
	for _, d := range docs {
		var pv *store.Preview
		if p, ok := pvs[d.ID]; ok {
			pv = &p
		}
		out[d.ID] = newThumbView(d.ID, pv, thumbListSide)
	}
	return out, nil
}

// pageThumb returns the thumbnail of a document's page.
func (u *ui) pageThumb(r *http.Request, docID string) (thumbView, error) {
	pv, err := u.st.GetPreview(r.Context(), docID)
	if errors.Is(err, store.ErrNotFound) {
		return newThumbView(docID, nil, thumbPageSide), nil
	}
	if err != nil {
		return thumbView{}, err
	}
	return newThumbView(docID, pv, thumbPageSide), nil
}

// thumbnail serves a document's preview picture (web/preview): a 404 page
// when it has none.
func (u *ui) thumbnail(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	id := r.PathValue("id")
	doc, err := u.st.GetDocument(r.Context(), id)
	if u.storeError(w, r, err) {
		return
	}
	pv, err := u.st.GetPreview(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.opts.Blobs == nil) {
		u.fail(w, r, http.StatusNotFound, fmt.Errorf("document %s has no preview", id))
		return
	}
	if u.storeError(w, r, err) {
		return
	}
	err = preview.Serve(w, r, doc, pv, u.opts.Blobs)
	switch {
	case errors.Is(err, preview.ErrNoBlob):
		u.fail(w, r, http.StatusNotFound, fmt.Errorf("document %s has no preview: %w", id, err))
	case err != nil:
		u.fail(w, r, http.StatusServiceUnavailable, err)
	}
}
