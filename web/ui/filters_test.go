package ui_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
)

// TestInvalidFilters: a listing's filter that is not valid is the
// client's mistake, answered 400 with what is wrong, never a 5xx.
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
	c, _ := b.login(t, auth.ScopeRead)
	for _, path := range []string{
		"/jobs?tab=retry&queue='",
		"/jobs?tab=dead&queue=%00",
		"/jobs?tab=scheduled&queue=a%20b",
		"/jobs?tab=nope",
		"/documents?state=nope",
		"/documents?cursor=not-a-cursor",
	} {
		code, body := b.get(t, c, path)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", path, body)
	}
	for _, path := range []string{"/api/v1/jobs?state=retry&queue='", "/api/v1/documents?state=nope", "/api/v1/documents?cursor=not-a-cursor"} {
		resp, body := b.do(t, http.DefaultClient, http.MethodGet, path, map[string]string{"Authorization": "Bearer " + b.token[auth.ScopeRead]}, "")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", path, body)
	}
}
