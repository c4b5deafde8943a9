package ui

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/edge"
)

// loginCSRFCookie holds the login form's CSRF token: before the login there
// is no session to keep it in, so the form and a cookie carry it both.
const loginCSRFCookie = "quire_login_csrf"

func (u *ui) loginPage(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if u.opts.NoAuth {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	u.renderLogin(w, r, http.StatusOK, "")
}

func (u *ui) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token := newToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: token, Path: "/login", HttpOnly: true,
		Secure: u.opts.Sessions.Secure, SameSite: http.SameSiteStrictMode})
	u.render(w, r, status, "login", &reqCtx{User: nil, CSRF: token}, &page{Title: "Sign in", Flash: msg,
		Data: map[string]string{"Next": safeNext(r.FormValue("next"))}})
}

// safeNext keeps a post-login redirect on this site: a path that starts
// with a single "/" and a path character, never "//evil.example",
// "/\\evil.example", "/\t/evil.example" (browsers drop tabs and newlines
// from URLs, making it "//evil.example") or a URL.
func safeNext(next string) string {
	if len(next) < 1 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && !pathChar(next[1]) {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return next
}

// pathChar reports whether c may begin a path segment: a letter, a digit,
// or one of RFC 3986's unreserved and sub-delimiter characters, or % of an
// escape; not "/", "\\", "?" or "#", nor a space or control character.
func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@%", c) >= 0
}

func (u *ui) login(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if u.opts.NoAuth {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !auth.CheckCSRF(&store.Session{CSRFToken: c.Value}, r.PostFormValue(csrfField)) {
		u.fail(w, r, http.StatusForbidden, fmt.Errorf("%w: reload the login page and try again", auth.ErrCSRF))
		return
	}
	host := edge.ClientAddr(r)
	if ok, wait := u.opts.LoginLimiter.Allow("login:" + host); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(auth.RetryAfter(wait)))
		u.renderLogin(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many attempts: try again in %d seconds.", auth.RetryAfter(wait)))
		return
	}
	user, err := auth.CheckLogin(r.Context(), u.st, r.PostFormValue("email"), r.PostFormValue("password"))
	if errors.Is(err, auth.ErrBadLogin) {
		u.log.Warn("ui: failed login", "email", auth.LogEmail(r.PostFormValue("email")), "remote", host)
		u.renderLogin(w, r, http.StatusUnauthorized, "Wrong email or password.")
		return
	}
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	if _, err := u.opts.Sessions.Login(r.Context(), w, r, user); err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/login", MaxAge: -1})
	u.log.Info("ui: login", "email", user.Email, "remote", host)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (u *ui) logout(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if u.opts.NoAuth {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := u.opts.Sessions.Logout(r.Context(), w, r); err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	http.Redirect(w, r, "/login?msg="+url.QueryEscape("Signed out."), http.StatusSeeOther)
}

func (u *ui) dashboard(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	docs, err := u.st.Stats(ctx)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	st, err := u.insp.Stats(ctx, 1)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	queues, err := u.insp.Queues(ctx)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	procs, err := u.insp.Processes(ctx)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	views, err := u.st.ListViews(ctx, &store.ListViewsParams{Owner: "user:" + c.User.Email, Dashboard: true})
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	u.render(w, r, http.StatusOK, "dashboard", c, &page{Title: "Dashboard", Nav: "dashboard", Data: map[string]any{
		"Docs": docs, "States": store.States, "Jobs": st, "Queues": queues, "Processes": procs, "Views": views,
		"Done": docs.ByState[store.StateDone], "Failed": docs.ByState[store.StateFailed],
		"InProgress": docs.Documents - docs.ByState[store.StateDone] - docs.ByState[store.StateFailed]}})
}

func (u *ui) documents(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	q := r.URL.Query()
	p := &store.ListDocumentsParams{State: store.State(q.Get("state")), MIMEType: q.Get("mime_type"),
		Query: strings.TrimSpace(q.Get("q")), Tags: tagFilter(q.Get("tag")), Cursor: q.Get("cursor"), Limit: 50}
	list, err := u.st.ListDocuments(r.Context(), p)
	if errors.Is(err, store.ErrInvalid) {
		u.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	next := ""
	if list.Next != "" {
		nq := url.Values{"cursor": {list.Next}}
		for _, k := range []string{"state", "mime_type", "q", "tag"} {
			if v := q.Get(k); v != "" {
				nq.Set(k, v)
			}
		}
		next = "/documents?" + nq.Encode()
	}
	ids := make([]string, len(list.Documents))
	for i := range list.Documents {
		ids[i] = list.Documents[i].ID
	}
	tagNames, err := u.st.DocumentTagNames(r.Context(), ids)
	if u.storeError(w, r, err) {
		return
	}
	allTags, err := u.st.ListTagNames(r.Context())
	if u.storeError(w, r, err) {
		return
	}
	thumbs, err := u.listThumbs(r, list.Documents)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	u.render(w, r, http.StatusOK, "documents", c, &page{Title: "Documents", Nav: "documents", Data: map[string]any{
		"List": list.Documents, "Thumbs": thumbs, "Next": next, "States": store.States, "State": p.State, "Query": p.Query, "MIMEType": p.MIMEType,
		"Tag": q.Get("tag"), "TagNames": tagNames, "AllTags": allTags, "CanWrite": c.can(auth.ScopeWrite)}})
}

// documentView is what a document's page shows.
type documentView struct {
	Doc             *store.Document
	Text            string
	Entities        []store.Entity // with a position, to highlight
	Keywords        []store.Entity
	EntityKinds     []string
	Classifications []store.Classification
	Labels          []store.Label
	Tags            []store.DocumentTag
	AllTags         []string // names, for suggestions
	Events          []store.Event
	Preview         string // "pdf", "image" or ""
	Thumb           thumbView
	Final           bool
}

func (u *ui) document(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	id := r.PathValue("id")
	doc, err := u.st.GetDocument(ctx, id)
	if u.storeError(w, r, err) {
		return
	}
	v := &documentView{Doc: doc, Final: doc.State == store.StateDone || doc.State == store.StateFailed}
	if v.Text, err = u.st.GetText(ctx, id); u.storeError(w, r, err) {
		return
	}
	an, err := u.st.GetAnalysis(ctx, id)
	if u.storeError(w, r, err) {
		return
	}
	for _, e := range an.Entities {
		if e.Kind == store.EntityKindKeyword {
			v.Keywords = append(v.Keywords, e)
			continue
		}
		v.Entities = append(v.Entities, e)
		if !slices.Contains(v.EntityKinds, e.Kind) {
			v.EntityKinds = append(v.EntityKinds, e.Kind)
		}
	}
	slices.SortFunc(v.Keywords, func(a, b store.Entity) int { return cmp.Compare(b.Confidence, a.Confidence) })
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		// Opened from a search: its words are marked first, so they win
		// over an entity at the same place.
		var marks []store.Entity
		for _, sp := range store.MatchSpans(v.Text, q) {
			marks = append(marks, store.Entity{Kind: queryMark, Value: q, Start: sp[0], End: sp[1]})
		}
		v.Entities = append(marks, v.Entities...)
	}
	v.Classifications = an.Classifications
	if v.Labels, err = u.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: id}); u.storeError(w, r, err) {
		return
	}
	if v.Events, err = u.st.ListEvents(ctx, id); u.storeError(w, r, err) {
		return
	}
	if v.Tags, err = u.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{DocumentID: id, Limit: store.ListLimitMax}); u.storeError(w, r, err) {
		return
	}
	if v.AllTags, err = u.st.ListTagNames(ctx); u.storeError(w, r, err) {
		return
	}
	if v.Thumb, err = u.pageThumb(r, id); u.storeError(w, r, err) {
		return
	}
	if u.opts.Blobs != nil {
		switch {
		case doc.MIMEType == "application/pdf":
			v.Preview = "pdf"
		case previewImage[doc.MIMEType]:
			v.Preview = "image"
		}
	}
	u.render(w, r, http.StatusOK, "document", c, &page{Title: doc.Name, Nav: "documents", Data: v})
}

// previewImage lists the image types every browser shows; others (TIFF)
// are a download.
var previewImage = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// original serves a document's content for its page's preview: inline for
// a PDF or an image, else as a download, always sandboxed so that a hostile
// file runs no script on Quire's origin.
func (u *ui) original(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	doc, err := u.st.GetDocument(r.Context(), r.PathValue("id"))
	if u.storeError(w, r, err) {
		return
	}
	if u.opts.Blobs == nil {
		u.fail(w, r, http.StatusNotFound, errors.New("no blob storage: the original cannot be shown"))
		return
	}
	rd, err := u.opts.Blobs.Open(r.Context(), doc.BlobKey)
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, fmt.Errorf("open the original of %s: %w", doc.ID, err))
		return
	}
	defer rd.Close()
	edge.AllowTransfer(w, r, doc.Size)
	disposition := "attachment"
	h := w.Header()
	if doc.MIMEType == "application/pdf" || previewImage[doc.MIMEType] {
		disposition = "inline"
	}
	h.Set("Content-Type", doc.MIMEType)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": doc.Name}))
	// Chromium's PDF viewer refuses a sandboxed document, so a PDF gets a
	// policy that forbids scripts and connections instead.
	if doc.MIMEType == "application/pdf" {
		h.Set("Content-Security-Policy", "default-src 'none'; object-src 'self'; frame-ancestors 'self'")
	} else {
		h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'self'")
	}
	h.Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", doc.CreatedAt, rd)
}

func (u *ui) addLabel(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := r.PathValue("id")
	label := strings.TrimSpace(r.PostFormValue("label"))
	_, err := u.st.AddLabel(r.Context(), &store.AddLabelParams{DocumentID: id, Label: label, SetBy: "user:" + c.User.Email})
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, "/documents/"+url.PathEscape(id), fmt.Sprintf("Labelled %q: the next training run learns from it.", label))
}

func (u *ui) deleteLabel(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	id := r.PathValue("id")
	label := r.PostFormValue("label")
	if u.storeError(w, r, u.st.DeleteLabel(r.Context(), id, label)) {
		return
	}
	back(w, r, "/documents/"+url.PathEscape(id), fmt.Sprintf("Removed the label %q.", label))
}

func (u *ui) reprocess(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	id := r.PathValue("id")
	_, err := u.opts.Pipeline.Reprocess(r.Context(), id)
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, "/documents/"+url.PathEscape(id), "Reprocessing.")
}

func (u *ui) deleteDocument(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	ctx := r.Context()
	id := r.PathValue("id")
	doc, err := u.st.GetDocument(ctx, id)
	if u.storeError(w, r, err) {
		return
	}
	if u.storeError(w, r, u.opts.Pipeline.DeleteDocument(ctx, id)) {
		return
	}
	back(w, r, "/documents", fmt.Sprintf("Deleted %s.", doc.Name))
}

func (u *ui) uploadPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	u.render(w, r, http.StatusOK, "upload", c, &page{Title: "Upload", Nav: "upload"})
}

// upload takes a document from the upload form when the page's script does
// not run; the script sends the file to the API instead, with progress.
func (u *ui) upload(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("the form has no file: %w", err))
		return
	}
	defer f.Close()
	doc, _, err := u.opts.Pipeline.Ingest(r.Context(), &pipeline.IngestParams{Name: hdr.Filename,
		Type: hdr.Header.Get("Content-Type"), Body: f, Source: store.SourceUpload})
	switch {
	case errors.Is(err, pipeline.ErrTooLarge):
		u.fail(w, r, http.StatusRequestEntityTooLarge, err)
		return
	case errors.Is(err, pipeline.ErrEmpty):
		u.fail(w, r, http.StatusBadRequest, err)
		return
	case err != nil:
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	back(w, r, "/documents/"+url.PathEscape(doc.ID), "Uploaded.")
}

// jobTabs are the jobs page's tabs, in order.
var jobTabs = []string{"queues", "busy", "scheduled", "retry", "dead", "batches", "limiters"}

// batchesShown is how many batches, newest first, the batches tab lists.
const batchesShown = 100

func (u *ui) jobs(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	ctx := r.Context()
	tab := cmp.Or(r.URL.Query().Get("tab"), "queues")
	if !slices.Contains(jobTabs, tab) {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("unknown tab %q: use one of %s", tab, strings.Join(jobTabs, ", ")))
		return
	}
	data := map[string]any{"Tab": tab, "Tabs": jobTabs}
	var err error
	switch tab {
	case "queues":
		data["Queues"], err = u.insp.Queues(ctx)
	case "busy":
		data["Processes"], err = u.insp.Processes(ctx)
	case "batches":
		data["Batches"], err = u.insp.Batches(ctx, 0, batchesShown)
		if errors.Is(err, jobs.ErrNotImplemented) {
			data["NoBatches"], err = true, nil
		}
	case "limiters":
		data["Limiters"], err = u.insp.Limiters(ctx)
		if errors.Is(err, jobs.ErrNotImplemented) {
			data["NoLimiters"], err = true, nil
		}
	default:
		queue := r.URL.Query().Get("queue")
		if queue != "" {
			if err := jobs.ValidateQueueName(queue); err != nil {
				u.fail(w, r, http.StatusBadRequest, err)
				return
			}
		}
		var list []*jobs.Job
		list, err = u.insp.Jobs(ctx, &jobs.ListParams{State: jobs.State(tab), Queue: queue, Limit: 200})
		if !c.can(auth.ScopeAdmin) {
			// A webhook's failure names its receiver, which only admins
			// may see.
			for _, j := range list {
				j.Error = auth.RedactJobError(j.Type, j.Error)
			}
		}
		data["Jobs"] = list
	}
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	u.render(w, r, http.StatusOK, "jobs", c, &page{Title: "Jobs", Nav: "jobs", Data: data})
}

// jobIDs are the jobs a form acts on: the row's button's, or the ticked
// boxes'.
func jobIDs(r *http.Request) []string {
	if id := r.PostFormValue("id"); id != "" {
		return []string{id}
	}
	_ = r.ParseForm()
	return r.PostForm["ids"]
}

func (u *ui) retryJobs(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	u.jobAction(w, r, "retried", u.insp.Retry)
}

func (u *ui) deleteJobs(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	u.jobAction(w, r, "deleted", u.insp.Delete)
}

func (u *ui) jobAction(w http.ResponseWriter, r *http.Request, done string, act func(ctx context.Context, state jobs.State, id string) error) {
	state := jobs.State(r.PostFormValue("state"))
	if state != "" && !state.Valid() {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("state %q is not ready, running, scheduled, retry or dead", state))
		return
	}
	ids := jobIDs(r)
	if len(ids) == 0 {
		back(w, r, "/jobs?tab="+url.QueryEscape(string(state)), "No job selected.")
		return
	}
	n, missing := 0, 0
	for _, id := range ids {
		err := act(r.Context(), state, id)
		switch {
		case errors.Is(err, jobs.ErrNotFound):
			missing++
		case err != nil:
			u.fail(w, r, http.StatusServiceUnavailable, err)
			return
		default:
			n++
		}
	}
	msg := fmt.Sprintf("%s %d job(s).", strings.ToUpper(done[:1])+done[1:], n)
	if missing > 0 {
		msg += fmt.Sprintf(" %d were gone already.", missing)
	}
	back(w, r, "/jobs?tab="+url.QueryEscape(string(state)), msg)
}

func (u *ui) pauseQueue(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name := r.PathValue("name")
	if err := jobs.ValidateQueueName(name); err != nil {
		u.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if err := u.insp.PauseQueue(r.Context(), name); err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	back(w, r, "/jobs?tab=queues", fmt.Sprintf("Paused %s.", name))
}

func (u *ui) resumeQueue(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name := r.PathValue("name")
	if err := jobs.ValidateQueueName(name); err != nil {
		u.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if err := u.insp.ResumeQueue(r.Context(), name); err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	back(w, r, "/jobs?tab=queues", fmt.Sprintf("Resumed %s.", name))
}

// modelView is a model version with its metrics decoded.
type modelView struct {
	store.ModelVersion
	modelMetrics
	HasEval bool
}

// modelMetrics are the figures the model registry keeps in a version's
// metrics (mlpipeline.Publish), and its confusion matrix when it has one.
type modelMetrics struct {
	Algorithm string  `json:"algorithm"`
	Examples  int     `json:"examples"`
	HeldOut   int     `json:"held_out"`
	Accuracy  float64 `json:"accuracy"`
	MacroF1   float64 `json:"macro_f1"`
	// MicroF1 is a multi-label model's (the tag classifier's) figure in
	// place of accuracy, which a document with several labels does not
	// have.
	MicroF1 float64 `json:"micro_f1"`
	// Labels are the rows and columns of Confusion, which counts documents
	// by true label (row) and predicted label (column).
	Labels    []string `json:"labels"`
	Confusion [][]int  `json:"confusion"`
}

func (u *ui) models(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	list, err := u.st.ListModelVersions(r.Context(), &store.ListModelVersionsParams{})
	if err != nil {
		u.fail(w, r, http.StatusServiceUnavailable, err)
		return
	}
	views := make([]modelView, len(list))
	for i, m := range list {
		views[i].ModelVersion = m
		if len(m.Metrics) > 0 && json.Unmarshal(m.Metrics, &views[i].modelMetrics) == nil {
			views[i].HasEval = views[i].Examples > 0 || views[i].Accuracy > 0 || views[i].MicroF1 > 0
			if len(views[i].Confusion) != len(views[i].Labels) {
				views[i].Confusion = nil // not a matrix of these labels
			}
		}
	}
	u.render(w, r, http.StatusOK, "models", c, &page{Title: "Models", Nav: "models", Data: map[string]any{"Models": views}})
}

func (u *ui) activateModel(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	m, err := u.st.ActivateModelVersion(r.Context(), r.PathValue("id"))
	if u.storeError(w, r, err) {
		return
	}
	back(w, r, "/models", fmt.Sprintf("%s %s version %s is active.", m.Kind, m.Name, m.Version))
}

// storeError answers for a store error and reports whether there was one.
func (u *ui) storeError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		u.fail(w, r, http.StatusNotFound, err)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrIllegalTransition):
		u.fail(w, r, http.StatusBadRequest, err)
	case errors.Is(err, store.ErrStateConflict), errors.Is(err, store.ErrExists):
		u.fail(w, r, http.StatusConflict, err)
	default:
		u.fail(w, r, http.StatusServiceUnavailable, err)
	}
	return true
}

func newToken() string { return rand.Text() + rand.Text() }
