package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v
}

// fill replaces a pattern's wildcards with value.
func fill(path, value string) string {
	return pathParams.ReplaceAllString(path, value)
}

// TestRouteScopes checks every route of the table: the mux serves it, it
// refuses a request without a token (401) and with a token of a lower scope
// (403), and it accepts its own scope and every higher one.
func TestRouteScopes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rts := routes()
	require.NotEmpty(t, rts)
	seen := map[string]bool{}
	for _, rt := range rts {
		require.False(t, seen[rt.pattern()], "route %s declared twice", rt.pattern())
		seen[rt.pattern()] = true
		require.True(t, rt.Scope.Valid(), "route %s has no valid scope", rt.pattern())
		path := fill(rt.Path, "missing")
		req := httptest.NewRequest(rt.Method, path, nil)
		_, pattern := b.api.mux.Handler(req)
		require.Equal(t, rt.pattern(), pattern, "the mux serves %s %s", rt.Method, path)

		t.Run(rt.pattern(), func(t *testing.T) {
			t.Parallel()
			// Bodies are empty: a route that accepts the scope fails on
			// the body or the missing id, never with 401 or 403.
			resp, body := b.do(t, "", rt.Method, path, "application/json", nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
			requireProblem(t, resp, body, http.StatusUnauthorized, path)
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			for _, s := range auth.Scopes {
				resp, body := b.do(t, s, rt.Method, path, "application/json", nil)
				if s.Allows(rt.Scope) {
					require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.StatusCode,
						"scope %s: %s", s, body)
					continue
				}
				require.Equal(t, http.StatusForbidden, resp.StatusCode, "scope %s: %s", s, body)
				requireProblem(t, resp, body, http.StatusForbidden, path)
			}
		})
	}
	// A token that was never issued, or a mangled one, is refused too.
	resp, _ := b.do(t, "", "GET", "/api/v1/documents", "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/documents", nil)
	req.Header.Set("Authorization", "Bearer "+b.token[auth.ScopeAdmin]+"x")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestOpenAPI checks that the OpenAPI document describes exactly the routes
// the mux serves.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// The description is public.
	resp, body := b.do(t, "", "GET", OpenAPIPath, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	var inDoc []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			m := strings.ToUpper(method)
			inDoc = append(inDoc, m+" "+path)
			// Every path in the document is served by that very pattern.
			_, pattern := b.api.mux.Handler(httptest.NewRequest(m, fill(path, "x"), nil))
			require.Equal(t, m+" "+path, pattern)
			sec := op["security"].([]any)[0].(map[string]any)["bearer"].([]any)
			require.Len(t, sec, 1, path)
			require.True(t, auth.Scope(sec[0].(string)).Valid())
		}
	}
	var inTable []string
	for _, rt := range routes() {
		inTable = append(inTable, rt.pattern())
	}
	slices.Sort(inDoc)
	slices.Sort(inTable)
	require.Equal(t, inTable, inDoc)

	// Every schema referenced is defined.
	for _, ref := range refs.FindAllStringSubmatch(body, -1) {
		require.Contains(t, doc.Comps.Schemas, ref[1])
	}
	require.Contains(t, doc.Comps.Schemas, "Document")
	require.Contains(t, doc.Comps.Schemas, "Problem")
}

var refs = regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`)

func requireProblem(t *testing.T, resp *http.Response, body string, status int, path string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, body)
	require.Equal(t, ProblemMediaType, resp.Header.Get("Content-Type"))
	p := decode[Problem](t, body)
	require.Equal(t, Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: p.Detail,
		Instance: path, Error: p.Detail}, p)
	require.NotEmpty(t, p.Detail)
}

func TestProblems(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	doc := b.upload(t, "note.txt", "A note about problems.")
	// A document being extracted (moved there by hand, so that no job
	// moves it on) cannot be reprocessed: 409.
	waiting, _, err := b.store.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: strings.Repeat("ab", 32), Name: "w.txt",
		Source: store.SourceSubmit, BlobKey: "nothing"})
	require.NoError(t, err)
	_, err = b.store.SetState(ctx, &store.SetStateParams{ID: waiting.ID, From: []store.State{store.StateReceived}, To: store.StateExtracting})
	require.NoError(t, err)
	big := strings.Repeat("x", maxBytesTest+1)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file", "big.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(big))
	require.NoError(t, mw.Close())
	// A part before the document's is read no further than the document
	// limit and the form's overhead either.
	var junkFirst bytes.Buffer
	jw := multipart.NewWriter(&junkFirst)
	require.NoError(t, jw.WriteField("junk", strings.Repeat("j", maxBytesTest+uploadOverhead)))
	fw, err = jw.CreateFormFile("file", "small.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("small"))
	require.NoError(t, jw.Close())
	var noFile bytes.Buffer
	nw := multipart.NewWriter(&noFile)
	require.NoError(t, nw.WriteField("other", "x"))
	require.NoError(t, nw.Close())

	tests := []struct {
		name, method, path string
		scope              auth.Scope
		ctype, body        string
		down               bool
		status             int
	}{
		{name: "limit not a number", method: "GET", path: "/api/v1/documents?limit=ten", status: 400},
		{name: "limit zero", method: "GET", path: "/api/v1/documents?limit=0", status: 400},
		{name: "limit too high", method: "GET", path: "/api/v1/documents?limit=1001", status: 400},
		{name: "unknown state", method: "GET", path: "/api/v1/documents?state=lost", status: 400},
		{name: "empty upload", method: "POST", path: "/api/v1/documents", scope: auth.ScopeWrite, status: 400},
		{name: "multipart without file", method: "POST", path: "/api/v1/documents", scope: auth.ScopeWrite,
			ctype: nw.FormDataContentType(), body: noFile.String(), status: 400},
		{name: "label not JSON", method: "POST", path: "/api/v1/documents/" + doc.ID + "/labels", scope: auth.ScopeWrite, body: "{", status: 400},
		{name: "label empty", method: "POST", path: "/api/v1/documents/" + doc.ID + "/labels", scope: auth.ScopeWrite, body: `{"label":" "}`, status: 400},
		{name: "label unknown field", method: "POST", path: "/api/v1/documents/" + doc.ID + "/labels", scope: auth.ScopeWrite, body: `{"lable":"x"}`, status: 400},
		{name: "webhook bad URL", method: "POST", path: "/api/v1/webhooks", scope: auth.ScopeAdmin, body: `{"url":"ftp://x"}`, status: 400},
		{name: "token bad scope", method: "POST", path: "/api/v1/tokens", scope: auth.ScopeAdmin, body: `{"name":"x","scope":"root"}`, status: 400},
		{name: "jobs without state", method: "GET", path: "/api/v1/jobs", status: 400},
		{name: "no token", method: "GET", path: "/api/v1/documents", scope: "-", status: 401},
		{name: "read token uploads", method: "POST", path: "/api/v1/documents", scope: auth.ScopeRead, status: 403},
		{name: "write token lists webhooks", method: "GET", path: "/api/v1/webhooks", scope: auth.ScopeWrite, status: 403},
		{name: "unknown document", method: "GET", path: "/api/v1/documents/nope", status: 404},
		{name: "unknown document's text", method: "GET", path: "/api/v1/documents/nope/text", status: 404},
		{name: "unknown document's original", method: "GET", path: "/api/v1/documents/nope/original", status: 404},
		{name: "unknown route", method: "GET", path: "/api/v1/nothing", status: 404},
		{name: "unknown webhook", method: "GET", path: "/api/v1/webhooks/nope", scope: auth.ScopeAdmin, status: 404},
		{name: "unknown token", method: "DELETE", path: "/api/v1/tokens/nope", scope: auth.ScopeAdmin, status: 404},
		{name: "unknown job", method: "POST", path: "/api/v1/jobs/nope/retry", scope: auth.ScopeAdmin, status: 404},
		{name: "method not allowed", method: "PUT", path: "/api/v1/documents", status: 405},
		{name: "reprocess while waiting", method: "POST", path: "/api/v1/documents/" + waiting.ID + "/reprocess", scope: auth.ScopeWrite, status: 409},
		{name: "upload too large", method: "POST", path: "/api/v1/documents?name=big.txt", scope: auth.ScopeWrite, body: big, status: 413},
		{name: "multipart upload too large", method: "POST", path: "/api/v1/documents", scope: auth.ScopeWrite,
			ctype: mw.FormDataContentType(), body: mp.String(), status: 413},
		{name: "multipart upload with a huge part first", method: "POST", path: "/api/v1/documents", scope: auth.ScopeWrite,
			ctype: jw.FormDataContentType(), body: junkFirst.String(), status: 413},
		{name: "label body too large", method: "POST", path: "/api/v1/documents/" + doc.ID + "/labels", scope: auth.ScopeWrite,
			body: `{"label":"` + strings.Repeat("x", maxJSONBody) + `"}`, status: 413},
		{name: "store down: get", method: "GET", path: "/api/v1/documents/" + doc.ID, down: true, status: 503},
		{name: "store down: list", method: "GET", path: "/api/v1/documents", down: true, status: 503},
		{name: "store down: stats", method: "GET", path: "/api/v1/stats", down: true, status: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: some cases take the store down.
			scope := tt.scope
			switch scope {
			case "":
				scope = auth.ScopeRead
			case "-":
				scope = ""
			}
			b.store.down.Store(tt.down)
			defer b.store.down.Store(false)
			resp, body := b.do(t, scope, tt.method, tt.path, tt.ctype, strings.NewReader(tt.body))
			u, err := url.Parse(tt.path)
			require.NoError(t, err)
			requireProblem(t, resp, body, tt.status, u.Path)
			if tt.status == 503 {
				require.NotContains(t, body, errDown.Error(), "the cause stays in the log")
			}
			if tt.status == 405 {
				require.Contains(t, resp.Header.Get("Allow"), "GET")
			}
		})
	}
}

func TestNewServesOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(New(b.p, b.store, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/api/v1/stats")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	_, err = NewWithOptions(b.p, b.store, &Options{})
	require.ErrorContains(t, err, "Tokens is required")
	_, err = NewWithOptions(b.p, b.store, &Options{Tokens: b.tokens, NoAuth: true})
	require.Error(t, err)
	_, err = NewWithOptions(b.p, nil, &Options{NoAuth: true})
	require.ErrorContains(t, err, "a store is required")
}

// TestPatternVisibleOutside checks that a middleware around the API sees the
// route's pattern on its request after serving it, as the server's metrics
// read it.
func TestPatternVisibleOutside(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.api.ServeHTTP(w, r)
		seen = r.Pattern
	})
	req := httptest.NewRequest("GET", "/api/v1/documents/x", nil)
	req.Header.Set("Authorization", "Bearer "+b.token[auth.ScopeRead])
	h.ServeHTTP(httptest.NewRecorder(), req)
	require.Equal(t, "GET /api/v1/documents/{id}", seen)
}
