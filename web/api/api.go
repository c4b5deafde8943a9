// Package api is Quire's REST API over the document pipeline: upload a
// document, read what became of it, reprocess it. The web UI and `quire
// submit` speak to Quire through it; other applications may too.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// New returns the API's handler; it serves paths under /api/v1/.
func New(p *pipeline.Pipeline, log *slog.Logger) http.Handler {
	a := &api{p: p, st: p.Store(), log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/documents", a.upload)
	mux.HandleFunc("GET /api/v1/documents", a.list)
	mux.HandleFunc("GET /api/v1/documents/{id}", a.get)
	mux.HandleFunc("GET /api/v1/documents/{id}/text", a.text)
	mux.HandleFunc("POST /api/v1/documents/{id}/reprocess", a.reprocess)
	return mux
}

type api struct {
	p   *pipeline.Pipeline
	st  store.Store
	log *slog.Logger
}

// Document is a document as the API shows it.
type Document struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	SHA256        string    `json:"sha256"`
	MIMEType      string    `json:"mime_type"`
	Size          int64     `json:"size"`
	State         string    `json:"state"`
	FailureReason string    `json:"failure_reason,omitempty"`
	FailedStage   string    `json:"failed_stage,omitempty"`
	PageCount     int       `json:"page_count"`
	WordCount     int       `json:"word_count"`
	Language      string    `json:"language,omitempty"`
	Title         string    `json:"title,omitempty"`
	Author        string    `json:"author,omitempty"`
	ParentID      string    `json:"parent_id,omitempty"`
	Source        string    `json:"source"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	DoneAt        time.Time `json:"done_at,omitzero"`
	// Duplicate is set on an upload whose content was already stored: the
	// document is the existing one, with its results.
	Duplicate bool `json:"duplicate,omitempty"`
}

func view(d *store.Document) Document {
	return Document{ID: d.ID, Name: d.Name, SHA256: d.SHA256, MIMEType: d.MIMEType, Size: d.Size,
		State: string(d.State), FailureReason: d.FailureReason, FailedStage: d.FailedStage,
		PageCount: d.PageCount, WordCount: d.WordCount, Language: d.Language, Title: d.Title,
		Author: d.Author, ParentID: d.ParentID, Source: string(d.Source), CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, DoneAt: d.DoneAt}
}

// upload takes one document, as a multipart form's "file" part or as the
// raw body (named by ?name= or Content-Disposition), and answers with its id
// at once: 201 for a new document, 200 for content already stored.
func (a *api) upload(w http.ResponseWriter, r *http.Request) {
	name, body := r.URL.Query().Get("name"), io.Reader(r.Body)
	declared := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(declared); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			a.error(w, http.StatusBadRequest, fmt.Errorf("read multipart upload: %w", err))
			return
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				a.error(w, http.StatusBadRequest, errors.New(`the multipart upload has no "file" part`))
				return
			}
			if err != nil {
				a.error(w, http.StatusBadRequest, fmt.Errorf("read multipart upload: %w", err))
				return
			}
			if part.FormName() == "file" {
				name, body, declared = part.FileName(), part, part.Header.Get("Content-Type")
				break
			}
		}
	} else if name == "" {
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	if name == "" {
		name = "document"
	}
	doc, created, err := a.p.Ingest(r.Context(), &pipeline.IngestParams{Name: name, Type: declared, Body: body, Source: store.SourceSubmit})
	switch {
	case errors.Is(err, pipeline.ErrTooLarge):
		a.error(w, http.StatusRequestEntityTooLarge, err)
		return
	case errors.Is(err, pipeline.ErrEmpty):
		a.error(w, http.StatusBadRequest, err)
		return
	case err != nil:
		a.error(w, http.StatusServiceUnavailable, err)
		return
	}
	v := view(doc)
	v.Duplicate = !created
	code := http.StatusCreated
	if !created {
		code = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/documents/"+doc.ID)
	writeJSON(w, code, v)
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	doc, err := a.st.GetDocument(r.Context(), r.PathValue("id"))
	if a.storeError(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, view(doc))
}

func (a *api) text(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, err) {
		return
	}
	text, err := a.st.GetText(r.Context(), id)
	if a.storeError(w, err) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, text)
}

func (a *api) reprocess(w http.ResponseWriter, r *http.Request) {
	doc, err := a.p.Reprocess(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrStateConflict) {
		a.error(w, http.StatusConflict, err)
		return
	}
	if a.storeError(w, err) {
		return
	}
	writeJSON(w, http.StatusAccepted, view(doc))
}

// List is a page of documents.
type List struct {
	Documents []Document `json:"documents"`
	Next      string     `json:"next,omitempty"`
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		var err error
		if limit, err = strconv.Atoi(l); err != nil {
			a.error(w, http.StatusBadRequest, fmt.Errorf("limit %q is not a number", l))
			return
		}
	}
	page, err := a.st.ListDocuments(r.Context(), &store.ListDocumentsParams{State: store.State(q.Get("state")),
		Query: q.Get("q"), ParentID: q.Get("parent"), Cursor: q.Get("cursor"), Limit: limit})
	if a.storeError(w, err) {
		return
	}
	out := List{Documents: make([]Document, len(page.Documents)), Next: page.Next}
	for i := range page.Documents {
		out.Documents[i] = view(&page.Documents[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// storeError answers for a store error and reports whether there was one.
func (a *api) storeError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		a.error(w, http.StatusNotFound, err)
	case errors.Is(err, store.ErrInvalid):
		a.error(w, http.StatusBadRequest, err)
	default:
		a.error(w, http.StatusServiceUnavailable, err)
	}
	return true
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

func (a *api) error(w http.ResponseWriter, code int, err error) {
	if code >= 500 {
		a.log.Error("api: request failed", "status", code, "error", err)
	}
	writeJSON(w, code, Error{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
