package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/quirehq/quire/internal/bytesize"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/edge"
)

// route is one route of the UI.
type route struct {
	Method, Path string
	// Scope is what the user needs; "" marks the login page, open to all.
	Scope  auth.Scope
	handle func(u *ui, w http.ResponseWriter, r *http.Request, c *reqCtx)
}

// routes is every route of the UI; a test walks it to check that each one
// refuses strangers and users of too low a scope.
func routes() []route {
	return []route{
		{"GET", "/login", "", (*ui).loginPage},
		{"POST", "/login", "", (*ui).login},
		{"POST", "/logout", auth.ScopeRead, (*ui).logout},

		{"GET", "/{$}", auth.ScopeRead, (*ui).dashboard},
		{"GET", "/documents", auth.ScopeRead, (*ui).documents},
		{"GET", "/search", auth.ScopeRead, (*ui).search},
		{"GET", "/documents/{id}", auth.ScopeRead, (*ui).document},
		{"GET", "/documents/{id}/original", auth.ScopeRead, (*ui).original},
		{"GET", "/documents/{id}/thumbnail", auth.ScopeRead, (*ui).thumbnail},
		{"POST", "/documents/{id}/labels", auth.ScopeWrite, (*ui).addLabel},
		{"POST", "/documents/{id}/labels/delete", auth.ScopeWrite, (*ui).deleteLabel},
		{"POST", "/documents/{id}/reprocess", auth.ScopeWrite, (*ui).reprocess},
		{"POST", "/documents/{id}/tags", auth.ScopeWrite, (*ui).addDocumentTag},
		{"POST", "/documents/{id}/tags/delete", auth.ScopeWrite, (*ui).deleteDocumentTag},
		{"GET", "/tags", auth.ScopeRead, (*ui).tagsPage},
		{"POST", "/tags", auth.ScopeWrite, (*ui).createTag},
		{"POST", "/tags/{name}", auth.ScopeWrite, (*ui).updateTag},
		{"POST", "/tags/{name}/delete", auth.ScopeWrite, (*ui).deleteTag},
		{"POST", "/views", auth.ScopeRead, (*ui).saveView},
		{"POST", "/views/{id}/delete", auth.ScopeRead, (*ui).deleteView},
		{"POST", "/documents/{id}/delete", auth.ScopeWrite, (*ui).deleteDocument},
		{"GET", "/upload", auth.ScopeWrite, (*ui).uploadPage},
		{"POST", "/upload", auth.ScopeWrite, (*ui).upload},
		{"GET", "/jobs", auth.ScopeRead, (*ui).jobs},
		{"POST", "/jobs/retry", auth.ScopeAdmin, (*ui).retryJobs},
		{"POST", "/jobs/delete", auth.ScopeAdmin, (*ui).deleteJobs},
		{"POST", "/queues/{name}/pause", auth.ScopeAdmin, (*ui).pauseQueue},
		{"POST", "/queues/{name}/resume", auth.ScopeAdmin, (*ui).resumeQueue},
		{"GET", "/models", auth.ScopeRead, (*ui).models},
		{"POST", "/models/{id}/activate", auth.ScopeAdmin, (*ui).activateModel},
	}
}

// reqCtx is what a handler knows of the request's user.
type reqCtx struct {
	// User is the signed-in user; with NoAuth, a stand-in admin.
	User *store.User
	// CSRF is the token every form of the page carries.
	CSRF string
}

func (c *reqCtx) can(s auth.Scope) bool { return auth.Scope(c.User.Scope).Allows(s) }

// formOverhead is what a form may hold besides its document; formMemory is
// how much of a multipart form is held in memory, the rest spooled to disk.
// smallFormMax bounds every other form (sign-in, labels, job actions): all
// of it is read in memory, so an unauthenticated request never reaches the
// disk and is read no further than this.
const (
	formOverhead = 1 << 20
	formMemory   = 8 << 20
	smallFormMax = 16 << 10
)

// isUpload reports whether a route takes a document in its body.
func (rt route) isUpload() bool { return rt.Method == http.MethodPost && rt.Path == "/upload" }

// bodyLimit is the most of a request's body a route reads.
func (u *ui) bodyLimit(rt route) int64 {
	if rt.isUpload() {
		return u.opts.Pipeline.MaxBytes() + formOverhead
	}
	return smallFormMax
}

// csrfField is the form field, and the header of scripts' requests, that
// carries the CSRF token.
const csrfField = "csrf"

// guard runs a route behind its checks: a session of enough scope, and on a
// POST the session's CSRF token.
func (u *ui) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every body is bounded before anything reads it, whoever sends
		// it and wherever its CSRF token is.
		r.Body = http.MaxBytesReader(w, r.Body, u.bodyLimit(rt))
		if err := checkInput(r); err != nil {
			u.fail(w, r, http.StatusBadRequest, err)
			return
		}
		if rt.Scope == "" {
			if r.Method == http.MethodPost && !u.parseForm(w, r, rt) {
				return
			}
			rt.handle(u, w, r, nil)
			return
		}
		c, err := u.current(r)
		if errors.Is(err, auth.ErrNoSession) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, http.StatusForbidden, errors.New("not signed in, or the session ended: sign in again"))
			return
		}
		if err != nil {
			u.fail(w, r, http.StatusServiceUnavailable, err)
			return
		}
		if !c.can(rt.Scope) {
			u.fail(w, r, http.StatusForbidden, &auth.ScopeError{Have: auth.Scope(c.User.Scope), Need: rt.Scope})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// A multipart upload carries its token in the header: parsing
			// the body first would read the whole file for a forged form.
			token := r.Header.Get(auth.CSRFHeader)
			if rt.isUpload() {
				// A user's upload may take the time a large document
				// needs on a slow link.
				edge.AllowTransfer(w, r, u.bodyLimit(rt))
			}
			if token == "" {
				// A form's token is in its body, which must be parsed
				// first: never more of it than bodyLimit, so a huge post
				// fills neither memory nor disk.
				if !u.parseForm(w, r, rt) {
					return
				}
				token = r.PostFormValue(csrfField)
			}
			if !auth.CheckCSRF(&store.Session{CSRFToken: c.CSRF}, token) {
				u.fail(w, r, http.StatusForbidden, auth.ErrCSRF)
				return
			}
			// A form whose token came in the header is read now, within
			// the same bounds, so that its values are checked too.
			if r.PostForm == nil && !u.parseForm(w, r, rt) {
				return
			}
		}
		rt.handle(u, w, r, c)
	})
}

// parseForm reads a POST's form within the route's body limit, held in
// memory but for an upload's document, and checks its values; it answers
// the request itself and returns false when the form is too large,
// unreadable or holds what no store can.
func (u *ui) parseForm(w http.ResponseWriter, r *http.Request, rt route) bool {
	memory := int64(formMemory)
	if !rt.isUpload() {
		memory = smallFormMax
	}
	err := r.ParseMultipartForm(memory)
	if err == nil || errors.Is(err, http.ErrNotMultipart) {
		if err := checkInput(r); err != nil {
			u.fail(w, r, http.StatusBadRequest, err)
			return false
		}
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		what := "the largest document taken"
		if !rt.isUpload() {
			what = "what this form can hold"
		}
		u.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("the form is larger than %s (%s)", what, bytesize.Format(u.bodyLimit(rt))))
		return false
	}
	u.fail(w, r, http.StatusBadRequest, fmt.Errorf("read the form: %w", err))
	return false
}

// current returns the request's user: its session's, or the stand-in admin
// without authentication.
func (u *ui) current(r *http.Request) (*reqCtx, error) {
	if u.opts.NoAuth {
		return &reqCtx{User: &store.User{ID: "demo", Email: "demo", Scope: string(auth.ScopeAdmin)}, CSRF: u.demoCSRF}, nil
	}
	cur, err := u.opts.Sessions.Get(r)
	if err != nil {
		return nil, err
	}
	return &reqCtx{User: cur.User, CSRF: cur.Session.CSRFToken}, nil
}

// RouteInfo describes a route of the UI for those who check it from
// outside.
type RouteInfo struct {
	Method, Path string
	// Scope is what the user needs; "" for the login page, open to all.
	Scope auth.Scope
}

// Routes lists every route of the UI but its static files.
func Routes() []RouteInfo {
	rs := routes()
	out := make([]RouteInfo, len(rs))
	for i, rt := range rs {
		out[i] = RouteInfo{Method: rt.Method, Path: rt.Path, Scope: rt.Scope}
	}
	return out
}
