package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/quirehq/quire/internal/bytesize"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/edge"
)

// Document is a document as the API shows it.
type Document struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	SHA256        string `json:"sha256"`
	MIMEType      string `json:"mime_type"`
	Size          int64  `json:"size"`
	State         string `json:"state"`
	FailureReason string `json:"failure_reason,omitempty"`
	FailedStage   string `json:"failed_stage,omitempty"`
	PageCount     int    `json:"page_count"`
	WordCount     int    `json:"word_count"`
	Language      string `json:"language,omitempty"`
	Title         string `json:"title,omitempty"`
	Author        string `json:"author,omitempty"`
	Summary       string `json:"summary,omitempty"`
	// Metadata is what else the document says of itself, by field
	// ("created", "modified", "sheets", "duration", "from"...), as its
	// format has them.
	Metadata  map[string]string `json:"metadata,omitempty"`
	ParentID  string            `json:"parent_id,omitempty"`
	Source    string            `json:"source"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	DoneAt    time.Time         `json:"done_at,omitzero"`
	// TextTruncated reports that the text is the document's first bytes
	// only: extraction stopped at the text limit (--max-text-bytes).
	TextTruncated bool `json:"text_truncated"`
	// Tags are the names of the document's tags, sorted.
	Tags []string `json:"tags"`
	// Duplicate is set on an upload whose content was already stored: the
	// document is the existing one, with its results.
	Duplicate bool `json:"duplicate,omitempty"`
}

func view(d *store.Document) Document {
	return Document{ID: d.ID, Name: d.Name, SHA256: d.SHA256, MIMEType: d.MIMEType, Size: d.Size,
		State: string(d.State), FailureReason: d.FailureReason, FailedStage: d.FailedStage,
		PageCount: d.PageCount, WordCount: d.WordCount, Language: d.Language, Title: d.Title,
		Author: d.Author, Summary: d.Summary, Metadata: d.Metadata, ParentID: d.ParentID, Source: string(d.Source), CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, DoneAt: d.DoneAt, TextTruncated: d.TextTruncated}
}

// uploadOverhead is what an upload may hold besides its document: a
// multipart form's boundaries, headers and other fields.
const uploadOverhead = 1 << 20

// upload takes one document, as a multipart form's "file" part or as the
// raw body (named by ?name= or Content-Disposition), and answers with its id
// at once: 201 for a new document, 200 for content already stored. The
// pipeline bounds the size (413 beyond it) while it stores the content, so
// the body is read once and never held in memory.
func (a *api) upload(w http.ResponseWriter, r *http.Request) {
	// An authenticated upload may take the time a large document needs;
	// the pipeline stops reading it at the document limit, and nothing is
	// read past that and what a form holds around it, whatever parts come
	// before the document's.
	edge.AllowTransfer(w, r, a.p.MaxBytes())
	r.Body = http.MaxBytesReader(w, r.Body, a.p.MaxBytes()+uploadOverhead)
	var tooLarge *http.MaxBytesError
	name, body := r.URL.Query().Get("name"), io.Reader(r.Body)
	declared := r.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(declared); mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			a.problem(w, r, http.StatusBadRequest, fmt.Errorf("read multipart upload: %w", err))
			return
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				a.problem(w, r, http.StatusBadRequest, errors.New(`the multipart upload has no "file" part`))
				return
			}
			if errors.As(err, &tooLarge) {
				a.problem(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("the upload is larger than the largest document and its form (%s)", bytesize.Format(tooLarge.Limit)))
				return
			}
			if err != nil {
				a.problem(w, r, http.StatusBadRequest, fmt.Errorf("read multipart upload: %w", err))
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
		a.problem(w, r, http.StatusRequestEntityTooLarge, err)
		return
	case errors.As(err, &tooLarge):
		a.problem(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("the upload is larger than the largest document and its form (%s)", bytesize.Format(tooLarge.Limit)))
		return
	case errors.Is(err, pipeline.ErrEmpty):
		a.problem(w, r, http.StatusBadRequest, err)
		return
	case err != nil:
		a.problem(w, r, http.StatusServiceUnavailable, err)
		return
	}
	v, err := a.documentView(r.Context(), doc)
	if a.storeError(w, r, err) {
		return
	}
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
	if a.storeError(w, r, err) {
		return
	}
	v, err := a.documentView(r.Context(), doc)
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// deleteDocument deletes the document's records and its preview. Its
// content stays in blob storage: blobs are shared by content.
func (a *api) deleteDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	if a.storeError(w, r, a.p.DeleteDocument(r.Context(), id)) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// TextTruncatedHeader is the header of a text answer that says whether the
// text is the document's first bytes only ("true") or whole ("false").
const TextTruncatedHeader = "Quire-Text-Truncated"

func (a *api) text(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	doc, err := a.st.GetDocument(r.Context(), id)
	if a.storeError(w, r, err) {
		return
	}
	text, err := a.st.GetText(r.Context(), id)
	if a.storeError(w, r, err) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set(TextTruncatedHeader, strconv.FormatBool(doc.TextTruncated))
	_, _ = io.WriteString(w, text)
}

// original serves the document's content as an attachment. The content is
// whatever someone uploaded, so a browser must never render it in the API's
// origin: attachment, nosniff and a sandboxing CSP see to that.
func (a *api) original(w http.ResponseWriter, r *http.Request) {
	doc, err := a.st.GetDocument(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	if a.blobs == nil {
		a.problem(w, r, http.StatusServiceUnavailable, errors.New("download the original: no blob storage configured"))
		return
	}
	rd, err := a.blobs.Open(r.Context(), doc.BlobKey)
	if err != nil {
		a.problem(w, r, http.StatusServiceUnavailable, fmt.Errorf("download the original of %s: %w", doc.ID, err))
		return
	}
	defer rd.Close()
	edge.AllowTransfer(w, r, doc.Size)
	h := w.Header()
	h.Set("Content-Type", doc.MIMEType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": safeFilename(doc.Name)}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("ETag", `"`+doc.SHA256+`"`)
	// ServeContent answers a bad Range or precondition in plain text: the
	// writer turns that into a problem.
	http.ServeContent(&problemWriter{ResponseWriter: w, a: a, r: r}, r, "", doc.CreatedAt, rd)
}

// problemWriter passes an answer through unless it is an error, which it
// replaces with a problem.
type problemWriter struct {
	http.ResponseWriter
	a       *api
	r       *http.Request
	failed  bool
	written bool
}

func (p *problemWriter) WriteHeader(code int) {
	if p.written {
		return
	}
	p.written = true
	if code < 400 {
		p.ResponseWriter.WriteHeader(code)
		return
	}
	p.failed = true
	h := p.ResponseWriter.Header()
	for _, k := range []string{"Content-Disposition", "Content-Length", "Content-Security-Policy", "ETag"} {
		h.Del(k)
	}
	detail := "the original cannot be served: " + strings.ToLower(http.StatusText(code))
	if cr := h.Get("Content-Range"); cr != "" {
		detail += " (the content is " + cr + ")"
	}
	p.a.problem(p.ResponseWriter, p.r, code, errors.New(detail))
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if !p.written {
		p.WriteHeader(http.StatusOK)
	}
	if p.failed {
		return len(b), nil // the problem was written instead
	}
	return p.ResponseWriter.Write(b)
}

// safeFilename keeps a file name's base and drops the characters that could
// break out of a header or into a path: separators, quotes and controls.
func safeFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || strings.ContainsRune(`"/\;:*?<>|`, c) {
			return '_'
		}
		return c
	}, name)
	if strings.Trim(name, ". _") == "" {
		return "document"
	}
	return name
}

func (a *api) reprocess(w http.ResponseWriter, r *http.Request) {
	doc, err := a.p.Reprocess(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	v, err := a.documentView(r.Context(), doc)
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusAccepted, v)
}

// List is a page of documents.
type List struct {
	Documents []Document `json:"documents"`
	// Next is the link to the next page, with the same filters; empty on
	// the last page. The Link header carries it too (rel="next").
	Next string `json:"next,omitempty"`
}

// limitParam reads a page size from the query: empty gives def; anything but
// a number from 1 to maxLimit is a client's error.
func limitParam(q url.Values, def, maxLimit int) (int, error) {
	l := q.Get("limit")
	if l == "" {
		return def, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fmt.Errorf("limit %q is not a number from 1 to %d", l, maxLimit)
	}
	return n, nil
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(q, store.ListLimitDefault, store.ListLimitMax)
	if err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	state := store.State(q.Get("state"))
	if state != "" && !state.Valid() {
		a.problem(w, r, http.StatusBadRequest, fmt.Errorf("state %q is not one of %v", state, store.States))
		return
	}
	tags, err := tagsParam(q)
	if err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return
	}
	page, err := a.st.ListDocuments(r.Context(), &store.ListDocumentsParams{State: state, MIMEType: q.Get("mime_type"),
		Query: q.Get("q"), ParentID: q.Get("parent"), Tags: tags, Cursor: q.Get("cursor"), Limit: limit})
	if a.storeError(w, r, err) {
		return
	}
	docs, err := a.documentViews(r.Context(), page.Documents)
	if a.storeError(w, r, err) {
		return
	}
	out := List{Documents: docs}
	if page.Next != "" {
		// The next link keeps the filters and the limit, so a client just
		// follows it.
		next := url.Values{}
		for _, k := range []string{"state", "q", "parent", "mime_type"} {
			if v := q.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		if len(tags) > 0 {
			next.Set("tag", strings.Join(tags, ","))
		}
		next.Set("limit", strconv.Itoa(limit))
		next.Set("cursor", page.Next)
		out.Next = r.URL.Path + "?" + next.Encode()
		w.Header().Set("Link", "<"+out.Next+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

// Results are what the models found in a document.
type Results struct {
	DocumentID      string           `json:"document_id"`
	State           string           `json:"state"`
	Language        string           `json:"language,omitempty"`
	Summary         string           `json:"summary,omitempty"`
	Classifications []Classification `json:"classifications"`
	Entities        []Entity         `json:"entities"`
}

// Classification is a label a model gave a document.
type Classification struct {
	Label        string  `json:"label"`
	Confidence   float64 `json:"confidence"`
	ModelVersion string  `json:"model_version"`
}

// Entity is something a model found in a document's text. Start and End are
// byte offsets in the text; both are 0 for keywords.
type Entity struct {
	Kind         string  `json:"kind"`
	Value        string  `json:"value"`
	Start        int     `json:"start"`
	End          int     `json:"end"`
	Confidence   float64 `json:"confidence"`
	ModelVersion string  `json:"model_version"`
}

func (a *api) results(w http.ResponseWriter, r *http.Request) {
	doc, err := a.st.GetDocument(r.Context(), r.PathValue("id"))
	if a.storeError(w, r, err) {
		return
	}
	an, err := a.st.GetAnalysis(r.Context(), doc.ID)
	if a.storeError(w, r, err) {
		return
	}
	out := Results{DocumentID: doc.ID, State: string(doc.State), Language: doc.Language, Summary: doc.Summary,
		Classifications: make([]Classification, len(an.Classifications)), Entities: make([]Entity, len(an.Entities))}
	for i, c := range an.Classifications {
		out.Classifications[i] = Classification{Label: c.Label, Confidence: c.Confidence, ModelVersion: c.ModelVersion}
	}
	for i, e := range an.Entities {
		out.Entities[i] = Entity{Kind: e.Kind, Value: e.Value, Start: e.Start, End: e.End, Confidence: e.Confidence, ModelVersion: e.ModelVersion}
	}
	writeJSON(w, http.StatusOK, out)
}

// Event is one entry of a document's processing audit trail.
type Event struct {
	ID      int64     `json:"id"`
	Stage   string    `json:"stage"`
	Type    string    `json:"type"`
	Message string    `json:"message,omitempty"`
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
}

// EventList is a document's audit trail, oldest first.
type EventList struct {
	Events []Event `json:"events"`
}

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	evs, err := a.st.ListEvents(r.Context(), id)
	if a.storeError(w, r, err) {
		return
	}
	out := EventList{Events: make([]Event, len(evs))}
	for i, e := range evs {
		out.Events[i] = Event{ID: e.ID, Stage: e.Stage, Type: string(e.Type), Message: e.Message, Attempt: e.Attempt, At: e.At}
	}
	writeJSON(w, http.StatusOK, out)
}

// Label is a label a person gave a document.
type Label struct {
	DocumentID string    `json:"document_id"`
	Label      string    `json:"label"`
	SetBy      string    `json:"set_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// LabelList is a document's labels, oldest first.
type LabelList struct {
	Labels []Label `json:"labels"`
}

// LabelParams are the body of a new label.
type LabelParams struct {
	Label string `json:"label"`
}

// maxLabel bounds a label's length: labels are names, not texts.
const maxLabel = 200

func (a *api) listLabels(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	ls, err := a.st.ListLabels(r.Context(), &store.ListLabelsParams{DocumentID: id})
	if a.storeError(w, r, err) {
		return
	}
	out := LabelList{Labels: make([]Label, len(ls))}
	for i, l := range ls {
		out.Labels[i] = Label{DocumentID: l.DocumentID, Label: l.Label, SetBy: l.SetBy, CreatedAt: l.CreatedAt}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) addLabel(w http.ResponseWriter, r *http.Request) {
	var p LabelParams
	if !a.decode(w, r, &p) {
		return
	}
	p.Label = strings.TrimSpace(p.Label)
	if p.Label == "" || len(p.Label) > maxLabel {
		a.problem(w, r, http.StatusBadRequest, fmt.Errorf("label %q must have 1 to %d bytes", p.Label, maxLabel))
		return
	}
	l, err := a.st.AddLabel(r.Context(), &store.AddLabelParams{DocumentID: r.PathValue("id"), Label: p.Label, SetBy: setBy(r)})
	if a.storeError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusCreated, Label{DocumentID: l.DocumentID, Label: l.Label, SetBy: l.SetBy, CreatedAt: l.CreatedAt})
}

func (a *api) deleteLabel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.st.GetDocument(r.Context(), id); a.storeError(w, r, err) {
		return
	}
	if a.storeError(w, r, a.st.DeleteLabel(r.Context(), id, r.PathValue("label"))) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Stats count documents.
type Stats struct {
	Documents int64            `json:"documents"`
	ByState   map[string]int64 `json:"by_state"`
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	st, err := a.st.Stats(r.Context())
	if a.storeError(w, r, err) {
		return
	}
	out := Stats{Documents: st.Documents, ByState: make(map[string]int64, len(st.ByState))}
	for s, n := range st.ByState {
		out.ByState[string(s)] = n
	}
	writeJSON(w, http.StatusOK, out)
}
