package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
)

// lockedBuffer collects logs written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecretsNotLoggedByAPI issues, uses and revokes API tokens, presents
// wrong ones, and sets webhook secrets, with every log at the debug level:
// no token and no secret appears in the logs.
func TestSecretsNotLoggedByAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := NewWithOptions(b.p, b.store, &Options{Tokens: b.tokens, Logger: log})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	do := func(token, method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		return resp.StatusCode, out.String()
	}
	admin := b.token[auth.ScopeAdmin]
	code, out := do(admin, "POST", "/api/v1/tokens", `{"name":"ci","scope":"read"}`)
	require.Equal(t, http.StatusCreated, code, out)
	issued := decode[Token](t, out)
	require.NotEmpty(t, issued.Token)
	code, _ = do(issued.Token, "GET", "/api/v1/documents", "")
	require.Equal(t, http.StatusOK, code)
	code, _ = do(issued.Token, "POST", "/api/v1/webhooks", `{}`) // too weak a scope
	require.Equal(t, http.StatusForbidden, code)
	const wrong = "qt_thisIsNotAValidTokenButLooksLikeOne0123456789"
	code, _ = do(wrong, "GET", "/api/v1/documents", "")
	require.Equal(t, http.StatusUnauthorized, code)

	const secret1, secret2 = "whsec-first-0a1b2c3d4e5f", "whsec-second-6a7b8c9d0e1f"
	code, out = do(admin, "POST", "/api/v1/webhooks", `{"url":"https://93.184.215.14/hook","secret":"`+secret1+`"}`)
	require.Equal(t, http.StatusCreated, code, out)
	hook := decode[Webhook](t, out)
	code, out = do(admin, "PATCH", "/api/v1/webhooks/"+hook.ID, `{"secret":"`+secret2+`"}`)
	require.Equal(t, http.StatusOK, code, out)
	code, out = do(admin, "PATCH", "/api/v1/webhooks/"+hook.ID, `{"secret":"`+secret2+`","url":"http://127.0.0.1/"}`) // refused
	require.Equal(t, http.StatusBadRequest, code, out)
	code, _ = do(admin, "DELETE", "/api/v1/tokens/"+issued.ID, "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = do(issued.Token, "GET", "/api/v1/documents", "") // revoked
	require.Equal(t, http.StatusUnauthorized, code)

	written := logs.String()
	require.Contains(t, written, "token issued", "the API logged what it did")
	for _, secret := range []string{admin, issued.Token, wrong, secret1, secret2} {
		require.NotContains(t, written, secret)
	}
}
