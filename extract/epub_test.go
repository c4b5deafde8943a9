package extract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func epubFile(t testing.TB, name string) []byte {
	t.Helper()
	return testdataFile(t, "formats/epub/"+name)
}

// encryptionXML lists resources as encrypted with algorithm.
func encryptionXML(algorithm string, uris ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">`)
	for _, u := range uris {
		b.WriteString(`<enc:EncryptedData><enc:EncryptionMethod Algorithm="` + algorithm + `"/><enc:CipherData><enc:CipherReference URI="` + u + `"/></enc:CipherData></enc:EncryptedData>`)
	}
	b.WriteString(`</encryption>`)
	return b.String()
}

// withEntry returns a copy of a ZIP container with one entry added or
// replaced.
func withEntry(t testing.TB, data []byte, name, content string) []byte {
	t.Helper()
	return editZip(t, data, func(n string, _ []byte) ([]zipEntry, bool) { return nil, n != name },
		zipEntry{name, []byte(content)})
}

func TestEPUB(t *testing.T) {
	t.Parallel()
	const aes = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	udhr := epubFile(t, "udhr.epub")
	tests := []struct {
		name string
		data []byte
		typ  string // as the pipeline passes it; empty: detected
		lim  Limits
		// err, or the text's passages in order, and what it must not hold.
		err      error
		limit    string
		passages []string
		absent   []string
		warning  string
		check    func(t *testing.T, res *Result)
	}{
		{name: "udhr.epub", data: udhr,
			passages: []string{
				"Universal Declaration of Human Rights\nPreamble\nWhereas recognition of the inherent dignity",
				// The next chapter of the spine, after a blank line; its
				// file name is percent-encoded in the manifest.
				"\n\nArticle 1\nAll human beings are born free and equal in dignity and rights.",
				"Article 30\nNothing in this Declaration",
				// The French chapter is last in the spine (first in the
				// manifest).
				"\n\nDéclaration universelle des droits de l’homme",
				"Aucune disposition de la présente Déclaration",
			},
			// The navigation document and the style sheet are not in the
			// spine.
			absent: []string{"Contents", "font-family"},
			check: func(t *testing.T, res *Result) {
				require.Equal(t, "Universal Declaration of Human Rights", res.Title)
				require.Equal(t, "United Nations General Assembly, Quire test data", res.Author)
				require.Equal(t, time.Date(1948, 12, 10, 0, 0, 0, 0, time.UTC), res.Created)
				require.Equal(t, "en", res.Meta["lang"])
				require.Equal(t, "United Nations", res.Meta["publisher"])
				require.Equal(t, "1998-12-10T12:00:00Z", res.Meta["modified"])
			}},
		// An EPUB 2 whose first entry is META-INF/ (a Java archive to
		// mimetype), without a mimetype entry.
		{name: "udhr-epub2.epub", data: epubFile(t, "udhr-epub2.epub"),
			passages: []string{"Déclaration universelle des droits de l’homme\nPréambule\nConsidérant que", "Article 30"},
			check: func(t *testing.T, res *Result) {
				require.Equal(t, "Nations unies", res.Author)
				require.Equal(t, 1948, res.Created.Year())
				require.Equal(t, "fr", res.Meta["lang"])
			}},
		// The pipeline detects from the first bytes only: a ZIP or Java
		// archive there is read as the EPUB it is.
		{name: "as zip", data: udhr, typ: typeZip, passages: []string{"Preamble"}},
		{name: "as jar", data: epubFile(t, "udhr-epub2.epub"), typ: typeJar, passages: []string{"Préambule"}},
		// Obfuscated fonts are not DRM.
		{name: "obfuscated fonts", data: withEntry(t, udhr, "META-INF/encryption.xml",
			encryptionXML("http://www.idpf.org/2008/embedding", "OEBPS/fonts/serif.otf")), passages: []string{"Preamble"}},
		{name: "one chapter encrypted", data: withEntry(t, udhr, "META-INF/encryption.xml", encryptionXML(aes, "OEBPS/text/fra.xhtml")),
			passages: []string{"Preamble", "Article 30"}, absent: []string{"Aucune disposition"},
			warning: "1 of 3 content documents are encrypted (DRM)"},
		{name: "every chapter encrypted", data: withEntry(t, udhr, "META-INF/encryption.xml",
			encryptionXML(aes, "OEBPS/text/fra.xhtml", "OEBPS/text/preamble.xhtml", "OEBPS/text/articles%20all.xhtml")), err: ErrEncrypted},
		{name: "missing chapter", data: rewriteZip(t, udhr, nil), passages: []string{"Preamble"}},
		{name: "no package document", data: withEntry(t, withEntry(t, udhr, "META-INF/container.xml", "<container/>"), "OEBPS/content.opf", "x"),
			err: ErrCorrupt},
		// Past the text limit: done, truncated, the chapters after it not
		// read.
		{name: "text limit", data: udhr, lim: Limits{MaxText: 2000}, passages: []string{"Preamble"}, absent: []string{"Article 30"},
			check: func(t *testing.T, res *Result) {
				require.True(t, res.Truncated)
				require.LessOrEqual(t, len(res.Text), 2000)
			}},
		// A chapter that inflates to 64 MiB: the decompressed size limit
		// stops it...
		{name: "bomb", data: withEntry(t, udhr, "OEBPS/text/preamble.xhtml", "<p>"+strings.Repeat("bomb ", 64<<20/5)+"</p>"),
			lim: Limits{MaxDecompressed: 8 << 20}, limit: "decompressed size"},
		// ... or, under a small text limit, the markup is read to four
		// times the text left and the document ends truncated.
		{name: "bomb under a small text limit", data: withEntry(t, udhr, "OEBPS/text/preamble.xhtml", "<p>"+strings.Repeat("bomb ", 64<<20/5)+"</p>"),
			lim: Limits{MaxText: 64 << 10}, passages: []string{"bomb bomb"},
			check: func(t *testing.T, res *Result) {
				require.True(t, res.Truncated)
				require.LessOrEqual(t, len(res.Text), 64<<10)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.typ == "" {
				require.Equal(t, typeEPUB, Detect(tt.name, tt.data))
			}
			res, err := New(Config{Limits: tt.lim}).Extract(context.Background(), &Input{Name: tt.name, Data: tt.data, Type: tt.typ})
			switch {
			case tt.err != nil:
				require.ErrorIs(t, err, tt.err)
				return
			case tt.limit != "":
				requireLimit(t, err, tt.limit)
				return
			}
			require.NoError(t, err)
			require.Equal(t, typeEPUB, res.Type)
			at := 0
			for _, p := range tt.passages {
				i := strings.Index(res.Text[at:], p)
				require.GreaterOrEqual(t, i, 0, "%q not in the text after byte %d", p, at)
				at += i + len(p)
			}
			for _, a := range tt.absent {
				require.NotContains(t, res.Text, a)
			}
			if tt.warning != "" {
				require.Contains(t, strings.Join(res.Warnings, "\n"), tt.warning)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// FuzzEPUB feeds the EPUB extractor arbitrary bytes, seeded with the
// committed EPUBs.
func FuzzEPUB(f *testing.F) {
	addSeeds(f, "formats/epub/udhr.epub", "formats/epub/udhr-epub2.epub")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeEPUB, data)
	})
}
