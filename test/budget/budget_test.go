// Package budget checks the memory discipline of document processing from
// outside, as an operator sizing a pod would: decompression bombs go
// through the real quire binary, and the process's peak resident memory
// (what the kernel reports as VmHWM, read from the child's rusage) must stay
// within the budget docs/operations.md states.
package budget

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveQuire()
	os.Exit(code)
}

const (
	// docxBombText is what the DOCX bomb's one paragraph inflates to.
	docxBombText = 600 << 20
	// pdfBombStream is what the PDF bomb's one content stream inflates to.
	pdfBombStream = 1 << 30
	// oneBombRSS is the most a quire process may hold, at its peak, to read
	// one bomb: the process itself (about 150 MiB with the language models)
	// and one document's budget.
	oneBombRSS = 400 << 20
)

// TestOneBomb runs one bomb of each kind through quire process: the DOCX
// ends done with its text cut at the text limit, the PDF fails on the PDF
// engine's memory limit, the tar.gz on the decompressed size limit, its
// member never held, and none takes the process past oneBombRSS.
func TestOneBomb(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildQuire(t)
	tests := []struct {
		name   string
		data   func() []byte
		done   bool
		reason string
	}{
		{name: "bomb.docx", data: func() []byte { return docxBomb(t, 0) }, done: true},
		{name: "bomb.pdf", data: func() []byte { return pdfBomb(t, 0) }, reason: "PDF memory limit"},
		{name: "bomb.tar.gz", data: func() []byte { return tarGzBomb(t) }, reason: "document exceeds the decompressed size limit of 500 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			require.NoError(t, os.MkdirAll(in, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(in, tt.name), tt.data(), 0o600))
			data := filepath.Join(dir, "data")

			sum, peak := process(t, bin, data, in)
			t.Logf("%s: peak RSS %d MiB (budget %d MiB), %+v", tt.name, peak>>20, oneBombRSS>>20, sum)
			require.Equal(t, 1, sum.Total)
			if tt.done {
				require.Equal(t, 1, sum.Done, "reasons: %v", sum.Reasons)
				requireTruncated(t, data, 1)
			} else {
				require.Equal(t, 1, sum.Failed)
				requireReason(t, sum, tt.reason)
			}
			require.LessOrEqual(t, peak, int64(oneBombRSS), "peak RSS %d MiB", peak>>20)
		})
	}
}

// TestConcurrentBombs runs four of each bomb at once through quire process
// at its default concurrency. The peak is recorded in docs/reliability.md;
// the bound checked is the budget of docs/operations.md: the process, one
// PDF instance at its memory limit, and a document's text budget (its
// copies included) for each job running.
func TestConcurrentBombs(t *testing.T) {
	t.Parallel()
	bin := testenv.BuildQuire(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	require.NoError(t, os.MkdirAll(in, 0o700))
	const n = 4
	for i := range n {
		require.NoError(t, os.WriteFile(filepath.Join(in, fmt.Sprintf("bomb-%d.docx", i)), docxBomb(t, i), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(in, fmt.Sprintf("bomb-%d.pdf", i)), pdfBomb(t, i), 0o600))
	}
	data := filepath.Join(dir, "data")
	sum, peak := process(t, bin, data, in)
	// docs/operations.md, "Memory budget": the process, one PDF engine,
	// and per job the document and eight times the text limit. The jobs
	// that hold text are the DOCX bombs; the PDFs wait for the one engine.
	const (
		process   = 224 << 20
		pdfMemory = 192 << 20 // --max-pdf-memory
		maxText   = 16 << 20  // --max-text-bytes
		jobs      = n
	)
	budget := int64(process + pdfMemory + jobs*(len(docxBomb(t, 0))+8*maxText))
	t.Logf("%d DOCX and %d PDF bombs at once: peak RSS %d MiB (budget %d MiB), %+v", n, n, peak>>20, budget>>20, sum)
	require.Equal(t, 2*n, sum.Total)
	require.Equal(t, n, sum.Done, "reasons: %v", sum.Reasons)
	require.Equal(t, n, sum.Failed)
	requireReason(t, sum, "PDF memory limit")
	requireTruncated(t, data, n)
	require.LessOrEqual(t, peak, budget, "peak RSS %d MiB", peak>>20)
}

// summary is the last line of quire process --json.
type summary struct {
	Total   int            `json:"total"`
	Done    int            `json:"done"`
	Failed  int            `json:"failed"`
	Reasons map[string]int `json:"reasons"`
}

// process runs quire process on in and returns its summary and its peak
// resident memory in bytes.
func process(t *testing.T, bin, dataDir, in string) (summary, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "process", "--json", "--data-dir", dataDir, in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("quire process: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var sum summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &sum), "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	require.True(t, ok, "no rusage on this system")
	return sum, ru.Maxrss << 10 // kilobytes on Linux
}

func requireReason(t *testing.T, sum summary, want string) {
	t.Helper()
	for r := range sum.Reasons {
		if strings.Contains(r, want) {
			return
		}
	}
	t.Fatalf("no failure names %q: %v", want, sum.Reasons)
}

// requireTruncated checks that n documents of the store in dataDir ended
// done with their text truncated, and say so in their audit trail.
func requireTruncated(t *testing.T, dataDir string, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dataDir, "quire.db"))
	require.NoError(t, err)
	defer st.Close()
	list, err := st.ListDocuments(ctx, &store.ListDocumentsParams{State: store.StateDone})
	require.NoError(t, err)
	truncated := 0
	for _, d := range list.Documents {
		if !d.TextTruncated {
			continue
		}
		truncated++
		events, err := st.ListEvents(ctx, d.ID)
		require.NoError(t, err)
		said := false
		for _, e := range events {
			said = said || strings.Contains(e.Message, "text truncated")
		}
		require.True(t, said, "no event says %s was truncated: %+v", d.ID, events)
	}
	require.Equal(t, n, truncated)
}

// The bombs' compressed payloads are made once and shared by every
// variant: each variant differs by a few bytes elsewhere, so that the
// pipeline, which stores content once, sees distinct documents.
var (
	docxPayload = sync.OnceValue(func() compressed { return deflated(docxBombText, wordText) })
	pdfPayload  = sync.OnceValue(func() []byte {
		var b bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
		chunk := repeatTo("(All work and no play makes Jack a dull boy) Tj 0 -1 Td\n", 1<<20)
		zw.Write([]byte("BT /F1 12 Tf 72 712 Td\n"))
		for n := 0; n < pdfBombStream; n += len(chunk) {
			zw.Write(chunk)
		}
		zw.Write([]byte("ET\n"))
		zw.Close()
		return b.Bytes()
	})
)

// wordText is the start, one chunk of words and the end of a document part
// whose one paragraph holds the chunk as often as it takes.
var wordText = [3]string{
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>`,
	"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu ",
	`</w:t></w:r></w:p></w:body></w:document>`,
}

type compressed struct {
	data       []byte
	crc        uint32
	size       uint64
	compressed uint64
}

// deflated compresses the start, the chunk repeated to n bytes, and the
// end of parts.
func deflated(n int, parts [3]string) compressed {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	h := crc32.NewIEEE()
	var size uint64
	write := func(p []byte) {
		fw.Write(p)
		h.Write(p)
		size += uint64(len(p))
	}
	write([]byte(parts[0]))
	chunk := repeatTo(parts[1], 1<<20)
	for w := 0; w < n; w += len(chunk) {
		write(chunk)
	}
	write([]byte(parts[2]))
	fw.Close()
	return compressed{data: b.Bytes(), crc: h.Sum32(), size: size, compressed: uint64(b.Len())}
}

func repeatTo(s string, n int) []byte {
	return bytes.Repeat([]byte(s), n/len(s)+1)[:n/len(s)*len(s)]
}

// docxBomb is a DOCX of about 1.5 MB whose one paragraph inflates to 600
// MiB of text; variant changes its title.
func docxBomb(t *testing.T, variant int) []byte {
	t.Helper()
	p := docxPayload()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, s string) {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(s))
		require.NoError(t, err)
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>`)
	add("docProps/core.xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Bomb %d</dc:title></cp:coreProperties>`, variant))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate,
		CRC32: p.crc, CompressedSize64: p.compressed, UncompressedSize64: p.size})
	require.NoError(t, err)
	_, err = w.Write(p.data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// pdfBomb is a one-page PDF of about 3 MB whose content stream inflates to
// 1 GiB of text-showing operators; variant changes its title.
func pdfBomb(t *testing.T, variant int) []byte {
	t.Helper()
	return testdocs.PDFOnePage(testdocs.PDFStream("/Filter /FlateDecode", pdfPayload()), fmt.Sprintf("<< /Title (Bomb %d) >>", variant))
}

// tarGzBombMember is what the tar.gz bomb's one member holds: zeros, far
// past the largest document (--max-document-bytes) and what an archive may
// inflate to (the extractor's decompressed size limit, 500 MiB).
const tarGzBombMember = 1 << 30

// tarGzBomb is a gzip file of about 1 MB holding a tar of one member of
// tarGzBombMember zeros: a gzip file may hold several members one after
// the other, so the zeros are one compressed mebibyte repeated.
func tarGzBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := func(p []byte) {
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		require.NoError(t, err)
		_, err = zw.Write(p)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "zeros.bin", Mode: 0o644, Size: tarGzBombMember, Typeflag: tar.TypeReg}))
	gz(hdr.Bytes()) // the header only: tw is not closed, its member unwritten
	var block bytes.Buffer
	before := buf.Len()
	gz(make([]byte, 1<<20))
	block.Write(buf.Bytes()[before:])
	for range tarGzBombMember>>20 - 1 {
		buf.Write(block.Bytes())
	}
	gz(make([]byte, 1024)) // the tar's end: two zero blocks
	return buf.Bytes()
}
