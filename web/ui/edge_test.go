package ui_test

import (
	"bufio"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/web/edge"
)

// TestLoginBodyBounded posts a 300 MB multipart form to /login without a
// session: the server answers 413 having read no more than the small-form
// cap (counted on its connections, not taken from the status), spools
// nothing, and goes on answering.
func TestLoginBodyBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{edge: &edge.Config{}})
	const size = 300 << 20

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	sent := make(chan int64, 1)
	go func() {
		var n int64
		defer func() { sent <- n }()
		w, err := mw.CreateFormFile("email", "huge.bin")
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
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/login", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.ContentLength = size + 1024 // declared, so the server knows what is coming
	before := b.bytesRead.Load()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		resp.Body.Close()
	} // else: the server closed the connection while the client was still sending
	pr.CloseWithError(io.ErrClosedPipe)
	<-sent
	read := b.bytesRead.Load() - before
	t.Logf("the server read %d bytes of a %d MB body", read, size>>20)
	require.Less(t, read, int64(1<<20), "the server read %d bytes: more than the small-form cap and its buffers", read)

	code, body := b.get(t, http.DefaultClient, "/login")
	require.Equal(t, http.StatusOK, code, body)
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
