package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/pipeline"
)

// Secrets of TestSecretsNotLogged. Each has characters that URLs encode, so
// that a redaction that misses them shows.
const (
	redisSecret   = "R3dis/Secret+pw"
	pgSecret      = "Pg/S3cret@pass"
	webhookSecret = "whsec-9f8e7d6c5b4a39281706"
)

// startRedisWithPassword starts a private redis-server that requires
// password and returns its address.
func startRedisWithPassword(t *testing.T, password string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	testenv.RequireService(t, "the redis-server binary", err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--requirepass", password,
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: password})
	t.Cleanup(func() { rdb.Close() })
	require.Eventually(t, func() bool { return rdb.Ping(context.Background()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
	return addr
}

// TestSecretsNotLogged runs Quire with a Redis and a PostgreSQL URL that
// hold passwords, at the debug level, registers a webhook with a secret and
// has it delivered, and makes starts fail on wrong passwords: none of the
// secrets appears in anything Quire writes.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	redisAddr := startRedisWithPassword(t, redisSecret)
	redisURL := (&url.URL{Scheme: "redis", User: url.UserPassword("", redisSecret), Host: redisAddr, Path: "/0"}).String()
	pu, err := url.Parse(testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	pu.User = url.UserPassword(pu.User.Username(), pgSecret) // the test server trusts local connections
	postgresURL := pu.String()

	delivered := make(chan http.Header, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		delivered <- r.Header.Clone()
	}))
	t.Cleanup(receiver.Close)

	// An API token, printed once by the command that makes it: a secret
	// from then on.
	dataDir := filepath.Join(t.TempDir(), "data")
	made := runCLI(context.Background(), t, nil, "admin", "token", "create", "--name", "secrets", "--scope", "admin",
		"--data-dir", dataDir, "--postgres-url", postgresURL)
	require.Equal(t, exitOK, made.code, made.stderr)
	token := strings.TrimSpace(made.stdout)

	var outputs []string
	// Every role in one process, at the debug level.
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan result, 1)
	opts := &runOpts{tweak: func(d *deps) { d.listening = func(a net.Addr) { addrs <- a } }}
	go func() {
		done <- runCLI(ctx, t, opts, "up", "--addr", "127.0.0.1:0", "--log-level", "debug",
			"--data-dir", dataDir, "--redis-url", redisURL, "--redis-prefix", "quiretest:"+app.RandomHex(6),
			"--postgres-url", postgresURL, "--webhook-allow-private")
	}()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case r := <-done:
		t.Fatalf("up exited with %d: %s", r.code, r.stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("up did not start: %s", (<-done).stderr)
	}
	post := func(path, ctype, body string) string {
		resp, err := authPost(token, base+path, ctype, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 300, "%s: %s", path, out)
		return string(out)
	}
	post("/api/v1/webhooks", "application/json", fmt.Sprintf(`{"url":%q,"secret":%q}`, receiver.URL, webhookSecret))
	var doc struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(post("/api/v1/documents?name=note.txt", "text/plain", "A note whose processing is logged.")), &doc))
	select {
	case h := <-delivered:
		require.NotEmpty(t, h.Get(pipeline.HeaderSignature))
	case <-time.After(60 * time.Second):
		t.Fatal("the webhook was not delivered")
	}
	cancel()
	r := <-done
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stderr, `msg="quire: settings"`, "the run logged its settings at the debug level")
	require.Contains(t, r.stderr, "postgres://postgres:xxxxx@")
	outputs = append(outputs, r.stdout, r.stderr)

	// Starts that fail: a wrong Redis password, a PostgreSQL that cannot
	// be reached, a URL that does not parse. Their errors name the
	// setting, never the password.
	wrongRedis := strings.Replace(redisURL, url.PathEscape(redisSecret), url.PathEscape(redisSecret+"-wrong"), 1)
	closedPG := *pu
	closedPG.Host = "127.0.0.1:1"
	for _, c := range []struct {
		args []string
		// running: the process keeps trying (a worker outlives an
		// outage) until the test stops it; its logs say why.
		running bool
		says    string
	}{
		{args: []string{"serve", "--role", "worker", "--redis-url", wrongRedis}, running: true, says: "WRONGPASS"},
		{args: []string{"serve", "--role", "worker", "--redis-url", redisURL, "--postgres-url", closedPG.String()}, says: "connect"},
		{args: []string{"serve", "--role", "worker", "--redis-url", "redis://:" + redisSecret + "@127.0.0.1:1/%zz"}, says: "--redis-url"},
		{args: []string{"serve", "--role", "worker", "--redis-url", redisURL, "--postgres-url", "postgres://u:" + pgSecret + "@127.0.0.1:1/db?sslmode=%zz"}, says: "--postgres-url"},
	} {
		timeout := time.Minute
		if c.running {
			timeout = 3 * time.Second
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		r := runCLI(ctx, t, nil, append(c.args, "--log-level", "debug", "--addr", "", "--data-dir", t.TempDir())...)
		cancel()
		if !c.running {
			require.NotEqual(t, exitOK, r.code, "%v should fail: %s", c.args, r.stderr)
		}
		require.Contains(t, r.stderr, c.says, c.args)
		outputs = append(outputs, r.stdout, r.stderr)
	}

	for _, secret := range []string{redisSecret, pgSecret, webhookSecret, token} {
		for _, form := range []string{secret, url.PathEscape(secret), url.QueryEscape(secret), url.UserPassword("u", secret).String()[2:]} {
			for _, out := range outputs {
				if strings.Contains(out, form) {
					t.Errorf("the secret %q (as %q) was written:\n%s", secret, form, out)
				}
			}
		}
	}
}
