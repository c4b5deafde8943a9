package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
)

// TestLimitFlags runs process under small limits: a text over
// --max-text-bytes ends done with its text cut there, a file over
// --max-document-bytes fails naming that setting, and an invalid size
// stops the command at start with a message that names the setting.
func TestLimitFlags(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.MkdirAll(in, 0o700))
	long := strings.Repeat("All work and no play makes Jack a dull boy. ", 2000) // 88 KB
	require.NoError(t, os.WriteFile(filepath.Join(in, "long.txt"), []byte(long), 0o600))

	r := b.run(t, "process", in, "--json", "--log-level", "error", "--max-text-bytes", "16KiB")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Equal(t, 1, decodeLastLine[processResult](t, r).Done)
	st := b.embeddedStore(t)
	list, err := st.ListDocuments(t.Context(), &store.ListDocumentsParams{})
	require.NoError(t, err)
	require.Len(t, list.Documents, 1)
	doc := list.Documents[0]
	require.True(t, doc.TextTruncated)
	text, err := st.GetText(t.Context(), doc.ID)
	require.NoError(t, err)
	require.LessOrEqual(t, len(text), 16<<10)
	require.True(t, strings.HasPrefix(long, text))

	big := filepath.Join(t.TempDir(), "big.txt")
	require.NoError(t, os.WriteFile(big, []byte(long+"more"), 0o600))
	r = b.run(t, "process", big, "--json", "--log-level", "error", "--max-document-bytes", "64KiB")
	require.Equal(t, exitError, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stdout+r.stderr, "--max-document-bytes")

	for _, bad := range [][]string{
		{"--max-text-bytes", "lots"},
		{"--max-text-bytes", "12"},
		{"--max-pdf-memory", "8MiB"},
		{"--max-document-bytes", "0"},
	} {
		r := b.run(t, append([]string{"process", in, "--log-level", "error"}, bad...)...)
		require.Equal(t, exitUsage, r.code, "%v: stdout: %s\nstderr: %s", bad, r.stdout, r.stderr)
		require.Contains(t, r.stderr, bad[0], "%v", bad)
	}

	// The environment sets them too.
	r = b.runWith(t.Context(), t, &runOpts{env: map[string]string{"QUIRE_MAX_PDF_MEMORY": "1KiB"}}, "process", in, "--log-level", "error")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "QUIRE_MAX_PDF_MEMORY")
}

// TestProcessOCRLanguages reads testdata/ocr/deu.png, German with umlauts
// and ß, through process: with --ocr-languages deu its words are in the
// stored text, with English only (QUIRE_OCR_LANGUAGES=eng) they are not,
// and a language that is not installed stops the command at start, naming
// its Debian package.
func TestProcessOCRLanguages(t *testing.T) {
	t.Parallel()
	_, err := extract.New(extract.Config{OCRLanguages: "eng+deu"}).OCRLanguages()
	testenv.RequireService(t, "tesseract with English and German (apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu)", err)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "ocr/deu.png")

	storedText := func(b *testBundle) string {
		t.Helper()
		st := b.embeddedStore(t)
		list, err := st.ListDocuments(t.Context(), &store.ListDocumentsParams{})
		require.NoError(t, err)
		require.Len(t, list.Documents, 1)
		text, err := st.GetText(t.Context(), list.Documents[0].ID)
		require.NoError(t, err)
		return text
	}

	b := setupEmbedded(t)
	r := b.run(t, "process", in, "--json", "--log-level", "error", "--ocr-languages", "deu")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Equal(t, 1, decodeLastLine[processResult](t, r).Done)
	text := storedText(b)
	for _, w := range []string{"Größe", "Übersetzung", "geprüft", "Straßen", "Brücken", "Bäume"} {
		require.Contains(t, text, w)
	}

	b = setupEmbedded(t)
	r = b.runWith(t.Context(), t, &runOpts{env: map[string]string{"QUIRE_OCR_LANGUAGES": "eng"}}, "process", in, "--json", "--log-level", "error")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	text = storedText(b)
	require.Contains(t, text, "Quire liest")
	require.NotContains(t, text, "Größe")
	require.NotContains(t, text, "Übersetzung")

	for _, tt := range []struct{ value, says string }{
		{"eng+qqq", "tesseract-ocr-qqq"},
		{"eng++deu", "eng+deu"},
	} {
		r := setupEmbedded(t).run(t, "process", in, "--log-level", "error", "--ocr-languages", tt.value)
		require.Equal(t, exitUsage, r.code, "%s: stdout: %s\nstderr: %s", tt.value, r.stdout, r.stderr)
		require.Contains(t, r.stderr, "--ocr-languages / QUIRE_OCR_LANGUAGES", tt.value)
		require.Contains(t, r.stderr, tt.says, tt.value)
	}
}

// TestProcessOCRLanguageOfEmail processes two emails with
// testdata/ocr/deu.png attached, one written in German and one in English,
// with English and German installed: each attachment is read in its
// email's language alone (its metadata says which), so the German email's
// has its umlauts and the English one's does not.
func TestProcessOCRLanguageOfEmail(t *testing.T) {
	t.Parallel()
	_, err := extract.New(extract.Config{OCRLanguages: "eng+deu"}).OCRLanguages()
	testenv.RequireService(t, "tesseract with English and German (apt-get install tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu)", err)
	png, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "testdata", "ocr", "deu.png"))
	require.NoError(t, err)
	email := func(subject, body string) []byte {
		b64 := base64.StdEncoding.EncodeToString(png)
		var lines []string
		for len(b64) > 76 {
			lines, b64 = append(lines, b64[:76]), b64[76:]
		}
		lines = append(lines, b64)
		return []byte("From: Anna <anna@example.org>\r\nTo: team@example.org\r\nSubject: " + subject +
			"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n" +
			"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=scan.png\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n" + strings.Join(lines, "\r\n") + "\r\n--b--\r\n")
	}
	in := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.MkdirAll(in, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(in, "german.eml"), email("Die Übersetzung",
		"Die Zahlen sind gut, und das Team ist mit dem Ergebnis zufrieden. Der Vorstand wird die Arbeit auf der Sitzung vorstellen, und die Übersetzung ist im Anhang."), 0o644))
	// The attachment differs by a byte, so that it is a document of its own.
	png = append(png, 0)
	require.NoError(t, os.WriteFile(filepath.Join(in, "english.eml"), email("The translation",
		"The committee approved the budget for the next year, and the board is satisfied with the results that were presented. The scan is attached."), 0o644))

	b := setupEmbedded(t)
	r := b.run(t, "process", in, "--json", "--log-level", "error")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Equal(t, 4, decodeLastLine[processResult](t, r).Done)

	st := b.embeddedStore(t)
	list, err := st.ListDocuments(t.Context(), &store.ListDocumentsParams{})
	require.NoError(t, err)
	read := map[string]string{} // the parent's name: the attachment's OCR languages
	for _, d := range list.Documents {
		if d.ParentID == "" {
			continue
		}
		parent, err := st.GetDocument(t.Context(), d.ParentID)
		require.NoError(t, err)
		child, err := st.GetDocument(t.Context(), d.ID)
		require.NoError(t, err)
		read[parent.Name] = child.Metadata["ocr_languages"]
		text, err := st.GetText(t.Context(), d.ID)
		require.NoError(t, err)
		if parent.Name == "german.eml" {
			require.Contains(t, text, "Größe")
		} else {
			require.NotContains(t, text, "Größe")
		}
	}
	require.Equal(t, map[string]string{"german.eml": "deu", "english.eml": "eng"}, read)
}

// embeddedStore opens the embedded store a bundle's commands wrote, closed
// at the test's end.
func (b *testBundle) embeddedStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(b.dataDir, "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}
