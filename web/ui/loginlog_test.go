package ui_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// logAttrs returns the attributes of the records with message msg, by key.
func logAttrs(logs *testenv.LogRecorder, msg string) []map[string]string {
	var out []map[string]string
	for _, r := range logs.Records() {
		if r.Message != msg {
			continue
		}
		m := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

// TestFailedLoginLog: a failed sign-in logs what was typed as the email
// quoted, escaped and cut at 64 bytes, with a short hash, when it looks
// like an address, and only its length and hash otherwise (a password typed
// in the wrong box, a forged log line): never the raw input.
func TestFailedLoginLog(t *testing.T) {
	t.Parallel()
	h := &testenv.LogRecorder{}
	b := setup(t, &setupOpts{logger: slog.New(h)})
	tests := []struct {
		name, email string
		// shown is what the log shows of it; absent, what it must not.
		shown, absent []string
	}{
		{name: "an address", email: "ada@example.org", shown: []string{`"ada@example.org" (sha256:`}},
		{name: "a long address", email: strings.Repeat("a", 100) + "@example.org",
			shown: []string{`"` + strings.Repeat("a", 64) + `…" (sha256:`}, absent: []string{"example.org", strings.Repeat("a", 65)}},
		{name: "a password in the wrong box", email: "correct horse battery staple",
			shown: []string{"(not an address, 28 bytes, sha256:"}, absent: []string{"horse"}},
		{name: "a forged log line", email: "x@y\nlevel=ERROR msg=\"admin signed in\"",
			shown: []string{"not an address"}, absent: []string{"\n", "admin signed in"}},
		{name: "control characters", email: "ada\x1b[31m@example.org",
			shown: []string{"not an address"}, absent: []string{"\x1b"}},
	}
	for _, tt := range tests {
		c := b.client(t)
		_, page := b.get(t, c, "/login")
		resp, body := b.post(t, c, "/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {tt.email}, "password": {"wrong"}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
		logged := logAttrs(h, "ui: failed login")
		require.NotEmpty(t, logged, tt.name)
		got := logged[len(logged)-1]
		require.Equal(t, "127.0.0.1", got["remote"], tt.name)
		for _, s := range tt.shown {
			require.Contains(t, got["email"], s, tt.name)
		}
		if tt.email != "ada@example.org" {
			tt.absent = append(tt.absent, tt.email) // never raw but a short address
		}
		for _, s := range tt.absent {
			require.NotContains(t, got["email"], s, tt.name)
		}
	}
}
