package extract

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every committed document is detected as what it is.
func TestDetectTestdata(t *testing.T) {
	want := map[string]string{
		"text/sotu-1932-hoover.txt":               typeText,
		"text/sotu-1790-washington.json":          typeJSON,
		"text/sotu-index.csv":                     typeCSV,
		"text/stdlib-sotu-readme.md":              typeMarkdown,
		"text/udhr-fra.cp1252.txt":                typeText,
		"text/udhr-rus.cp1251.txt":                typeText,
		"office/udhr.docx":                        typeDOCX,
		"office/udhr.pptx":                        typePPTX,
		"office/udhr-fra.odt":                     typeODT,
		"office/udhr.odp":                         typeODP,
		"office/sotu.ods":                         typeODS,
		"office/sotu.xlsx":                        typeXLSX,
		"office/encrypted.xlsx":                   typeXLSX,
		"office/fidelity.docx":                    typeDOCX,
		"office/fidelity.pptx":                    typePPTX,
		"office/fidelity.xlsx":                    typeXLSX,
		"office/fidelity.odt":                     typeODT,
		"hostile/zipbomb.docx":                    typeDOCX,
		"hostile/truncated.docx":                  typeDOCX,
		"hostile/billion-laughs.docx":             typeDOCX,
		"hostile/external-entity.docx":            typeDOCX,
		"hostile/huge-page-count.pdf":             "application/pdf",
		"hostile/page-cycle.pdf":                  "application/pdf",
		"hostile/deep-mime.eml":                   typeEmail,
		"hostile/no-boundary.eml":                 typeEmail,
		"hostile/pixel-bomb.png":                  "image/png",
		"hostile/executable.pdf":                  "application/x-executable",
		"hostile/nul-bytes.txt":                   typeOctetStream,
		"hostile/invalid-utf8.txt":                typeText,
		"hostile/README.md":                       typeMarkdown,
		"email/spamassassin-easy-ham-1-00001.eml": typeEmail,
		"email/spamassassin-easy-ham-1-00775.eml": typeEmail,
		"email/spamassassin-easy-ham-2-01248.eml": typeEmail,
		"email/spamassassin-hard-ham-1-00233.eml": typeEmail,
		"email/spamassassin-spam-1-00467.eml":     typeEmail,
		"email/spamassassin-spam-2-00174.eml":     typeEmail,
		"email/spamassassin-spam-2-00204.eml":     typeEmail,
		"email/spamassassin-spam-2-00414.eml":     typeEmail,
		"email/spamassassin-spam-2-01106.eml":     typeEmail,
	}
	for _, name := range []string{"arb", "cmn_hans", "deu_1996", "eng", "fra", "jpn", "rus"} {
		want["html/udhr-"+name+".html"] = typeHTML
	}
	for _, name := range ownTestdata(t) {
		w, ok := want[name]
		if !assert.True(t, ok, "%s: add it to this table", name) {
			continue
		}
		assert.Equal(t, w, Detect(filepath.Base(name), testdataFile(t, name)), name)
	}
}

// Content wins over a name that contradicts it; a name decides only what
// content cannot.
func TestDetectMisnamed(t *testing.T) {
	cases := []struct {
		file, name, want string
	}{
		// Binary containers are what their content says.
		{"office/udhr.docx", "report.txt", typeDOCX},
		{"office/udhr.docx", "report.xlsx", typeDOCX},
		{"office/sotu.xlsx", "sheet.docx", typeXLSX},
		{"office/udhr.pptx", "slides.odp", typePPTX},
		{"office/udhr-fra.odt", "letter.docx", typeODT},
		{"office/sotu.ods", "sheet.xlsx", typeODS},
		{"office/udhr.docx", "", typeDOCX},
		{"office/udhr.odp", "", typeODP},
		// Text with a signature of its own.
		{"html/udhr-eng.html", "declaration.txt", typeHTML},
		{"html/udhr-rus.html", "", typeHTML},
		{"text/sotu-1790-washington.json", "speech.txt", typeJSON},
		{"text/sotu-1790-washington.json", "", typeJSON},
		{"email/spamassassin-easy-ham-1-00001.eml", "message.txt", typeEmail},
		{"email/spamassassin-easy-ham-1-00775.eml", "", typeEmail},
		{"email/spamassassin-spam-2-00414.eml", "mail.html", typeEmail},
		// Prose named as CSV is taken for CSV: plain text cannot say
		// otherwise. CSV named .txt is plain text.
		{"text/sotu-1932-hoover.txt", "speech.csv", typeCSV},
		{"text/sotu-index.csv", "index.txt", typeText},
		{"text/sotu-1932-hoover.txt", "", typeText},
		// Markdown may start with HTML; named .md it is Markdown.
		{"text/stdlib-sotu-readme.md", "README.markdown", typeMarkdown},
		// A damaged container is what its name says, so that it fails as
		// a corrupt one; an encrypted OOXML file is a CFB container.
		{"hostile/truncated.docx", "", typeDOCX},
		{"office/encrypted.xlsx", "budget.docx", typeDOCX},
		{"office/encrypted.xlsx", "", typeOLE},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Detect(c.name, testdataFile(t, c.file)), "%s named %q", c.file, c.name)
	}
}

// A PDF named as text is a PDF.
func TestDetectPDFNamedText(t *testing.T) {
	pdfs, _ := filepath.Glob(filepath.Join("..", "testdata", "pdf", "*.pdf"))
	if len(pdfs) == 0 {
		t.Skip("no PDF in testdata/pdf")
	}
	data, err := os.ReadFile(pdfs[0])
	require.NoError(t, err)
	assert.Equal(t, "application/pdf", Detect("notes.txt", data))
	assert.Equal(t, "application/pdf", Detect("", data))
}

// mimetype reads only the first few KiB, where an office suite may have
// put a thumbnail before the document part; the central directory still
// names the container.
func TestDetectLateOOXMLEntries(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	thumb := make([]byte, 16<<10)
	for i := range thumb {
		thumb[i] = byte(i * 7)
	}
	src, err := zip.NewReader(bytes.NewReader(testdataFile(t, "office/udhr.docx")), int64(len(testdataFile(t, "office/udhr.docx"))))
	require.NoError(t, err)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "docProps/thumbnail.jpeg", Method: zip.Store})
	require.NoError(t, err)
	_, err = w.Write(thumb)
	require.NoError(t, err)
	for _, f := range src.File {
		require.NoError(t, zw.Copy(f))
	}
	require.NoError(t, zw.Close())
	assert.Equal(t, typeDOCX, Detect("", buf.Bytes()))

	res, err := New(Config{}).Extract(t.Context(), &Input{Data: buf.Bytes()})
	require.NoError(t, err)
	assert.Contains(t, res.Text, "All human beings are born free and equal in dignity and rights.")
}

func TestDetectParameters(t *testing.T) {
	// mimetype says "text/plain; charset=utf-8"; types carry no parameters.
	assert.Equal(t, typeText, Detect("a.txt", []byte("plain words\n")))
	assert.Equal(t, typeText, Detect("", nil))
	assert.Equal(t, typeOctetStream, Detect("a.bin", []byte{0, 1, 2, 3, 0, 0, 0xff}))
	// Legacy text with a DOS end-of-file byte, named as text.
	assert.Equal(t, typeText, Detect("old.txt", []byte("Fellow-Citizens of the Senate\r\n\x1a")))
	// The name may carry a path from either kind of system.
	assert.Equal(t, typeCSV, Detect(`C:\Users\me\index.CSV`, testdataFile(t, "text/sotu-index.csv")))
}
