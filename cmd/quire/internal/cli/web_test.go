package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/app"
)

// apiToken issues an admin API token in b's store, as an operator would.
func apiToken(t *testing.T, b *testBundle) string {
	t.Helper()
	tok := strings.TrimSpace(b.runOK(t, "admin", "token", "create", "--name", "test", "--scope", "admin").stdout)
	require.Regexp(t, `^quire_[0-9a-f]+_[0-9a-f]+$`, tok)
	return tok
}

// authPost is http.Post with a bearer token.
func authPost(token, url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// uiLogin signs in to the web UI at base and returns a client holding the
// session cookie.
func uiLogin(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInput.FindStringSubmatch(string(page))
	require.NotNil(t, m, "the login form has a CSRF token: %s", page)
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Contains(t, string(body), "<h1>Dashboard</h1>", "the login lands on the dashboard")
	return c
}

func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestAdminCommands: users and tokens made by the CLI are kept in the store
// and refused when invalid.
func TestAdminCommands(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	r := b.runWith(t.Context(), t, &runOpts{stdin: "correct horse battery staple\n"}, "admin", "create", "--email", "Ada@Example.org", "--password-stdin", "--scope", "write")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "created user ada@example.org (write)")
	require.NotContains(t, r.stdout, "password:", "a password given is not printed")

	r = b.run(t, "admin", "create", "--email", "ops@example.org")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `password: [A-Z2-7]{20}\n`, r.stdout, "a password made is printed once")

	r = b.runWith(t.Context(), t, &runOpts{stdin: "short\n"}, "admin", "create", "--email", "bob@example.org", "--password-stdin")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "use at least 12")
	r = b.run(t, "admin", "create", "--email", "ada@example.org")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "a user with this email exists")

	tok := apiToken(t, b)
	list := b.runOK(t, "admin", "token", "list").stdout
	id := strings.Split(tok, "_")[1]
	require.Contains(t, list, id)
	require.NotContains(t, list, tok, "the secret is never shown again")
	r = b.run(t, "admin", "token", "create", "--name", "x", "--scope", "root")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, b.runOK(t, "admin", "token", "revoke", id).stdout, "revoked")
	require.NotContains(t, b.runOK(t, "admin", "token", "list").stdout, id)
}

// TestUpFirstAdmin: the first up creates an admin and prints its password
// once; the API wants a token and the pages a session, and the printed
// password signs in.
func TestUpFirstAdmin(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	s := startProcess(t, b, "up", "--shutdown-timeout", "300ms")
	base := "http://" + s.addr

	code, _ := s.get(t, "/api/v1/documents")
	require.Equal(t, http.StatusUnauthorized, code)
	resp, err := http.Get(base + "/documents")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, base+"/login?next=%2Fdocuments", resp.Request.URL.String(), "a page redirects to the login")
	code, _ = s.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, "the probes need no sign-in")

	r := s.stop(t)
	require.Equal(t, exitOK, r.code, r.stderr)
	m := regexp.MustCompile(`email:\s+(\S+)\s+password:\s+(\S+)`).FindStringSubmatch(r.stderr)
	require.NotNil(t, m, r.stderr)
	require.Equal(t, app.FirstAdminEmail, m[1])

	// A second start creates no one and prints no password.
	s = startProcess(t, b, "up", "--shutdown-timeout", "300ms")
	c := uiLogin(t, "http://"+s.addr, m[1], m[2])
	code, page := getPage(t, c, "http://"+s.addr+"/jobs?tab=queues")
	require.Equal(t, http.StatusOK, code, page)
	r = s.stop(t)
	require.NotContains(t, r.stderr, "password:")
}

// TestUpDemo: --demo serves without sign-in on loopback only, says so, and
// feeds the sample documents.
func TestUpDemo(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	r := b.run(t, "up", "--demo", "--addr", "0.0.0.0:0")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--demo serves without sign-in, so only on the loopback interface")
	r = b.run(t, "up", "--demo", "--addr", ":0")
	require.Equal(t, exitUsage, r.code)

	corpus := t.TempDir()
	copyTestdata(t, corpus+"/text", "text/sotu-1932-hoover.txt")
	s := startProcess(t, b, "up", "--demo", "--demo-corpus", corpus, "--shutdown-timeout", "300ms")
	waitFor(t, "the sample document done", func() bool {
		_, body := s.get(t, "/api/v1/documents?state=done")
		return strings.Contains(body, `"name":"sotu-1932-hoover.txt"`)
	})
	code, page := s.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "Demo mode: no sign-in")
	// A page elsewhere that rebinds its own name to 127.0.0.1 cannot
	// drive the open demo: its requests name another host.
	for host, want := range map[string]int{"attacker.example": http.StatusMisdirectedRequest, "localhost": http.StatusOK} {
		req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+"/", nil)
		require.NoError(t, err)
		_, port, _ := net.SplitHostPort(s.addr)
		req.Host = net.JoinHostPort(host, port)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, host)
	}
	code, _ = s.get(t, "/healthz")
	require.Equal(t, http.StatusOK, code, "the probes still answer")
	r = s.stop(t)
	require.Contains(t, r.stderr, "DEMO MODE")
	require.Contains(t, r.stderr, "Quire's demo: open http://"+s.addr+"/")
}

// TestUpDemoBuiltInSamples: --demo feeds the samples built into the binary,
// from any directory (this test's has no testdata/), on an empty data
// directory, which it then marks as its own.
func TestUpDemoBuiltInSamples(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	s := startProcess(t, b, "up", "--demo", "--shutdown-timeout", "300ms")
	samples := []string{"udhr-eng.html", "float.pdf", "udhr.docx", "spamassassin-easy-ham-1-00001.eml", "text.png", "sotu-1932-hoover.txt"}
	require.Eventually(t, func() bool {
		_, body := s.get(t, "/api/v1/documents?state=done&limit=1000")
		var list struct {
			Documents []struct {
				Name string `json:"name"`
			} `json:"documents"`
		}
		if json.Unmarshal([]byte(body), &list) != nil {
			return false
		}
		done := map[string]bool{}
		for _, d := range list.Documents {
			done[d.Name] = true
		}
		for _, name := range samples {
			if !done[name] {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "the built-in samples %v done", samples)
	s.stop(t)
	require.FileExists(t, filepath.Join(b.dataDir, "DEMO"))

	// The demo's own data directory is served again, with what was
	// uploaded to it.
	s = startProcess(t, b, "up", "--demo", "--shutdown-timeout", "300ms")
	code, _ := s.get(t, "/")
	require.Equal(t, http.StatusOK, code)
}

// TestUpDemoRefusesOtherData: the demo serves everything without sign-in,
// so it refuses a data directory that holds users, or documents it did not
// make, and names --data-dir.
func TestUpDemoRefusesOtherData(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "text/sotu-1932-hoover.txt")
	b.runOK(t, "process", in, "--log-level", "error")
	r := b.run(t, "up", "--demo", "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, r.code, r.stderr)
	require.Contains(t, r.stderr, "holds 1 documents the demo did not make: give the demo a data directory of its own with --data-dir")

	r = b.runWith(t.Context(), t, &runOpts{stdin: "correct horse battery staple"}, "admin", "create", "--email", "ada@example.org", "--password-stdin")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = b.run(t, "up", "--demo", "--addr", "127.0.0.1:0")
	require.Equal(t, exitUsage, r.code, r.stderr)
	require.Contains(t, r.stderr, "holds 1 users: give the demo a data directory of its own with --data-dir")
	require.NoFileExists(t, filepath.Join(b.dataDir, "DEMO"))
}
