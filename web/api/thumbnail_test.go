package api

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// TestThumbnail: a document with a preview is served as a JPEG with its
// validators, 304 when the client has it; one without gets a 404 problem,
// as does a deleted document.
func TestThumbnail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := image.NewGray(image.Rect(0, 0, 800, 200))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	for x := 100; x < 700; x++ {
		m.SetGray(x, 100, color.Gray{})
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, m))
	resp, out := b.do(t, auth.ScopeWrite, "POST", "/api/v1/documents?name=bar.png", "image/png", &buf)
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	pic := decode[Document](t, out)
	text := b.upload(t, "note.txt", "A text has no picture.")
	b.waitState(t, pic.ID, store.StateDone)
	b.waitState(t, text.ID, store.StateDone)

	path := "/api/v1/documents/" + pic.ID + "/thumbnail"
	resp, out = b.do(t, auth.ScopeRead, "GET", path, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "private, max-age=86400", resp.Header.Get("Cache-Control"))
	etag := resp.Header.Get("ETag")
	require.Equal(t, `"`+pic.SHA256+`-p1"`, etag)
	img, err := jpeg.Decode(strings.NewReader(out))
	require.NoError(t, err)
	require.Equal(t, image.Pt(400, 100), img.Bounds().Size())

	get := func(ifNoneMatch string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", b.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.token[auth.ScopeRead])
		req.Header.Set("If-None-Match", ifNoneMatch)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		r := get(inm)
		require.Equal(t, http.StatusNotModified, r.StatusCode, inm)
		require.Equal(t, etag, r.Header.Get("ETag"))
		require.Equal(t, "private, max-age=86400", r.Header.Get("Cache-Control"))
	}
	require.Equal(t, http.StatusOK, get(`"`+pic.SHA256+`-p0"`).StatusCode, "another version is not this one")

	// No preview: a text, or no such document.
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/"+text.ID+"/thumbnail", "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/documents/"+text.ID+"/thumbnail")
	require.Contains(t, out, "has no preview")
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/documents/nosuchdocument/thumbnail", "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/documents/nosuchdocument/thumbnail")

	// Deleting the document deletes its picture.
	key, err := blob.PreviewKey(pic.ID)
	require.NoError(t, err)
	ok, err := b.api.blobs.Exists(context.Background(), key)
	require.NoError(t, err)
	require.True(t, ok)
	resp, _ = b.do(t, auth.ScopeWrite, "DELETE", "/api/v1/documents/"+pic.ID, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, out = b.do(t, auth.ScopeRead, "GET", path, "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, path)
	ok, err = b.api.blobs.Exists(context.Background(), key)
	require.NoError(t, err)
	require.False(t, ok, "the preview went with its document")
}
