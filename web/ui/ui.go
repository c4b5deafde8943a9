// Package ui is Quire's web UI: server-rendered pages over the same store,
// pipeline and job inspector the REST API uses, with a little hand-written
// JavaScript for live updates and uploads. Everything it needs is embedded
// in the binary; a page fetches nothing from elsewhere.
//
// Every route is declared once, in routes.go, with the scope it needs: a page
// without a session redirects to the login page, a form without the
// session's CSRF token is refused with 403, and the security headers of
// headers.go go on every answer, the API's included.
package ui

import (
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// uiStore is the store's roles the pages show and change: documents with
// their text, analyses, events and labels, the model versions, and the
// users who sign in. Any store.Store will do.
type uiStore interface {
	store.Documents
	store.Texts
	store.Analyses
	store.Events
	store.Labels
	store.ModelVersions
	store.Tags
	store.Users
	store.Views
	store.Previews
}

// Options configure New.
type Options struct {
	// Pipeline is the document pipeline. Required.
	Pipeline *pipeline.Pipeline
	// Store is the pipeline's store: it holds the documents and the users.
	// Required.
	Store uiStore
	// Blobs holds the documents' content, for previews. Without it the
	// document page shows no preview.
	Blobs *blob.Store
	// Jobs is the job engine's driver, for the dashboard and the jobs
	// page. Required.
	Jobs jobs.Driver
	// API serves /api/: the REST API, which the pages' scripts call.
	// Required.
	API http.Handler
	// Sessions keeps users' sessions. Required unless NoAuth.
	Sessions *auth.Sessions
	// NoAuth serves every page to anyone, as an admin. Only for a server on
	// the loopback interface (`quire up --demo`); the pages say so.
	NoAuth bool
	// Banner, when set, is shown atop every page.
	Banner string
	// LoginLimiter limits login attempts per client address. Nil allows
	// every attempt.
	LoginLimiter *auth.Limiter
	// HSTS sends Strict-Transport-Security: set it when users reach Quire
	// over HTTPS only. Requests that came over TLS get it anyway.
	HSTS bool
	// Logger logs failed requests. Defaults to slog.Default().
	Logger *slog.Logger
}

func (o *Options) validate() error {
	var errs []error
	if o.Pipeline == nil {
		errs = append(errs, errors.New("Options.Pipeline is required"))
	}
	if o.Store == nil {
		errs = append(errs, errors.New("Options.Store is required"))
	}
	if o.Jobs == nil {
		errs = append(errs, errors.New("Options.Jobs is required"))
	}
	if o.API == nil {
		errs = append(errs, errors.New("Options.API is required"))
	}
	if o.Sessions == nil && !o.NoAuth {
		errs = append(errs, errors.New("Options.Sessions is required: give a session store, or set NoAuth to serve without login"))
	}
	if o.Sessions != nil && o.NoAuth {
		errs = append(errs, errors.New("Options.Sessions and NoAuth are exclusive"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ui: %w", err)
	}
	return nil
}

type ui struct {
	opts  Options
	st    uiStore
	insp  *jobs.Inspector
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
	// demoCSRF is the CSRF token of every form when there are no
	// sessions (NoAuth): cross-site forms still cannot guess it.
	demoCSRF string
}

// New returns the handler of the whole web server: the UI's pages, its
// static files and, under /api/, opts.API, all with the security headers.
func New(opts *Options) (http.Handler, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	u := &ui{opts: *opts, st: opts.Store, insp: jobs.NewInspector(opts.Jobs, nil),
		log: opts.Logger, demoCSRF: rand.Text()}
	if u.log == nil {
		u.log = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	u.pages = pages
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	u.mux = http.NewServeMux()
	for _, rt := range routes() {
		u.mux.Handle(rt.Method+" "+rt.Path, u.guard(rt))
	}
	u.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	u.mux.Handle("/api/", opts.API)
	// Go's cross-origin protection refuses, by Sec-Fetch-Site and Origin,
	// any unsafe request a browser sends from another site; the CSRF tokens
	// of the forms are the second lock, for browsers that send neither
	// header.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusForbidden, errors.New("cross-origin request refused"))
	}))
	return headers(opts.HSTS, u.recoverer(cop.Handler(u.mux))), nil
}

// recoverer answers 500 for a handler that panicked, and logs the panic
// with its stack, instead of dropping the connection.
func (u *ui) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				u.log.Error("ui: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded assets; they change with the binary,
// so a browser may keep them for an hour.
func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}
