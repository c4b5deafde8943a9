package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
)

// TestInvalidFilters: a listing's filter, an id or a form's value that is
// not valid is the client's mistake, answered 400 with what is wrong, never
// a 5xx, on either store and broker (PostgreSQL refuses NUL bytes and
// invalid UTF-8 outright).
func TestInvalidFilters(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]*setupOpts{"Embedded": nil, "Servers": {servers: true}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testInvalidFilters(t, setup(t, opts))
		})
	}
}

func testInvalidFilters(t *testing.T, b *testBundle) {
	c, csrf := b.login(t, auth.ScopeAdmin)
	pages := []struct {
		path string
		want string // in the answer
	}{
		{"/jobs?tab=retry&queue='", "queue"},
		{"/jobs?tab=dead&queue=%00", "NUL"},
		{"/jobs?tab=scheduled&queue=a%20b", "queue"},
		{"/jobs?tab=dead&queue=" + strings.Repeat("q", 300), "queue"},
		{"/jobs?tab=nope", "unknown tab"},
		{"/documents?state=nope", "state"},
		{"/documents?cursor=not-a-cursor", "cursor"},
		{"/documents?cursor=%00", "NUL"},
		{"/documents?mime_type=%00", "NUL"},
		{"/documents?mime_type=%ff", "UTF-8"},
		{"/documents?q=%ff", "UTF-8"},
		{"/documents/%00", "NUL"},
		{"/documents/%ff/original", "UTF-8"},
		{"/login?next=%ff", "UTF-8"},
	}
	for _, p := range pages {
		code, body := b.get(t, c, p.path)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", p.path, body)
		require.Contains(t, body, p.want, p.path)
	}
	forms := []struct {
		path string
		form url.Values
		want string
	}{
		{"/jobs/retry", url.Values{"state": {"bogus"}, "id": {"x"}}, "state"},
		{"/jobs/delete", url.Values{"state": {"dead"}, "id": {"x\x00"}}, "NUL"},
		{"/queues/a'b/pause", nil, "queue"},
		{"/queues/a'b/resume", nil, "queue"},
		{"/documents/x/labels", url.Values{"label": {"\xff"}}, "UTF-8"},
	}
	for _, f := range forms {
		form := url.Values{"csrf": {csrf}}
		for k, v := range f.form {
			form[k] = v
		}
		resp, body := b.post(t, c, f.path, form)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", f.path, body)
		require.Contains(t, body, f.want, f.path)
	}
	for _, path := range []string{
		"/api/v1/jobs?state=retry&queue='",
		"/api/v1/jobs?state=bogus",
		"/api/v1/jobs?state=dead&offset=-1",
		"/api/v1/jobs/stats?days=x",
		"/api/v1/documents?state=nope",
		"/api/v1/documents?cursor=not-a-cursor",
		"/api/v1/documents?mime_type=%00",
		"/api/v1/documents?limit=abc",
		"/api/v1/models?active=maybe",
	} {
		resp, body := b.do(t, http.DefaultClient, http.MethodGet, path, map[string]string{"Authorization": "Bearer " + b.token[auth.ScopeRead]}, "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", path, body)
	}
}
