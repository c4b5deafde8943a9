package pipeline_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// ingestFinal ingests a file and waits for its document's final state.
func ingestFinal(t *testing.T, e *env, name string, data []byte) *store.Document {
	t.Helper()
	ctx := context.Background()
	doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: name, Body: bytes.NewReader(data), Source: store.SourceUpload})
	require.NoError(t, err, name)
	require.Eventually(t, func() bool {
		doc, err = e.store.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		return doc.State == store.StateDone || doc.State == store.StateFailed
	}, 3*time.Minute, 20*time.Millisecond, name)
	return doc
}

// previewEvents returns the messages of a document's preview events that
// ended it (done or failed), as "type: message".
func previewEvents(t *testing.T, e *env, id string) []string {
	t.Helper()
	events, err := e.store.ListEvents(context.Background(), id)
	require.NoError(t, err)
	var out []string
	for _, ev := range events {
		if ev.Stage == pipeline.PreviewStage && ev.Type != store.EventStarted {
			out = append(out, string(ev.Type)+": "+ev.Message)
		}
	}
	return out
}

// requirePreview checks that a document has a preview: a record, and a
// JPEG in blob storage of the size recorded.
func requirePreview(t *testing.T, e *env, doc *store.Document) {
	t.Helper()
	ctx := context.Background()
	pv, err := e.store.GetPreview(ctx, doc.ID)
	require.NoError(t, err, doc.Name)
	key, err := blob.PreviewKey(doc.ID)
	require.NoError(t, err)
	require.Equal(t, key, pv.BlobKey)
	require.Equal(t, "image/jpeg", pv.MIMEType)
	require.Equal(t, extract.ThumbnailVersion, pv.Version)
	rc, err := e.blobs.Open(ctx, pv.BlobKey)
	require.NoError(t, err, doc.Name)
	data, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	require.Equal(t, pv.Size, int64(len(data)))
	img, err := jpeg.Decode(bytes.NewReader(data))
	require.NoError(t, err, doc.Name)
	require.Equal(t, []int{pv.Width, pv.Height}, []int{img.Bounds().Dx(), img.Bounds().Dy()})
	require.Equal(t, extract.ThumbnailMaxSideDefault, max(pv.Width, pv.Height), "%s: the longer side fills the thumbnail", doc.Name)
	require.Greater(t, min(pv.Width, pv.Height), 32, "%s: a page or a picture, not a sliver", doc.Name)
	ev := previewEvents(t, e, doc.ID)
	require.Len(t, ev, 1, doc.Name)
	require.True(t, strings.HasPrefix(ev[0], "done: "), ev[0])
}

func requireNoPreview(t *testing.T, e *env, doc *store.Document) {
	t.Helper()
	_, err := e.store.GetPreview(context.Background(), doc.ID)
	require.ErrorIs(t, err, store.ErrNotFound, doc.Name)
	key, err := blob.PreviewKey(doc.ID)
	require.NoError(t, err)
	ok, err := e.blobs.Exists(context.Background(), key)
	require.NoError(t, err)
	require.False(t, ok, "%s has no preview blob", doc.Name)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
	require.NoError(t, err)
	return data
}

// TestPreviews: the documents that may have a picture of their first page
// get one, on both backends; the others do not, and all are done.
func TestPreviews(t *testing.T) {
	t.Parallel()
	for name, newEnv := range map[string]func(t *testing.T) *env{
		"Embedded": func(t *testing.T) *env { return embedded(t) },
		"Servers":  servers,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for _, file := range []string{
				"pdf/everyshi.pdf",               // rendered by PDFium
				"images/text.png",                // decoded and scaled
				"formats/odf/udhr-fra.ott",       // its own Thumbnails/thumbnail.png
				"formats/longtail/preview.pages", // its own QuickLook/Preview.pdf
			} {
				doc := ingestFinal(t, e, filepath.Base(file), readTestdata(t, file))
				require.Equal(t, store.StateDone, doc.State, "%s: %s", file, doc.FailureReason)
				requirePreview(t, e, doc)
			}

			txt := ingestFinal(t, e, "note.txt", []byte("A plain text has no first page to show."))
			require.Equal(t, store.StateDone, txt.State)
			requireNoPreview(t, e, txt)
			require.Empty(t, previewEvents(t, e, txt.ID), "a text is not even tried")

			// A DOCX saved without a thumbnail says why it has none.
			docx := ingestFinal(t, e, "udhr.docx", readTestdata(t, "office/udhr.docx"))
			require.Equal(t, store.StateDone, docx.State)
			requireNoPreview(t, e, docx)
			require.Equal(t, []string{"done: no preview: thumbnail of " + docx.MIMEType + ": no thumbnail for this document: the document carries no picture of itself"},
				previewEvents(t, e, docx.ID))

			// Deleting the document deletes its preview.
			pdf, err := e.store.GetDocumentBySHA(context.Background(), fmt.Sprintf("%x", sha256.Sum256(readTestdata(t, "pdf/everyshi.pdf"))))
			require.NoError(t, err)
			require.NoError(t, e.p.DeleteDocument(context.Background(), pdf.ID))
			requireNoPreview(t, e, pdf)
		})
	}
}

// TestPreviewHostile: a picture whose header declares more pixels than the
// limits allow gets no preview, and its document still ends: failed by the
// extraction's own limit when OCR may not read it either, done when only
// the preview's tighter bound refuses it.
func TestPreviewHostile(t *testing.T) {
	t.Parallel()
	e := embedded(t, func(c *pipeline.Config, _ *jobs.Config) { c.Previews.MaxPixels = 100_000 })

	bomb := ingestFinal(t, e, "pixel-bomb.png", pngBomb(100_000, 100_000))
	require.Equal(t, store.StateFailed, bomb.State)
	require.Contains(t, bomb.FailureReason, "decompressed size limit")
	requireNoPreview(t, e, bomb)

	big := ingestFinal(t, e, "text.png", readTestdata(t, "images/text.png")) // more than 100,000 pixels
	require.Equal(t, store.StateDone, big.State, big.FailureReason)
	requireNoPreview(t, e, big)
	ev := previewEvents(t, e, big.ID)
	require.Len(t, ev, 1)
	require.True(t, strings.HasPrefix(ev[0], "failed: no preview: "), ev[0])
	require.Contains(t, ev[0], "thumbnail source pixels limit")
	text, err := e.store.GetText(context.Background(), big.ID)
	require.NoError(t, err)
	require.NotEmpty(t, strings.TrimSpace(text), "the image was read all the same")
}

// TestPreviewsDisabled: with previews off nothing is made or tried.
func TestPreviewsDisabled(t *testing.T) {
	t.Parallel()
	e := embedded(t, func(c *pipeline.Config, _ *jobs.Config) { c.Previews.Disabled = true })
	doc := ingestFinal(t, e, "everyshi.pdf", readTestdata(t, "pdf/everyshi.pdf"))
	require.Equal(t, store.StateDone, doc.State)
	requireNoPreview(t, e, doc)
	require.Empty(t, previewEvents(t, e, doc.ID))
	require.False(t, slices.ContainsFunc(must(e.store.ListEvents(context.Background(), doc.ID)), func(ev store.Event) bool {
		return ev.Stage == pipeline.PreviewStage
	}))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
