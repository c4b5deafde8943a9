package edge

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	loopback := []string{"localhost", "127.0.0.1", "::1"}
	tests := []struct {
		name    string
		allowed []string
		host    string
		want    int
	}{
		{name: "any host when none is named", host: "evil.example", want: http.StatusOK},
		{name: "localhost", allowed: loopback, host: "localhost:8080", want: http.StatusOK},
		{name: "localhost, upper case, trailing dot", allowed: loopback, host: "LOCALHOST.:8080", want: http.StatusOK},
		{name: "IPv4 loopback", allowed: loopback, host: "127.0.0.1:8080", want: http.StatusOK},
		{name: "IPv6 loopback", allowed: loopback, host: "[::1]:8080", want: http.StatusOK},
		{name: "IPv6 loopback without port", allowed: loopback, host: "[::1]", want: http.StatusOK},
		{name: "DNS rebinding", allowed: loopback, host: "attacker.example:8080", want: http.StatusMisdirectedRequest},
		{name: "another loopback address", allowed: loopback, host: "127.0.0.2:8080", want: http.StatusMisdirectedRequest},
		{name: "no host", allowed: loopback, host: "", want: http.StatusMisdirectedRequest},
		{name: "a suffix is not a match", allowed: []string{"quire.example"}, host: "evilquire.example", want: http.StatusMisdirectedRequest},
		{name: "a named host", allowed: []string{"quire.example"}, host: "quire.example", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := Config{AllowedHosts: tt.allowed}.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, tt.want, w.Code, w.Body.String())
			if tt.want != http.StatusOK {
				require.Contains(t, w.Body.String(), "does not answer for host")
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	proxies, err := ParsePrefixes([]string{"10.0.0.0/8", "127.0.0.1", " ::1 "})
	require.NoError(t, err)
	tests := []struct {
		name    string
		trusted bool
		peer    string
		xff     []string
		want    string
	}{
		{name: "no proxy trusted: the peer", peer: "10.1.2.3:5555", xff: []string{"203.0.113.9"}, want: "10.1.2.3"},
		{name: "untrusted peer: its header is ignored", trusted: true, peer: "198.51.100.7:5555", xff: []string{"203.0.113.9"}, want: "198.51.100.7"},
		{name: "trusted proxy: the client it names", trusted: true, peer: "10.1.2.3:5555", xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "a forged hop before the real client is skipped", trusted: true, peer: "10.1.2.3:5555", xff: []string{"1.2.3.4, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "a chain of trusted proxies", trusted: true, peer: "127.0.0.1:5555", xff: []string{"203.0.113.9, 10.9.9.9"}, want: "203.0.113.9"},
		{name: "headers repeated", trusted: true, peer: "10.1.2.3:5555", xff: []string{"1.2.3.4", "203.0.113.9, 10.0.0.5"}, want: "203.0.113.9"},
		{name: "IPv6 client", trusted: true, peer: "[::1]:5555", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "garbage in the header: the last proxy", trusted: true, peer: "10.1.2.3:5555", xff: []string{"<script>, 10.0.0.9"}, want: "10.0.0.9"},
		{name: "no header: the proxy itself", trusted: true, peer: "10.1.2.3:5555", want: "10.1.2.3"},
		{name: "only proxies: the farthest", trusted: true, peer: "10.1.2.3:5555", xff: []string{"10.0.0.1"}, want: "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := Config{}
			if tt.trusted {
				cfg.TrustedProxies = proxies
			}
			var got string
			h := cfg.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ClientAddr(r) }))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	got, err := ParsePrefixes([]string{"10.0.0.0/8", "192.168.1.7", "fd00::/8", ""})
	require.NoError(t, err)
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.7/32", "fd00::/8"}, []string{got[0].String(), got[1].String(), got[2].String()})
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0"} {
		_, err := ParsePrefixes([]string{bad})
		require.Error(t, err, bad)
	}
}

func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	s := Config{ReadTimeout: 5}.Server(http.NotFoundHandler())
	require.Equal(t, ReadHeaderTimeoutDefault, s.ReadHeaderTimeout)
	require.EqualValues(t, 5, s.ReadTimeout)
	require.Equal(t, WriteTimeoutDefault, s.WriteTimeout)
	require.Equal(t, IdleTimeoutDefault, s.IdleTimeout)
}

// TestAllowTransferPacesUploads: an upload a handler allows (AllowTransfer)
// may take longer than the read timeout as long as its bytes keep coming at
// the minimum rate; a trickle slower than that is cut off once the read
// timeout's grace is spent; and without AllowTransfer the read timeout
// bounds the whole request.
func TestAllowTransferPacesUploads(t *testing.T) {
	t.Parallel()
	// A grace of 1 s and 1 KiB/s; the steady client sends 8 KiB/s for 3 s,
	// far beyond the grace, the trickle a byte every 300 ms.
	cfg := Config{ReadTimeout: time.Second, MinTransferRate: 1 << 10}
	tests := []struct {
		name    string
		allow   bool
		chunk   int
		every   time.Duration
		chunks  int
		wantCut bool
	}{
		{name: "a steady upload", allow: true, chunk: 1 << 10, every: 125 * time.Millisecond, chunks: 24},
		{name: "a trickle", allow: true, chunk: 1, every: 300 * time.Millisecond, chunks: 100, wantCut: true},
		{name: "a steady body not allowed more time", chunk: 1 << 10, every: 125 * time.Millisecond, chunks: 24, wantCut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got atomic.Int64
			srv := httptest.NewUnstartedServer(cfg.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.allow {
					AllowTransfer(w, r, 100<<20)
				}
				n, err := io.Copy(io.Discard, r.Body)
				got.Store(n)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
				}
			})))
			hs := cfg.Server(srv.Config.Handler)
			srv.Config = hs
			srv.Start()
			defer srv.Close()

			pr, pw := io.Pipe()
			go func() {
				chunk := bytes.Repeat([]byte("x"), tt.chunk)
				for range tt.chunks {
					time.Sleep(tt.every) // the client's pace, not a wait for the server
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				pw.Close()
			}()
			req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
			require.NoError(t, err)
			req.ContentLength = int64(tt.chunk * tt.chunks)
			resp, err := srv.Client().Do(req)
			pr.CloseWithError(io.ErrClosedPipe)
			if tt.wantCut {
				if err == nil {
					resp.Body.Close()
					require.NotEqual(t, http.StatusOK, resp.StatusCode)
				}
				require.Less(t, got.Load(), int64(tt.chunk*tt.chunks), "the server read the whole body")
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, int64(tt.chunk*tt.chunks), got.Load())
		})
	}
}
