package ui_test

import (
	"bufio"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/auth"
	"github.com/quirehq/quire/web/edge"
)

// smallFormCap is web/ui's bound of every form but the upload; readSlack is
// what the server may read past a bound: the request's header and its
// connection's read buffer.
const (
	smallFormCap = 16 << 10
	readSlack    = 16 << 10
)

// TestLoginBodyBounded posts a 300 MB multipart form to /login without a
// session: the server answers 413 having read no more than the small-form
// cap (counted on its connections, not taken from the status), spools
// nothing, and goes on answering. Uploads are bounded by the document limit
// wherever their CSRF token is, and a stranger's upload is read no further
// than a small form.
func TestLoginBodyBounded(t *testing.T) {
	t.Parallel()
	const maxBytes = 64 << 10
	b := setup(t, &setupOpts{edge: &edge.Config{}, maxBytes: maxBytes})
	writer, csrf := b.login(t, auth.ScopeWrite)
	tests := []struct {
		name   string
		client *http.Client
		path   string
		field  string            // the multipart form's field of the 300 MB
		fields map[string]string // sent before it
		header map[string]string
		want   int
		// most is the most of the body the server may read.
		most int64
	}{
		{name: "sign-in without a session", client: b.client(t), path: "/login", field: "email",
			want: http.StatusRequestEntityTooLarge, most: smallFormCap},
		{name: "upload, token in the header", client: writer, path: "/upload", field: "file", header: map[string]string{auth.CSRFHeader: csrf},
			want: http.StatusRequestEntityTooLarge, most: maxBytes + 1<<20},
		{name: "upload, token in the form", client: writer, path: "/upload", field: "file", fields: map[string]string{"csrf": csrf},
			want: http.StatusRequestEntityTooLarge, most: maxBytes + 1<<20},
		{name: "upload by a stranger", client: b.client(t), path: "/upload", field: "file", header: map[string]string{auth.CSRFHeader: csrf},
			want: http.StatusForbidden, most: smallFormCap},
	}
	for _, tt := range tests {
		read, code := postHuge(t, b, tt.client, tt.path, tt.header, tt.fields, tt.field)
		t.Logf("%s: the server read %d bytes of a 300 MB body", tt.name, read)
		if code != 0 {
			require.Equal(t, tt.want, code, tt.name)
		} // else: the server closed the connection while the client was still sending
		require.LessOrEqual(t, read, tt.most+readSlack, "%s: the server read %d bytes, more than its bound and buffers", tt.name, read)
	}

	code, body := b.get(t, http.DefaultClient, "/login")
	require.Equal(t, http.StatusOK, code, body)
}

// postHuge streams a 300 MB multipart form, never held whole, to path, its
// fields first and then field, and returns how many bytes the server read
// from its connections meanwhile and the status it answered (0 when it
// hung up before answering).
func postHuge(t *testing.T, b *testBundle, c *http.Client, path string, header, fields map[string]string, field string) (int64, int) {
	t.Helper()
	const size = 300 << 20
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan int64, 1)
	go func() {
		var n int64
		defer func() { sent <- n }()
		for k, v := range fields {
			if err := mw.WriteField(k, v); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		w, err := mw.CreateFormFile(field, "huge.bin")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		chunk := []byte(strings.Repeat("x", 64<<10))
		for n < size {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				return // the server hung up: what it wanted
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+path, pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.ContentLength = size + 1024 // declared, so the server knows what is coming
	before := b.bytesRead.Load()
	code := 0
	resp, err := c.Do(req)
	if err == nil {
		code = resp.StatusCode
		resp.Body.Close()
	}
	pr.CloseWithError(io.ErrClosedPipe)
	<-sent
	return b.bytesRead.Load() - before, code
}

// TestSlowBody sends a request body a byte at a time, slower than any
// client with something to send: the read timeout cuts the connection off
// long before the body is complete, and the server goes on answering.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{edge: &edge.Config{ReadTimeout: time.Second}})
	conn, err := net.Dial("tcp", b.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	const length = 1000
	_, err = fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
		b.srv.Listener.Addr(), length)
	require.NoError(t, err)

	// Feed the body slowly until the server gives up on it; a safety stop
	// well before the whole body would take (200 s) keeps a broken server
	// from hanging the test.
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		io.Copy(io.Discard, bufio.NewReader(conn))
	}()
	sent := 0
	stop := time.After(30 * time.Second)
feed:
	for sent < length {
		select {
		case <-closed:
			break feed
		case <-stop:
			t.Fatalf("the server still reads a body sent at 5 bytes a second after %d bytes", sent)
		case <-time.After(200 * time.Millisecond):
			if _, err := conn.Write([]byte("e")); err != nil {
				break feed
			}
			sent++
		}
	}
	require.Less(t, sent, length, "the slow body was read to its end")
	t.Logf("cut off after %d of %d bytes", sent, length)

	code, body := b.get(t, http.DefaultClient, "/login")
	require.Equal(t, http.StatusOK, code, body)
}

// TestLoginLimiterBehindProxy: behind a trusted proxy each client has its
// own sign-in limit, keyed by the address the proxy's X-Forwarded-For
// names; a header from anyone else is not believed, and one client's
// failures then count against every client of that peer.
func TestLoginLimiterBehindProxy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		trusted string
		// secondLimited: the second client is refused too.
		secondLimited bool
	}{
		{name: "the proxy trusted", trusted: "127.0.0.1/32"},
		{name: "no proxy trusted", secondLimited: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxies, err := edge.ParsePrefixes(strings.Fields(tt.trusted))
			require.NoError(t, err)
			// One attempt, then one an hour.
			b := setup(t, &setupOpts{edge: &edge.Config{TrustedProxies: proxies}, loginLimiter: auth.NewLimiter(1.0/3600, 1)})
			signIn := func(client string) int {
				c := b.client(t)
				_, page := b.get(t, c, "/login")
				form := url.Values{"csrf": {csrfOf(t, page)}, "email": {"nobody@example.org"}, "password": {"wrong"}}
				resp, _ := b.do(t, c, http.MethodPost, "/login", map[string]string{
					"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "198.51.100.1, " + client}, form.Encode())
				return resp.StatusCode
			}
			require.Equal(t, http.StatusUnauthorized, signIn("203.0.113.1"))
			require.Equal(t, http.StatusTooManyRequests, signIn("203.0.113.1"))
			want := http.StatusUnauthorized
			if tt.secondLimited {
				want = http.StatusTooManyRequests
			}
			require.Equal(t, want, signIn("203.0.113.2"))
		})
	}
}
