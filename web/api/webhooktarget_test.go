package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
)

// TestWebhookPrivateTargetRefused registers webhooks pointing inside the
// network: each is refused with a problem that names the setting, and
// nothing is stored or changed.
func TestWebhookPrivateTargetRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(receiver.Close)
	for _, u := range []string{receiver.URL, "http://localhost:8080/hook", "http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.7/hook", "http://[::1]/hook", "http://[::ffff:192.168.0.1]/hook"} {
		resp, out := b.do(t, auth.ScopeAdmin, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url":"`+u+`"}`))
		requireProblem(t, resp, out, http.StatusBadRequest, "/api/v1/webhooks")
		require.Contains(t, out, "webhook target refused", u)
		require.Contains(t, out, "--webhook-allow-private", u)
	}
	hs, err := b.store.ListWebhooks(t.Context())
	require.NoError(t, err)
	require.Empty(t, hs)

	// A public webhook cannot be moved inside either.
	resp, out := b.do(t, auth.ScopeAdmin, "POST", "/api/v1/webhooks", "application/json", strings.NewReader(`{"url":"https://93.184.215.14/hook"}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	h := decode[Webhook](t, out)
	resp, out = b.do(t, auth.ScopeAdmin, "PATCH", "/api/v1/webhooks/"+h.ID, "application/json", strings.NewReader(`{"url":"`+receiver.URL+`"}`))
	requireProblem(t, resp, out, http.StatusBadRequest, "/api/v1/webhooks/"+h.ID)
	stored, err := b.store.GetWebhook(t.Context(), h.ID)
	require.NoError(t, err)
	require.Equal(t, "https://93.184.215.14/hook", stored.URL)
}
