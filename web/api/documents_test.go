package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

func TestDocumentLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const content = "Quire reads this note about the harvest in Lisbon.\n"
	// A multipart upload, with a name that tries to escape a header.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", `../evil"name;.txt`)
	require.NoError(t, err)
	_, _ = fw.Write([]byte(content))
	require.NoError(t, mw.Close())
	resp, out := b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents", mw.FormDataContentType(), &body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	doc := decode[Document](t, out)
	require.Equal(t, "/api/v1/documents/"+doc.ID, resp.Header.Get("Location"))
	require.False(t, doc.Duplicate)

	// The same content again is the same document.
	resp, out = b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents?name=again.txt", "text/plain", strings.NewReader(content))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, doc.ID, decode[Document](t, out).ID)
	require.True(t, decode[Document](t, out).Duplicate)

	b.waitState(t, doc.ID, store.StateDone)
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got := decode[Document](t, out)
	require.Equal(t, "done", got.State)
	require.Positive(t, got.WordCount)

	// The original, as uploaded, as an attachment with a safe name.
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/original", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, content, out)
	require.Equal(t, got.MIMEType, resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	require.NoError(t, err)
	require.Equal(t, "attachment", disp)
	require.NotContains(t, params["filename"], `"`)
	require.NotContains(t, params["filename"], "/")
	require.NotContains(t, params["filename"], ";")

	// A range past the end is a problem too.
	req, err := http.NewRequest("GET", b.srv.URL+"/api/v1/documents/"+doc.ID+"/original", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.token[auth.ScopeRead])
	req.Header.Set("Range", "bytes=9999-")
	rresp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	rbody, err := io.ReadAll(rresp.Body)
	rresp.Body.Close()
	require.NoError(t, err)
	requireProblem(t, rresp, string(rbody), http.StatusRequestedRangeNotSatisfiable, "/api/v1/documents/"+doc.ID+"/original")
	req.Header.Set("Range", "bytes=0-4")
	rresp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	rbody, err = io.ReadAll(rresp.Body)
	rresp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, rresp.StatusCode)
	require.Equal(t, content[:5], string(rbody))

	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/text", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, out, "harvest in Lisbon")

	// What the analysis found, and the audit trail.
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/results", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	res := decode[Results](t, out)
	an, err := b.store.GetAnalysis(context.Background(), doc.ID)
	require.NoError(t, err)
	require.Equal(t, doc.ID, res.DocumentID)
	require.Len(t, res.Entities, len(an.Entities))
	require.Len(t, res.Classifications, len(an.Classifications))
	require.NotEmpty(t, res.Classifications, "the basic analyzer classifies every document")
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/events", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	evs := decode[EventList](t, out).Events
	require.NotEmpty(t, evs)
	require.Equal(t, "ingest", evs[0].Stage)

	// Labels: added once, listed, removed.
	for range 2 {
		resp, out = b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents/"+doc.ID+"/labels", "application/json", strings.NewReader(`{"label":"invoice"}`))
		require.Equal(t, http.StatusCreated, resp.StatusCode, out)
		require.Equal(t, "token:write test", decode[Label](t, out).SetBy)
	}
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/labels", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ls := decode[LabelList](t, out).Labels
	require.Len(t, ls, 1)
	require.Equal(t, "invoice", ls[0].Label)
	resp, _ = b.do(t, auth.ScopeWrite, "DELETE", "/api/v1/documents/"+doc.ID+"/labels/invoice", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+"/labels", "", nil)
	require.Empty(t, decode[LabelList](t, out).Labels)
	resp, out = b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents/nope/labels", "application/json", strings.NewReader(`{"label":"x"}`))
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/documents/nope/labels")

	// Reprocess runs it again, to done.
	resp, out = b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents/"+doc.ID+"/reprocess", "", nil)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, out)
	b.waitState(t, doc.ID, store.StateDone)

	// Stats count it; delete removes it.
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/stats", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	st := decode[Stats](t, out)
	require.Equal(t, int64(1), st.Documents)
	require.Equal(t, int64(1), st.ByState["done"])
	resp, _ = b.do(t, auth.ScopeWrite, "DELETE", "/api/v1/documents/"+doc.ID, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	for _, sub := range []string{"", "/text", "/original", "/results", "/events", "/labels"} {
		resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+doc.ID+sub, "", nil)
		requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/documents/"+doc.ID+sub)
	}
	resp, out = b.do(t, auth.ScopeWrite, "DELETE", "/api/v1/documents/"+doc.ID, "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/documents/"+doc.ID)
}

func TestListPagesAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ids := map[string]bool{}
	for i, text := range []string{"apples and pears", "pears only", "plums", "more apples", "grapes"} {
		d := b.upload(t, []string{"a.txt", "b.txt", "c.txt", "d.txt", "e.html"}[i], text)
		ids[d.ID] = true
	}
	for id := range ids {
		b.waitState(t, id, store.StateDone)
	}

	// Follow the next links, two at a time: every document once, newest
	// first, and the last page has no link.
	seen := map[string]bool{}
	path, pages := "/api/v1/documents?limit=2&state=done", 0
	var prev string
	for path != "" {
		resp, out := b.do(t, auth.ScopeRead, "GET", path, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		page := decode[List](t, out)
		require.LessOrEqual(t, len(page.Documents), 2)
		for _, d := range page.Documents {
			require.False(t, seen[d.ID], "listed twice")
			seen[d.ID] = true
			if prev != "" {
				require.Less(t, d.ID, prev, "newest first")
			}
			prev = d.ID
		}
		if page.Next != "" {
			require.Equal(t, `<`+page.Next+`>; rel="next"`, resp.Header.Get("Link"))
			require.Contains(t, page.Next, "state=done", "the link keeps the filters")
			require.Contains(t, page.Next, "limit=2")
		}
		path = page.Next
		pages++
	}
	require.Equal(t, ids, seen)
	require.Equal(t, 3, pages)

	count := func(query string) int {
		resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/documents?"+query, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		return len(decode[List](t, out).Documents)
	}
	require.Equal(t, 2, count("q=apples"))
	require.Equal(t, 2, count("q=pears"))
	require.Equal(t, 0, count("q=cherries"))
	require.Equal(t, 0, count("state=failed"))
	require.Equal(t, 5, count("limit=1000"))
	require.Equal(t, 0, count("parent=nobody"))
	resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/documents?limit=1", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	mt := decode[List](t, out).Documents[0].MIMEType
	require.Positive(t, count("mime_type="+url.QueryEscape(mt)))
	require.Equal(t, 0, count("mime_type=application/x-nothing"))
}

func TestSafeFilename(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\a"b.txt`, "a_b.txt"},
		{"line\r\nbreak.txt", "line__break.txt"},
		{"..", "document"},
		{"", "document"},
		{"résumé.pdf", "résumé.pdf"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, safeFilename(tt.in), tt.in)
	}
}

// TestTextTruncated checks that a document whose text was cut at the text
// limit says so: text_truncated in its JSON, listed or not, and a header on
// its text; and that text saved again whole clears it.
func TestTextTruncated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// Documents made in the store directly: no job runs on them.
	create := func(t *testing.T, content string) *store.Document {
		t.Helper()
		sum := sha256.Sum256([]byte(content))
		hexSum := hex.EncodeToString(sum[:])
		doc, _, err := b.store.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: hexSum, Name: "big.txt",
			MIMEType: "text/plain", Size: int64(len(content)), Source: store.SourceSubmit, BlobKey: "sha256/" + hexSum})
		require.NoError(t, err)
		return doc
	}
	cut, whole := create(t, "a long ledger"), create(t, "a short note")
	require.NoError(t, b.store.SaveText(ctx, &store.SaveTextParams{DocumentID: cut.ID, Text: "The ledger's first entries", Truncated: true}))
	require.NoError(t, b.store.SaveText(ctx, &store.SaveTextParams{DocumentID: whole.ID, Text: "A short note"}))

	get := func(t *testing.T, id string) (doc map[string]any, text string, header string) {
		t.Helper()
		resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+id, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		doc = decode[map[string]any](t, out)
		resp, text = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+id+"/text", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, text)
		return doc, text, resp.Header.Get(TextTruncatedHeader)
	}
	doc, text, header := get(t, cut.ID)
	require.Equal(t, true, doc["text_truncated"], "the field is there, and true")
	require.Equal(t, "The ledger's first entries", text)
	require.Equal(t, "true", header)
	doc, _, header = get(t, whole.ID)
	require.Equal(t, false, doc["text_truncated"], "the field is there when false too")
	require.Equal(t, "false", header)

	resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/documents", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	listed := map[string]bool{}
	for _, d := range decode[List](t, out).Documents {
		listed[d.ID] = d.TextTruncated
	}
	require.Equal(t, map[string]bool{cut.ID: true, whole.ID: false}, listed)

	// Extracted again, whole this time (a higher limit).
	require.NoError(t, b.store.SaveText(ctx, &store.SaveTextParams{DocumentID: cut.ID, Text: "The whole ledger"}))
	doc, _, header = get(t, cut.ID)
	require.Equal(t, false, doc["text_truncated"])
	require.Equal(t, "false", header)

	// The OpenAPI document describes both.
	resp, out = b.do(t, "", "GET", OpenAPIPath, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var api struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Headers map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
				Required   []string                  `json:"required"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &api))
	docSchema := api.Components.Schemas["Document"]
	require.Equal(t, "boolean", docSchema.Properties["text_truncated"]["type"])
	require.Contains(t, docSchema.Required, "text_truncated")
	h := api.Paths["/api/v1/documents/{id}/text"]["get"].Responses["200"].Headers[TextTruncatedHeader]
	require.Equal(t, "boolean", h.Schema["type"])
}
