package pipeline

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWebhookClientDialCheck checks the address the delivery client
// connects to, after name resolution: "localhost" stands for a name that
// resolved to a public address when it was registered and resolves to
// 127.0.0.1 now (DNS rebinding).
func TestWebhookClientDialCheck(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	byName := "http://localhost:" + port + "/hook"

	refusing := newWebhookClient(false)
	for _, u := range []string{srv.URL, byName} {
		resp, err := refusing.Post(u, "application/json", strings.NewReader("{}"))
		if resp != nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, ErrWebhookTarget, u)
	}
	require.Zero(t, calls.Load())

	allowing := newWebhookClient(true)
	resp, err := allowing.Post(byName, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, int64(1), calls.Load())
}
