package extract

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newOCRTestExtractor returns an extractor of the test's own, closed at its
// end, and its OCR engine.
func newOCRTestExtractor(t *testing.T, cfg Config) (*Extractor, *ocrEngine) {
	t.Helper()
	x := New(cfg)
	t.Cleanup(func() { require.NoError(t, x.Close()) })
	o := x.ocr()
	require.NoError(t, o.err)
	return x, o
}

// idlePIDs returns the process IDs of the engine's idle tesseracts.
func idlePIDs(o *ocrEngine) []int {
	o.pool.mu.Lock()
	defer o.pool.mu.Unlock()
	var pids []int
	for _, p := range o.pool.idle {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// idleProcesses returns how many processes wait for an image.
func (o *ocrEngine) idleProcesses() int { return len(idlePIDs(o)) }

// exited reports whether the process pid is gone (or a zombie no one
// waits for, which Wait has reaped by the time stop returns).
func exited(pid int) bool {
	return syscall.Kill(pid, 0) != nil
}

// TestOCRProcessReadsMany reads images one after the other: one tesseract
// reads them all, and what it reads is what a run of its own reads.
func TestOCRProcessReadsMany(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	x, o := newOCRTestExtractor(t, Config{OCRLanguages: "eng"})
	img := testdataFile(t, "images/text.png")

	var pid int
	for i := range 3 {
		res, err := extractImageData(x, "image/png", img)
		require.NoError(t, err)
		require.Equal(t, []Page{{Number: 1, Text: textPNGLine1 + "\n" + textPNGLine2, OCR: true}}, res.Pages, "image %d", i)
		pids := idlePIDs(o)
		require.Len(t, pids, 1)
		if i == 0 {
			pid = pids[0]
		}
		require.Equal(t, pid, pids[0], "image %d was read by another process", i)
	}

	// The same text, byte for byte, as a run of its own reads, in each
	// language and for a page given its resolution.
	deu := testdataFile(t, "ocr/deu.png")
	for _, c := range []struct {
		img   []byte
		dpi   int
		langs string
	}{{img, 0, "eng"}, {deu, 0, "deu"}, {deu, 0, "eng+deu"}, {img, 300, "eng"}} {
		once, err := o.tesseractRun(context.Background(), c.img, c.dpi, c.langs)
		require.NoError(t, err)
		streamed, err := o.readStreamed(context.Background(), c.img, ocrKey{langs: c.langs, dpi: c.dpi})
		require.NoError(t, err)
		require.Equal(t, once, streamed, "%s at %d dpi", c.langs, c.dpi)
		require.NotEmpty(t, strings.TrimSpace(streamed))
	}
}

// TestOCRProcessFails sends an image tesseract cannot read: the document
// fails with tesseract's cause, and the next image is read by a new
// process. A process that dies while idle costs no document: the image
// goes to a fresh one.
func TestOCRProcessFails(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	x, o := newOCRTestExtractor(t, Config{OCRLanguages: "eng"})
	img := testdataFile(t, "images/text.png")

	_, err := extractImageData(x, "image/png", img)
	require.NoError(t, err)
	first := idlePIDs(o)
	require.Len(t, first, 1)

	_, err = extractImageData(x, "image/png", img[:len(img)/3])
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "tesseract")
	require.NotContains(t, err.Error(), os.TempDir()+string(filepath.Separator)+"quire-ocr", "the cause names Quire's file")
	require.Empty(t, idlePIDs(o))
	require.Eventually(t, func() bool { return exited(first[0]) }, 5*time.Second, 10*time.Millisecond)

	res, err := extractImageData(x, "image/png", img)
	require.NoError(t, err)
	require.Contains(t, res.Text, textPNGLine2)
	second := idlePIDs(o)
	require.Len(t, second, 1)
	require.NotEqual(t, first, second)

	require.NoError(t, syscall.Kill(second[0], syscall.SIGKILL))
	res, err = extractImageData(x, "image/png", img)
	require.NoError(t, err)
	require.Contains(t, res.Text, textPNGLine2)
	third := idlePIDs(o)
	require.Len(t, third, 1)
	require.NotEqual(t, second, third)
}

// TestOCRProcessesBounded keeps no more processes waiting than there are
// slots to run them in, stops those that wait too long, and all of them
// when the extractor closes.
func TestOCRProcessesBounded(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	x, o := newOCRTestExtractor(t, Config{OCRLanguages: "eng+deu"})
	o.slots = make(chan struct{}, 2)
	img := testdataFile(t, "images/text.png")

	var all []int
	for _, langs := range []string{"eng", "deu", "eng+deu"} {
		_, err := o.readStreamed(context.Background(), img, ocrKey{langs: langs})
		require.NoError(t, err)
		all = append(all, idlePIDs(o)...)
	}
	idle := idlePIDs(o)
	require.Len(t, idle, 2)
	require.NotContains(t, idle, all[0], "the least recently used process is stopped first")
	require.True(t, exited(all[0]))

	require.NoError(t, x.Close())
	require.Zero(t, o.idleProcesses())
	for _, pid := range idle {
		require.True(t, exited(pid), "process %d runs after Close", pid)
	}

	_, o2 := newOCRTestExtractor(t, Config{OCRLanguages: "eng"})
	o2.pool.idleFor = 100 * time.Millisecond
	_, err := o2.readStreamed(context.Background(), img, ocrKey{langs: "eng"})
	require.NoError(t, err)
	pids := idlePIDs(o2)
	require.Len(t, pids, 1)
	require.Eventually(t, func() bool { return o2.idleProcesses() == 0 && exited(pids[0]) }, 5*time.Second, 10*time.Millisecond)
}

// TestOCRNotStreaming runs a tesseract that reads no stream of file names:
// images are read by runs of their own, as before streaming.
func TestOCRNotStreaming(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "tesseract")
	writeScript(t, path, []byte(`#!/bin/sh
case "$1" in
--list-langs) printf 'List of available languages (1):\neng\n' ;;
stdin) cat >/dev/null; echo 'read from stdin' ;;
*) echo "unknown option $1" >&2; exit 1 ;;
esac
`))
	x, o := newOCRTestExtractor(t, Config{TesseractPath: path})
	for range 2 {
		res, err := extractImageData(x, "image/png", testdataFile(t, "images/text.png"))
		require.NoError(t, err)
		require.Equal(t, "read from stdin", res.Text)
	}
	require.True(t, o.pool.off.Load())
	require.Zero(t, o.idleProcesses())
}

// BenchmarkOCRSmallImage reads a two-line image in a run of its own and in
// a running process.
func BenchmarkOCRSmallImage(b *testing.B) {
	requireTesseract(b)
	x := New(Config{OCRLanguages: "eng+deu"})
	defer x.Close()
	o := x.ocr()
	img := testdataFile(b, "images/text.png")
	ctx := context.Background()
	b.Run("run", func(b *testing.B) {
		for b.Loop() {
			if _, err := o.tesseractRun(ctx, img, 0, "eng+deu"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		for b.Loop() {
			if _, err := o.readStreamed(ctx, img, ocrKey{langs: "eng+deu"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestOCRSlotsFollowGOMAXPROCS runs as many tesseracts at once as Go runs
// threads, which follows a container's CPU limit, not the node's cores.
// Not parallel: it changes GOMAXPROCS.
func TestOCRSlotsFollowGOMAXPROCS(t *testing.T) {
	requireTesseract(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	_, o := newOCRTestExtractor(t, Config{OCRLanguages: "eng"})
	require.Equal(t, 3, cap(o.slots))
}

// TestOCRStaleFilesRemoved removes the image files a killed process left
// an hour or more ago, and no other.
func TestOCRStaleFilesRemoved(t *testing.T) {
	t.Parallel()
	requireTesseract(t)
	stale, err := ocrTempFile("quire-ocr-*.img", []byte("left by a killed process"))
	require.NoError(t, err)
	old := time.Now().Add(-2 * ocrStaleAfter)
	require.NoError(t, os.Chtimes(stale, old, old))
	fresh, err := ocrTempFile("quire-ocr-*.pgm", ocrBlankPage)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.Remove(fresh); _ = os.Remove(stale) })

	newOCRTestExtractor(t, Config{OCRLanguages: "eng"})
	require.NoFileExists(t, stale)
	require.FileExists(t, fresh)
}
