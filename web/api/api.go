// Package api is Quire's REST API over the document pipeline: upload a
// document, read what became of it, reprocess it, and manage webhooks, API
// tokens and the job engine. The web UI and `quire submit` speak to Quire
// through it; other applications may too.
//
// Every route is declared once, in routes.go, with the scope a token needs
// for it; the mux, the authentication and the OpenAPI document served at
// /api/openapi.json are all made from that table. Every error answer is an
// application/problem+json document (RFC 9457).
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// apiStore is the store's roles the API serves: documents with their text,
// analyses, events and labels, the model versions and the webhooks. Any
// store.Store will do. API tokens and sessions reach it through
// Options.Tokens and Options.Sessions.
type apiStore interface {
	store.Documents
	store.Texts
	store.Analyses
	store.Events
	store.Labels
	store.ModelVersions
	store.Tags
	store.Views
	store.Webhooks
	store.Previews
}

// New returns the API's handler over pipeline p and its store st, serving
// paths under /api/v1/ and /api/openapi.json, WITHOUT authentication: every
// route is open. It is for a `quire up` on localhost and for tests; a
// server others can reach uses NewWithOptions with a token store.
func New(p *pipeline.Pipeline, st apiStore, log *slog.Logger) http.Handler {
	h, err := NewWithOptions(p, st, &Options{Logger: log, NoAuth: true})
	if err != nil {
		panic(err) // Options above are always valid
	}
	return h
}

// Options configure NewWithOptions.
type Options struct {
	// Tokens holds the API tokens that authenticate requests. Required
	// unless NoAuth.
	Tokens auth.TokenStore
	// NoAuth serves every route without authentication. Only for a
	// server on localhost, such as `quire up --demo`.
	NoAuth bool
	// Blobs holds the documents' content, for downloads of the original.
	// Without it, downloads answer 503.
	Blobs *blob.Store
	// Jobs is the job engine's driver, for the jobs and queues routes.
	// Without it, they answer 503.
	Jobs jobs.Driver
	// Sessions, when set, also accepts the web UI's session cookie in place
	// of a token, with the session's CSRF token in the X-CSRF-Token header
	// of every request that changes something: the UI's scripts call the
	// API this way.
	Sessions *auth.Sessions
	// Limiter limits each token's (or session's) requests. Nil allows
	// every request.
	Limiter *auth.Limiter
	// Logger logs failed requests. Defaults to slog.Default().
	Logger *slog.Logger
}

func (o *Options) validate() error {
	if o.Tokens == nil && !o.NoAuth {
		return errors.New("api: Options.Tokens is required: give a token store, or set NoAuth to serve without authentication")
	}
	if o.Tokens != nil && o.NoAuth {
		return errors.New("api: Options.Tokens and NoAuth are exclusive")
	}
	return nil
}

// NewWithOptions returns the API's handler over pipeline p and its store
// st, serving paths under /api/v1/ and /api/openapi.json.
func NewWithOptions(p *pipeline.Pipeline, st apiStore, opts *Options) (http.Handler, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("api: a pipeline is required")
	}
	if st == nil {
		return nil, errors.New("api: a store is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &api{p: p, st: st, log: log, blobs: opts.Blobs, tokens: opts.Tokens}
	if opts.Jobs != nil {
		a.inspector = jobs.NewInspector(opts.Jobs, nil)
	}
	var authn *auth.Authenticator
	if !opts.NoAuth {
		authn = &auth.Authenticator{Tokens: opts.Tokens, Sessions: opts.Sessions, Limiter: opts.Limiter, Logger: log,
			ErrorFunc: func(w http.ResponseWriter, r *http.Request, status int, err error) {
				writeProblem(log, w, r, status, err)
			}}
	}
	spec, err := json.Marshal(openAPI(routes()))
	if err != nil {
		return nil, fmt.Errorf("api: build the OpenAPI document: %w", err)
	}
	a.mux = http.NewServeMux()
	for _, rt := range routes() {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) })
		if authn != nil {
			h = authn.Require(rt.Scope, h)
		}
		a.mux.Handle(rt.pattern(), h)
	}
	// The description of the API is public: it holds no data.
	a.mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	})
	return a, nil
}

// OpenAPIPath is where the OpenAPI document is served.
const OpenAPIPath = "/api/openapi.json"

type api struct {
	p         *pipeline.Pipeline
	st        apiStore
	log       *slog.Logger
	blobs     *blob.Store     // nil: downloads unavailable
	inspector *jobs.Inspector // nil: jobs routes unavailable
	tokens    auth.TokenStore // nil: no authentication
	mux       *http.ServeMux
}

// ServeHTTP serves the mux, turning its own answers for unknown routes and
// methods into problems.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkURL(r); err != nil {
		writeProblem(a.log, w, r, http.StatusBadRequest, err)
		return
	}
	if h, pattern := a.mux.Handler(r); pattern == "" {
		cw := &captureWriter{header: http.Header{}}
		h.ServeHTTP(cw, r)
		if cw.code >= 400 {
			if allow := cw.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			err := errUnmatched[cw.code]
			if err == nil {
				err = errors.New(http.StatusText(cw.code))
			}
			writeProblem(a.log, w, r, cw.code, err)
			return
		}
	}
	// The mux sets r.Pattern on r itself, where the metrics read it.
	a.mux.ServeHTTP(w, r)
}

// storeError answers for a store error and reports whether there was one.
func (a *api) storeError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound), errors.Is(err, auth.ErrNotFound):
		a.problem(w, r, http.StatusNotFound, err)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, auth.ErrInvalid):
		a.problem(w, r, http.StatusBadRequest, err)
	case errors.Is(err, store.ErrStateConflict), errors.Is(err, store.ErrExists):
		a.problem(w, r, http.StatusConflict, err)
	default:
		a.problem(w, r, http.StatusServiceUnavailable, err)
	}
	return true
}

func (a *api) problem(w http.ResponseWriter, r *http.Request, status int, err error) {
	writeProblem(a.log, w, r, status, err)
}

// maxJSONBody bounds a JSON request body: labels, webhooks and tokens are
// small.
const maxJSONBody = 1 << 20

// decode reads a JSON request body into v, answering 400 or 413 when it
// cannot; it reports whether it succeeded.
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.problem(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("the request body is over %d bytes", maxJSONBody))
			return false
		}
		a.problem(w, r, http.StatusBadRequest, fmt.Errorf("read the JSON body: %w", err))
		return false
	}
	if err := checkStrings(v); err != nil {
		a.problem(w, r, http.StatusBadRequest, err)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// setBy names who acts, for labels: the token's name, the signed-in user's
// email, or "api" when the API runs without authentication.
func setBy(r *http.Request) string {
	if t := auth.FromContext(r.Context()); t != nil {
		if t.User {
			return "user:" + t.Name
		}
		return "token:" + t.Name
	}
	return "api"
}
