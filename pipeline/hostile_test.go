package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/testdocs"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/api"
)

// Limits of the hostile corpus's pipeline: small, so that the bombs meet
// them at a cost a test can afford. Memory is bounded through them (what
// archives and images may expand to, pages), not measured.
const (
	hostileMaxBytes        = 1 << 20
	hostileMaxPages        = 50
	hostileMaxDecompressed = 16 << 20
	hostileMaxText         = 1 << 20
)

var (
	hostileOnce      sync.Once
	hostileExtractor *extract.Extractor
)

// hostileLimits gives the pipeline the hostile corpus's limits.
func hostileLimits(c *pipeline.Config, _ *jobs.Config) {
	hostileOnce.Do(func() {
		hostileExtractor = extract.New(extract.Config{PDFWorkers: 1, Limits: extract.Limits{
			MaxBytes: hostileMaxBytes, MaxPages: hostileMaxPages, MaxDecompressed: hostileMaxDecompressed,
			MaxText: hostileMaxText, Timeout: 2 * time.Minute,
		}})
	})
	c.Extractor = hostileExtractor
	c.MaxBytes = hostileMaxBytes
}

// hostileFile is one file of the hostile corpus and what must become of it.
type hostileFile struct {
	// name is the file's name as uploaded, and in testdata/hostile when it
	// is committed.
	name string
	// committed files are in testdata/hostile too; the others are too
	// large to commit.
	committed bool
	gen       func() []byte
	// state is the document's final state; reason is part of the reason
	// it failed.
	state  store.State
	reason string
	// check, for a document that ends done, checks what it became.
	check func(t *testing.T, d api.Document, text string)
}

func hostileCorpus() []hostileFile {
	const (
		unreadable  = "the document could not be read"
		unsupported = "unsupported document type"
	)
	failed, done := store.StateFailed, store.StateDone
	onePage := func(t *testing.T, d api.Document, _ string) { require.Equal(t, 1, d.PageCount) }
	return []hostileFile{
		// Bombs of text are read to the text limit, no further, and end
		// done with the text they hold up to it.
		{name: "bomb.docx", gen: func() []byte { return docxBomb(64 << 20) }, state: done, check: truncatedText},
		{name: "bomb-lying-size.docx", gen: func() []byte { return docxBombLying(64 << 20) }, state: failed, reason: unreadable},
		{name: "bomb.xlsx", gen: func() []byte { return xlsxBomb(64 << 20) }, state: failed, reason: "decompressed size limit"},
		{name: "bomb.odt", gen: func() []byte { return odtBomb(64 << 20) }, state: done, check: truncatedText},
		{name: "billion-laughs.docx", committed: true, gen: billionLaughs, state: failed, reason: "declares a DTD"},
		{name: "external-entity.docx", committed: true, gen: externalEntity, state: failed, reason: "declares a DTD"},
		{name: "many-pages.pdf", gen: func() []byte { return pdfManyPages(hostileMaxPages + 1) }, state: failed, reason: "pages limit"},
		// PDFium does not believe a declared count its page tree cannot
		// hold, and does not loop on a tree that holds itself: the page
		// it reaches is read, the kid that loops is at most a blank page.
		{name: "huge-page-count.pdf", committed: true, gen: pdfHugeCount, state: done, check: onePage},
		{name: "page-cycle.pdf", committed: true, gen: pdfCycle, state: done,
			check: func(t *testing.T, d api.Document, text string) {
				require.LessOrEqual(t, d.PageCount, 2)
				require.Contains(t, text, "cycle")
			}},
		// The HTML walk is bounded in depth; the text is all there.
		{name: "deep.html", gen: func() []byte { return deepHTML(50_000) }, state: done,
			check: func(t *testing.T, _ api.Document, text string) { require.Contains(t, text, "deep text") }},
		{name: "deep-mime.eml", committed: true, gen: func() []byte { return deepMIME(40) }, state: failed, reason: "malformed MIME"},
		// A multipart without a boundary is read as one part, as mail
		// clients do.
		{name: "no-boundary.eml", committed: true, gen: brokenMIME, state: done,
			check: func(t *testing.T, d api.Document, _ string) { require.Equal(t, "broken", d.Title) }},
		{name: "pixel-bomb.png", committed: true, gen: func() []byte { return pngBomb(100_000, 100_000) }, state: failed, reason: "decompressed size limit"},
		{name: "executable.pdf", committed: true, gen: elf, state: failed, reason: unsupported + ": application/x-executable"},
		{name: "nul-bytes.txt", committed: true, gen: func() []byte { return []byte("before\x00\x00\x00after\x00") }, state: failed,
			reason: unsupported + ": application/octet-stream"},
		// Invalid UTF-8 in a text: the text is stored with U+FFFD.
		{name: "invalid-utf8.txt", committed: true, gen: func() []byte { return []byte("caf\xc3 na\xefve \xff\xfe r\xe9sum\xe9 \xed\xa0\x80 end") }, state: done,
			check: func(t *testing.T, _ api.Document, text string) { require.Contains(t, text, "end") }},
	}
}

// truncatedText checks a document whose text was cut at the text limit.
func truncatedText(t *testing.T, d api.Document, text string) {
	t.Helper()
	require.True(t, d.TextTruncated, "text_truncated")
	require.LessOrEqual(t, len(text), hostileMaxText)
	require.Greater(t, len(text), hostileMaxText/2)
	require.Equal(t, strings.Repeat("A", 100), text[:100])
}

// hostileData returns a hostile file's content: the committed file, or the
// generated one.
func hostileData(t *testing.T, h hostileFile) []byte {
	if !h.committed {
		return h.gen()
	}
	data, err := os.ReadFile(filepath.Join("..", "testdata", "hostile", h.name))
	require.NoError(t, err)
	return data
}

// TestHostileCommitted checks that the committed hostile files are what
// their generators make, so that the README and the generators describe
// them; QUIRE_UPDATE_HOSTILE=1 writes them.
func TestHostileCommitted(t *testing.T) {
	t.Parallel()
	for _, h := range hostileCorpus() {
		if !h.committed {
			continue
		}
		path := filepath.Join("..", "testdata", "hostile", h.name)
		if os.Getenv("QUIRE_UPDATE_HOSTILE") == "1" {
			require.NoError(t, os.WriteFile(path, h.gen(), 0o644))
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, h.gen(), data, "%s differs from its generator: QUIRE_UPDATE_HOSTILE=1 go test ./pipeline -run TestHostileCommitted", h.name)
		require.Less(t, len(data), 16<<10, "%s: committed hostile files stay small", h.name)
	}
}

// TestHostile uploads every file of the hostile corpus through the REST
// API to one worker: each ends in its final state (failed with its
// specific reason, or done within the limits), and the same worker then
// processes good documents. An empty upload and one over the size limit
// are refused at once and leave nothing behind.
func TestHostile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := embedded(t, hostileLimits)
	srv := httptest.NewServer(api.New(e.p, e.store, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	upload := func(name string, data []byte) (int, []byte) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/v1/documents?name="+url.QueryEscape(name), "application/octet-stream", bytes.NewReader(data))
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		if resp.StatusCode >= 400 {
			require.Equal(t, api.ProblemMediaType, resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, body
	}
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return body
	}
	// final waits for a document's final state and returns it.
	final := func(id string) api.Document {
		t.Helper()
		var d api.Document
		require.Eventually(t, func() bool {
			require.NoError(t, json.Unmarshal(get("/api/v1/documents/"+id), &d))
			return d.State == string(store.StateDone) || d.State == string(store.StateFailed)
		}, 3*time.Minute, 50*time.Millisecond, id)
		return d
	}

	corpus := hostileCorpus()
	ids := make([]string, len(corpus))
	for i, h := range corpus {
		data := hostileData(t, h)
		require.LessOrEqual(t, len(data), hostileMaxBytes, "%s must fit the upload limit", h.name)
		code, body := upload(h.name, data)
		require.Equal(t, http.StatusCreated, code, "%s: %s", h.name, body)
		var d api.Document
		require.NoError(t, json.Unmarshal(body, &d))
		ids[i] = d.ID
	}
	for i, h := range corpus {
		t.Run(h.name, func(t *testing.T) {
			d := final(ids[i])
			require.Equal(t, string(h.state), d.State, "%s: %s", h.name, d.FailureReason)
			if h.state == store.StateFailed {
				require.Contains(t, d.FailureReason, h.reason)
				require.Equal(t, "extract", d.FailedStage)
				return
			}
			text := string(get("/api/v1/documents/" + ids[i] + "/text"))
			if h.check != nil {
				h.check(t, d, text)
			}
		})
	}

	// The same worker goes on: a real document, and a PDF without an
	// information dictionary (which PDFium reads without metadata).
	for name, data := range map[string][]byte{
		"good.txt": []byte("A good document after the hostile ones."),
		"good.pdf": testdocs.PDF(`<< /Type /Catalog /Pages 2 0 R >>`, `<< /Type /Pages /Kids [3 0 R] /Count 1 >>`, pdfPage, pdfContent("good page"), pdfFont),
	} {
		code, body := upload(name, data)
		require.Equal(t, http.StatusCreated, code, "%s: %s", name, body)
		var d api.Document
		require.NoError(t, json.Unmarshal(body, &d))
		d = final(d.ID)
		require.Equal(t, string(store.StateDone), d.State, "%s: %s", name, d.FailureReason)
		require.Contains(t, string(get("/api/v1/documents/"+d.ID+"/text")), "good")
	}

	// Refused at the door, leaving no document and no blob behind.
	before, err := e.store.Stats(ctx)
	require.NoError(t, err)
	blobsBefore := countFiles(t, e.blobDir)
	code, body := upload("empty.txt", nil)
	require.Equal(t, http.StatusBadRequest, code, string(body))
	require.Contains(t, string(body), "document is empty")
	code, body = upload("huge.txt", bytes.Repeat([]byte("a"), hostileMaxBytes+1))
	require.Equal(t, http.StatusRequestEntityTooLarge, code, string(body))
	require.Contains(t, string(body), "too large")
	after, err := e.store.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, before.Documents, after.Documents)
	require.Equal(t, blobsBefore, countFiles(t, e.blobDir))
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return err
	}))
	return n
}
