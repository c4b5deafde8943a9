package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// backends runs a test on the API over each store backend.
func backends(t *testing.T, test func(t *testing.T, b *inputBundle)) {
	t.Parallel()
	for _, be := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return testenv.NewPostgresDatabase(t) }},
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "quire.db") }},
	} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			test(t, newInputBundle(t, be.url(t)))
		})
	}
}

// call sends a JSON request with the admin token and decodes a success
// into out (when not nil); it returns the answer.
func (b *inputBundle) call(t *testing.T, method, target string, body any, wantCode int, out any) *httptest.ResponseRecorder {
	t.Helper()
	var s string
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		s = string(raw)
	}
	ctype := ""
	if body != nil {
		ctype = "application/json"
	}
	w := b.do(method, target, ctype, strings.NewReader(s))
	checkAnswer(t, method+" "+target, w)
	require.Equal(t, wantCode, w.Code, "%s %s: %s", method, target, w.Body.String())
	if out != nil {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), out))
	}
	return w
}

// ingest adds a document and waits until it is done.
func (b *inputBundle) ingest(t *testing.T, p *pipeline.Pipeline, name, text string) string {
	t.Helper()
	doc, _, err := p.Ingest(context.Background(), &pipeline.IngestParams{Name: name, Body: strings.NewReader(text), Source: store.SourceSubmit})
	require.NoError(t, err)
	return doc.ID
}

func TestTagsAPI(t *testing.T) {
	backends(t, func(t *testing.T, b *inputBundle) {
		var tag Tag
		b.call(t, "POST", "/api/v1/tags", map[string]any{"name": "Harvest", "color": "#336699", "match": "any", "match_text": "harvest"}, http.StatusCreated, &tag)
		require.Equal(t, Tag{Name: "Harvest", Color: "#336699", Match: "any", MatchText: "harvest", CreatedAt: tag.CreatedAt}, tag)

		// Clear errors for what can never work.
		w := b.call(t, "POST", "/api/v1/tags", map[string]any{"name": "harvest"}, http.StatusConflict, nil)
		require.Contains(t, w.Body.String(), `a tag named \"harvest\" exists`)
		w = b.call(t, "POST", "/api/v1/tags", map[string]any{"name": "r", "match": "regex", "match_text": "(unclosed"}, http.StatusBadRequest, nil)
		require.Contains(t, w.Body.String(), "not a regular expression")
		w = b.call(t, "POST", "/api/v1/tags", map[string]any{"name": "m", "match": "magic"}, http.StatusBadRequest, nil)
		require.Contains(t, w.Body.String(), `match \"magic\" is not one of`)
		b.call(t, "POST", "/api/v1/tags", map[string]any{"nom": "x"}, http.StatusBadRequest, nil)

		var got Tag
		b.call(t, "GET", "/api/v1/tags/HARVEST", nil, http.StatusOK, &got)
		require.Equal(t, "Harvest", got.Name)
		b.call(t, "PATCH", "/api/v1/tags/harvest", map[string]any{"name": "Harvests", "case_sensitive": true}, http.StatusOK, &got)
		require.Equal(t, "Harvests", got.Name)
		require.Equal(t, "any", got.Match, "left out, kept")
		require.True(t, got.CaseSensitive)
		b.call(t, "GET", "/api/v1/tags/harvest", nil, http.StatusNotFound, nil)

		// A document's tags.
		id := b.doc.ID
		var dts DocumentTagList
		b.call(t, "POST", "/api/v1/documents/"+id+"/tags", map[string]any{"tags": []string{"harvests"}}, http.StatusOK, &dts)
		require.Len(t, dts.Tags, 1)
		require.Equal(t, DocumentTag{Tag: "Harvests", SetBy: "token:admin", CreatedAt: dts.Tags[0].CreatedAt}, dts.Tags[0])
		b.call(t, "POST", "/api/v1/documents/"+id+"/tags", map[string]any{"tags": []string{"nope"}}, http.StatusNotFound, nil)
		b.call(t, "POST", "/api/v1/documents/01J00000000000000000000000/tags", map[string]any{"tags": []string{"harvests"}}, http.StatusNotFound, nil)
		b.call(t, "POST", "/api/v1/documents/"+id+"/tags", map[string]any{"tags": []string{}}, http.StatusBadRequest, nil)

		var doc Document
		b.call(t, "GET", "/api/v1/documents/"+id, nil, http.StatusOK, &doc)
		require.Equal(t, []string{"Harvests"}, doc.Tags)
		var list List
		b.call(t, "GET", "/api/v1/documents?tag=harvests", nil, http.StatusOK, &list)
		require.Len(t, list.Documents, 1)
		require.Equal(t, []string{"Harvests"}, list.Documents[0].Tags)
		b.call(t, "GET", "/api/v1/documents?tag=harvests,other", nil, http.StatusOK, &list)
		require.Empty(t, list.Documents, "every tag")
		b.call(t, "GET", "/api/v1/documents?tag=a/b", nil, http.StatusBadRequest, nil)

		var tags TagList
		b.call(t, "GET", "/api/v1/tags", nil, http.StatusOK, &tags)
		require.Len(t, tags.Tags, 1)
		require.Equal(t, 1, tags.Tags[0].Documents)

		var events EventList
		b.call(t, "GET", "/api/v1/documents/"+id+"/events", nil, http.StatusOK, &events)
		require.Equal(t, `tagged "harvests" by token:admin`, events.Events[len(events.Events)-1].Message)

		b.call(t, "DELETE", "/api/v1/documents/"+id+"/tags/HARVESTS", nil, http.StatusNoContent, nil)
		b.call(t, "GET", "/api/v1/documents/"+id+"/tags", nil, http.StatusOK, &dts)
		require.Empty(t, dts.Tags)
		b.call(t, "DELETE", "/api/v1/tags/harvests", nil, http.StatusNoContent, nil)
		b.call(t, "DELETE", "/api/v1/tags/harvests", nil, http.StatusNotFound, nil)
	})
}

func TestBulkAPI(t *testing.T) {
	backends(t, func(t *testing.T, b *inputBundle) {
		ctx := context.Background()
		for _, n := range []string{"red", "blue"} {
			b.call(t, "POST", "/api/v1/tags", map[string]any{"name": n}, http.StatusCreated, nil)
		}
		var ids []string
		for i := range 3 {
			d, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: fmt.Sprintf("%064x", i+1), Name: fmt.Sprintf("bulk-%d.txt", i),
				MIMEType: "text/plain", Source: store.SourceSubmit, BlobKey: fmt.Sprintf("k%d", i)})
			require.NoError(t, err)
			ids = append(ids, d.ID)
		}
		var res BulkResult
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"ids": ids, "action": "tag", "tags": []string{"red", "blue"}}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 3, Changed: 6}, res)
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"ids": ids, "action": "tag", "tags": []string{"red"}}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 3, Changed: 0}, res, "idempotent")

		// By query: the list's filters.
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"query": map[string]any{"tags": []string{"red"}, "state": "received"},
			"action": "untag", "tags": []string{"blue"}}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 3, Changed: 3}, res)
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"query": map[string]any{"tags": []string{"red"}},
			"action": "label", "label": "spam"}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 3, Changed: 3}, res)
		labels, err := b.st.ListLabels(ctx, &store.ListLabelsParams{Label: "spam"})
		require.NoError(t, err)
		require.Len(t, labels, 3)
		require.Equal(t, "token:admin", labels[0].SetBy)

		events, err := b.st.ListEvents(ctx, ids[0])
		require.NoError(t, err)
		var msgs []string
		for _, e := range events {
			msgs = append(msgs, e.Message)
		}
		require.Equal(t, []string{`tagged "red", "blue" by token:admin (bulk)`, `tagged "red" by token:admin (bulk)`,
			`untagged "blue" by token:admin (bulk)`, `labelled "spam" by token:admin (bulk)`}, msgs, "each change audited, naming who")

		// Reprocess: the seeded document is done, the others are not.
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"ids": append([]string{b.doc.ID}, ids...), "action": "reprocess"}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 4, Changed: 1, Skipped: 3}, res)

		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"ids": ids[:2], "action": "delete"}, http.StatusOK, &res)
		require.Equal(t, BulkResult{Matched: 2, Changed: 2}, res)
		_, err = b.st.GetDocument(ctx, ids[0])
		require.ErrorIs(t, err, store.ErrNotFound)

		// Bad requests, each with its reason.
		tooMany := make([]string, BulkMax+1)
		for i := range tooMany {
			tooMany[i] = fmt.Sprintf("id%d", i)
		}
		for _, tt := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"action": "delete"}, `give \"ids\" or \"query\"`},
			{map[string]any{"ids": ids, "query": map[string]any{"state": "done"}, "action": "delete"}, "not both"},
			{map[string]any{"ids": tooMany, "action": "delete"}, "at most 1000 documents"},
			{map[string]any{"query": map[string]any{}, "action": "delete"}, "at least one filter"},
			{map[string]any{"query": map[string]any{"state": "lost"}, "action": "delete"}, `state \"lost\"`},
			{map[string]any{"ids": ids, "action": "burn"}, `action \"burn\"`},
			{map[string]any{"ids": ids, "action": "tag"}, "give 1 to 100 tags"},
			{map[string]any{"ids": ids, "action": "label"}, "give a label"},
		} {
			w := b.call(t, "POST", "/api/v1/documents/bulk", tt.body, http.StatusBadRequest, nil)
			require.Contains(t, w.Body.String(), tt.want)
		}
		b.call(t, "POST", "/api/v1/documents/bulk", map[string]any{"ids": ids[2:], "action": "tag", "tags": []string{"green"}}, http.StatusNotFound, nil)
	})
}

func TestViewsAPI(t *testing.T) {
	backends(t, func(t *testing.T, b *inputBundle) {
		var v SavedView
		b.call(t, "POST", "/api/v1/views", map[string]any{"name": "Failed PDFs", "filters": map[string]string{"state": "failed", "mime_type": "application/pdf"},
			"dashboard": true}, http.StatusCreated, &v)
		require.Equal(t, "token:admin", v.Owner)
		require.Equal(t, map[string]string{"state": "failed", "mime_type": "application/pdf"}, v.Filters)
		b.call(t, "POST", "/api/v1/views", map[string]any{"name": "Lisbon", "query": "lisbon", "filters": map[string]string{"tag": "a,b"}}, http.StatusCreated, nil)
		b.call(t, "POST", "/api/v1/views", map[string]any{"name": "Lisbon"}, http.StatusConflict, nil)
		for _, body := range []map[string]any{
			{"name": "x", "filters": map[string]string{"colour": "red"}},
			{"name": "x", "filters": map[string]string{"state": "lost"}},
			{"name": "x", "filters": map[string]string{"tag": "a/b"}},
			{"name": "x", "sort": "random"},
			{"name": ""},
		} {
			b.call(t, "POST", "/api/v1/views", body, http.StatusBadRequest, nil)
		}
		var list SavedViewList
		b.call(t, "GET", "/api/v1/views", nil, http.StatusOK, &list)
		require.Len(t, list.Views, 2)
		b.call(t, "GET", "/api/v1/views?dashboard=true", nil, http.StatusOK, &list)
		require.Len(t, list.Views, 1)
		require.Equal(t, "Failed PDFs", list.Views[0].Name)

		b.call(t, "PATCH", "/api/v1/views/"+v.ID, map[string]any{"dashboard": false, "shared": true}, http.StatusOK, &v)
		require.False(t, v.Dashboard)
		require.True(t, v.Shared)
		require.Equal(t, "failed", v.Filters["state"], "left out, kept")
		b.call(t, "DELETE", "/api/v1/views/"+v.ID, nil, http.StatusNoContent, nil)
		b.call(t, "GET", "/api/v1/views/"+v.ID, nil, http.StatusNotFound, nil)
	})
}

// TestViewsOwnership checks that a view is its owner's: another caller
// sees it only when shared, and never changes it.
func TestViewsOwnership(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.do(t, auth.ScopeRead, "POST", "/api/v1/views", "application/json", strings.NewReader(`{"name":"mine"}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	mine := decode[SavedView](t, body)
	require.Equal(t, "token:read test", mine.Owner)

	resp, _ = b.do(t, auth.ScopeWrite, "GET", "/api/v1/views/"+mine.ID, "", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "another's private view")
	_, body = b.do(t, auth.ScopeWrite, "GET", "/api/v1/views", "", nil)
	require.Empty(t, decode[SavedViewList](t, body).Views)

	resp, _ = b.do(t, auth.ScopeRead, "PATCH", "/api/v1/views/"+mine.ID, "application/json", strings.NewReader(`{"shared":true}`))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, body = b.do(t, auth.ScopeWrite, "GET", "/api/v1/views", "", nil)
	require.Len(t, decode[SavedViewList](t, body).Views, 1, "shared: listed to everyone")
	resp, body = b.do(t, auth.ScopeAdmin, "PATCH", "/api/v1/views/"+mine.ID, "application/json", strings.NewReader(`{"name":"theirs"}`))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, _ = b.do(t, auth.ScopeAdmin, "DELETE", "/api/v1/views/"+mine.ID, "", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}
