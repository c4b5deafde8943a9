package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServersCutOffSlowClients: every HTTP server of every role (the web
// UI's and API's, the inference API's, the probes', the profiles') has the
// timeouts of the --http-*-timeout flags. A client that sends its request
// a byte at a time, slower than anyone with something to send, is cut off
// on each of them, and the process goes on answering.
func TestServersCutOffSlowClients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		// servers is how many HTTP servers the process runs, the
		// profiles' included.
		servers int
	}{
		{name: "up", args: []string{"up"}, servers: 2},
		{name: "worker", args: []string{"serve", "--role", "worker"}, servers: 2},
		{name: "web", args: []string{"serve", "--role", "web", "--http-addr", "127.0.0.1:0"}, servers: 3},
		{name: "ml", args: []string{"serve", "--role", "ml", "--http-addr", "127.0.0.1:0"}, servers: 3},
		{name: "scheduler", args: []string{"serve", "--role", "scheduler"}, servers: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			servers := map[string]*http.Server{}
			pprofAddr := freeAddr(t)
			s := startProcessWith(t, setupEmbedded(t), func(d *deps) {
				d.serving = func(a net.Addr, hs *http.Server) {
					mu.Lock()
					defer mu.Unlock()
					servers[a.String()] = hs
				}
			}, append(tt.args, "--pprof-addr="+pprofAddr, "--http-read-header-timeout", "1s",
				"--http-read-timeout", "2s", "--http-write-timeout", "3m", "--http-idle-timeout", "4m")...)

			mu.Lock()
			require.Len(t, servers, tt.servers)
			for addr, hs := range servers {
				require.Equal(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Minute, 4 * time.Minute},
					[]time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout}, addr)
			}
			mu.Unlock()
			for _, addr := range []string{s.addr, s.httpAddr, pprofAddr} {
				if addr != "" {
					requireCutOff(t, addr+": a header a byte at a time", addr,
						"GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: ")
				}
			}
			if web := map[string]string{"up": s.addr, "web": s.httpAddr}[tt.name]; web != "" {
				// The body of a sign-in, which the server reads before
				// anything else.
				requireCutOff(t, "a sign-in's body a byte at a time", web, fmt.Sprintf(
					"POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", web))
			}
			code, body := s.get(t, "/healthz")
			require.Equal(t, http.StatusOK, code, body)
		})
	}
}

// freeAddr returns an address of the loopback interface nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// requireCutOff sends head to addr, then one byte every 200 ms, and
// requires the server to close the connection before 1000 more bytes: at
// that pace that takes 200 s, far beyond any timeout of the test, and a
// safety stop at 30 s keeps a server without timeouts from hanging it.
func requireCutOff(t *testing.T, what, addr, head string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
	}()
	stop := time.After(30 * time.Second)
	sent := 0
	for sent < 1000 {
		select {
		case <-closed:
			t.Logf("%s: cut off after %d bytes", what, sent)
			return
		case <-stop:
			t.Fatalf("%s: the server still reads after %d bytes", what, sent)
		case <-time.After(200 * time.Millisecond):
			if _, err := conn.Write([]byte("x")); err != nil {
				t.Logf("%s: cut off after %d bytes", what, sent)
				return
			}
			sent++
		}
	}
	t.Fatalf("%s: the server read a request sent at 5 bytes a second to its end", what)
}

// TestWebSettingsRefused: an edge or timeout setting that cannot work stops
// the process at start, naming the setting.
func TestWebSettingsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "zero timeout", args: []string{"--http-read-timeout", "0s"}, want: "--http-read-timeout / QUIRE_HTTP_READ_TIMEOUT"},
		{name: "negative timeout from the environment", env: map[string]string{"QUIRE_HTTP_IDLE_TIMEOUT": "-1s"}, want: "--http-idle-timeout / QUIRE_HTTP_IDLE_TIMEOUT"},
		{name: "a proxy that is not a network", args: []string{"--trusted-proxies", "nginx.internal"}, want: "--trusted-proxies / QUIRE_TRUSTED_PROXIES"},
		{name: "a host with a port", args: []string{"--allowed-hosts", "quire.example.com:8080"}, want: "--allowed-hosts / QUIRE_ALLOWED_HOSTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupEmbedded(t)
			r := b.runWith(t.Context(), t, &runOpts{env: tt.env}, append([]string{"serve", "--role", "web", "--http-addr", "127.0.0.1:0", "--addr", ""}, tt.args...)...)
			require.Equal(t, exitUsage, r.code, r.stderr)
			require.Contains(t, r.stderr, tt.want)
		})
	}
}
