package ui_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// thumbnailDocs ingests a PDF and a picture, which get previews, and a
// text, which does not, and waits until all are done.
func thumbnailDocs(t *testing.T, b *testBundle) (withPreview []string, without string) {
	t.Helper()
	ctx := context.Background()
	m := image.NewGray(image.Rect(0, 0, 600, 300))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	for x := 50; x < 550; x++ {
		for y := 140; y < 160; y++ {
			m.SetGray(x, y, color.Gray{})
		}
	}
	var pic bytes.Buffer
	require.NoError(t, png.Encode(&pic, m))
	pdf, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pdf", "everyshi.pdf"))
	require.NoError(t, err)
	files := []struct {
		name string
		data []byte
	}{{"everyshi.pdf", pdf}, {"bar.png", pic.Bytes()}, {"note.txt", []byte("A note has no first page to show.")}}
	var ids []string
	for _, f := range files {
		doc, _, err := b.p.Ingest(ctx, &pipeline.IngestParams{Name: f.name, Body: bytes.NewReader(f.data), Source: store.SourceUpload})
		require.NoError(t, err)
		ids = append(ids, doc.ID)
	}
	for i, id := range ids {
		require.Eventually(t, func() bool {
			d, err := b.st.GetDocument(ctx, id)
			require.NoError(t, err)
			require.NotEqual(t, store.StateFailed, d.State, "%s: %s", files[i].name, d.FailureReason)
			return d.State == store.StateDone
		}, 2*time.Minute, 20*time.Millisecond, files[i].name)
	}
	return ids[:2], ids[2]
}

// TestThumbnailRoute: the UI serves a preview to a signed-in user with its
// validators, and a 404 page for a document without one.
func TestThumbnailRoute(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	with, without := thumbnailDocs(t, b)
	c, _ := b.login(t, auth.ScopeRead)
	resp, body := b.do(t, c, http.MethodGet, "/documents/"+with[0]+"/thumbnail?v=1", nil, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "private, max-age=86400", resp.Header.Get("Cache-Control"))
	require.True(t, strings.HasPrefix(body, "\xff\xd8\xff"), "a JPEG")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	resp, _ = b.do(t, c, http.MethodGet, "/documents/"+with[0]+"/thumbnail", map[string]string{"If-None-Match": etag}, "")
	require.Equal(t, http.StatusNotModified, resp.StatusCode)

	code, page := b.get(t, c, "/documents/"+without+"/thumbnail")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, page, "has no preview")

	// The list and the page name the picture with its box's size, and a
	// placeholder where there is none.
	code, page = b.get(t, c, "/documents")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 2, strings.Count(page, `<img class="thumb"`), page)
	require.Contains(t, page, `loading="lazy"`)
	require.Contains(t, page, `width="48" height="24"`, "the 600×300 picture fits 48 pixels")
	require.Equal(t, 1, strings.Count(page, `thumb-none`))
}

// TestBrowserThumbnails: the documents list shows the pictures loaded, and
// a placeholder for the document without one, at a desktop and a phone
// size; so does a document's page.
func TestBrowserThumbnails(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	with, without := thumbnailDocs(t, b)
	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		br.open(t, "/documents")
		br.do(t, chromedp.KeyEvent(b.email[auth.ScopeRead]+"\t"+password+"\r"))
		br.waitJS(t, "the documents page", `document.querySelector("h1") && document.querySelector("h1").textContent === "Documents"`)
		br.waitJS(t, "the thumbnails loaded", `(() => {
				const imgs = [...document.querySelectorAll("#documents img.thumb")];
				return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0);
			})()`)
		require.Equal(t, 400, eval[int](t, br, `Math.max(...[...document.querySelectorAll("#documents img.thumb")].map(i => Math.max(i.naturalWidth, i.naturalHeight)))`),
			"the pictures are the previews, 400 pixels on their longer side")
		require.True(t, eval[bool](t, br, `[...document.querySelectorAll("#documents img.thumb")].every(i => {
				const r = i.getBoundingClientRect();
				return r.width > 0 && r.width <= 50 && r.height > 0 && r.height <= 50;
			})`), "the pictures are shown small")
		require.Equal(t, 1, eval[int](t, br, `document.querySelectorAll("#documents .thumb-none").length`), "the text has a placeholder")
		br.fitsWidth(t, "the documents page with thumbnails")
		shoot(t, br, "thumbnails-list-"+screen+".png")

		br.open(t, "/documents/"+with[0])
		br.waitJS(t, "the page's thumbnail loaded", `(() => { const i = document.querySelector("img#doc-thumb"); return i && i.complete && i.naturalWidth > 0; })()`)
		br.fitsWidth(t, "a document's page with its thumbnail")
		shoot(t, br, "thumbnails-page-"+screen+".png")
		br.open(t, "/documents/"+without)
		require.Equal(t, "no preview", eval[string](t, br, `document.querySelector("#doc-thumb.thumb-none").textContent`))
		require.Empty(t, br.problems(), "console errors (a blocked inline style would show here)")
	})
}

// shoot saves a screenshot into $QUIRE_TEST_SCREENSHOTS, when set, for a
// person to look at the layout.
func shoot(t *testing.T, br *browser, name string) {
	t.Helper()
	dir := os.Getenv("QUIRE_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(br.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o644))
}
