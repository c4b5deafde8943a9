package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"
)

// formatCase is one file of testdata/formats and what it must read as.
type formatCase struct {
	file  string // under testdata/formats
	typ   string // detected from its content and name
	title string
	// author is checked when set.
	author string
	// has are passages the text holds, in this order; hasNot are not in it.
	has, hasNot []string
	// meta are entries Result.Meta holds.
	meta  map[string]string
	pages int
}

// checkFormatCases extracts each file by its own name, the way an upload
// arrives, and checks what it must read as.
func checkFormatCases(t *testing.T, cases []formatCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/"+tt.file)
			assert.Equal(t, tt.typ, res.Type)
			assert.Equal(t, tt.title, res.Title)
			if tt.author != "" {
				assert.Equal(t, tt.author, res.Author)
			}
			rest := res.Text
			for _, p := range tt.has {
				i := strings.Index(rest, p)
				if !assert.GreaterOrEqual(t, i, 0, "%q (in this order) in:\n%s", p, res.Text) {
					continue
				}
				rest = rest[i+len(p):]
			}
			for _, p := range tt.hasNot {
				assert.NotContains(t, res.Text, p)
			}
			for k, v := range tt.meta {
				assert.Equal(t, v, res.Meta[k], "Meta[%q]", k)
			}
			assert.Len(t, res.Pages, tt.pages)
			assert.False(t, res.Truncated)
			assert.True(t, utf8.ValidString(res.Text))
		})
	}
}

func TestXMLFormats(t *testing.T) {
	t.Parallel()
	checkFormatCases(t, []formatCase{
		{file: "xml/releases.atom", typ: typeAtom, title: "Quire release notes", author: "The Quire maintainers",
			has: []string{
				"Quire release notes\nWhat changed in Quire, release by release",
				"\n\nArchives unpack into child documents\nArchives and containers\nZip, tar and 7z members become documents of their own.",
				"Every member ends in a final state and is deduplicated by content.\nBombs stop at the memory budget.",
				"\n\nFlat ODF and XLIFF are read as text",
				"Translators' source and target segments are searchable.\nSo are calendars and subtitles.",
			},
			hasNot: []string{"urn:uuid", "2025-04-01", "https://", "<p>", "<em>", "Quire feed writer", "team@quire.example"},
			meta:   map[string]string{"dialect": "atom", "entries": "2", "lang": "en"}},
		{file: "xml/changes.rss", typ: typeRSS, title: "Quire changes",
			has: []string{
				"Quire changes\nNews from the Quire document platform",
				"\n\nLegacy Word documents are read natively",
				"The piece table, headers & footnotes of Word 97–2003 files.",
				"\n\nSubtitles are searchable\nWebVTT and SubRip cues, in order, without their timestamps.",
				"Tags such as bold are stripped.",
			},
			hasNot: []string{"news-doc-97", "https://", "GMT", "<i>", "<p>", "alert", "en-gb"},
			meta:   map[string]string{"dialect": "rss", "entries": "2"}},
		{file: "xml/messages.xlf", typ: typeXLIFF,
			has: []string{
				"Your document was processed.\nVotre document a été traité.\nShown after an upload.",
				"\n\nThe document could not be read: it is encrypted.\nLe document n’a pas pu être lu : il est chiffré.",
				"Press Save to keep it.\nAppuyez sur Enregistrer pour le garder.",
			},
			hasNot: []string{"Alternative that must not be read", "Header notes", "<b>", "messages.properties"},
			meta:   map[string]string{"dialect": "xliff", "entries": "3", "source_lang": "en", "target_lang": "fr"}},
		{file: "xml/messages-2.xlf", typ: typeXLIFF,
			has: []string{
				"Archives become child documents.\nArchive werden zu Kinddokumenten.",
				"Keep it short.\nNothing is lost.\nNichts geht verloren.",
			},
			hasNot: []string{"<br/>"},
			meta:   map[string]string{"dialect": "xliff", "source_lang": "en", "target_lang": "de"}},
		{file: "xml/offices.kml", typ: typeKML, title: "Quire offices",
			has: []string{
				"Quire offices\nWhere the Quire maintainers work.",
				"\n\nLyon office\nThird floor, ring twice.\nTeam\nExtraction",
				"\n\nEdinburgh office\n1 Royal Mile, Edinburgh",
			},
			hasNot: []string{"4.8357", "#pin", "pin.png", "500", "<b>"},
			meta:   map[string]string{"dialect": "kml", "entries": "2"}},
		{file: "xml/rivers.gml", typ: typeGML,
			has: []string{
				"Rhône\nRises in the Rhône Glacier and flows to the Mediterranean.\n813",
				"\n\nSaône\nJoins the Rhône at Lyon.",
			},
			hasNot: []string{"46.57", "48.0,6.0", "45.0 4.0", "EPSG"},
			meta:   map[string]string{"dialect": "gml", "entries": "2"}},
		{file: "xml/diagram.svg", typ: typeSVG, title: "Quire pipeline diagram",
			has: []string{
				"Quire pipeline diagram\nDocuments flow from ingest to extraction to analysis.\nIngest\nExtract text and metadata\nAnalyse\nArrow from ingest to extract",
			},
			hasNot: []string{"font-family", "notText", "Metadata that is not text", "M110"},
			meta:   map[string]string{"dialect": "svg"}},
		{file: "xml/guide.dbk", typ: typeDocBook, title: "Operating Quire", author: "Ada Lovelace",
			has: []string{
				"Operating Quire\nAda\nLovelace\nMemory budget",
				"Each document has one memory budget, set by --max-text-bytes.\nPast it the text is cut and the document is done.",
				"quire process --max-text-bytes 16MiB\n  ./inbox",
				"A bar filling up to the limit",
			},
			meta: map[string]string{"lang": "en"}},
		{file: "xml/udhr-article1.tei.xml", typ: typeTEI, title: "Universal Declaration of Human Rights, Article 1",
			author: "United Nations General Assembly",
			has: []string{
				"Article 1\nAll human beings are born free and equal in dignity and rights.\nThey are endowed with reason and conscience",
			}},
		{file: "xml/article.jats.xml", typ: typeJATS, title: "Extracting text from the long tail of formats",
			has: []string{
				"We measure how many documents of a real archive a text extractor reads.",
				"Method\nA corpus of 1,160 files in 120 formats1.",
				"Apache Tika, the reference users compare with.",
			},
			meta: map[string]string{"lang": "en"}},
		{file: "xml/catalog.xml", typ: typeXML,
			has: []string{
				"Le Petit Prince\nAntoine de Saint-Exupéry\n1943\nUn pilote échoué dans le désert rencontre un petit prince.",
				"Jules Verne\nVingt mille lieues sous les mers\n1870",
				"Cover of the catalogue",
			},
			hasNot: []string{"b1", "cover.png", "product catalogue"},
			meta:   map[string]string{"charset": "iso-8859-1", "dialect": "xml"}},
		{file: "xml/udhr-fra.fodt", typ: typeFODT, title: "Déclaration universelle des droits de l’homme",
			author: "Assemblée générale des Nations Unies",
			has: []string{
				"Déclaration universelle des droits de l’homme\nPréambule\nConsidérant que la reconnaissance de la dignité inhérente à tous les membres de la famille humaine constitue le fondement de la liberté,",
				"Tous les êtres humains naissent  libres et égaux\ten dignité et en droits.",
				"Français\tfra",
				"\n\nAdoptée le 10 décembre 1948 à Paris.",
			},
			hasNot: []string{"iVBORw0KGgo", "LibreOffice/7.4", "ViewAreaTop", "Logo"},
			meta:   map[string]string{"lang": "fr"}},
		{file: "xml/parties.fods", typ: typeFODS, title: "State of the Union by party", author: "Quire testdata",
			has: []string{
				"year\tpresident\tparty\n1790\tGeorge Washington\tNonpartisan\n1932\tHerbert Hoover\tRepublican\n\f\nRepublican\t1\nNonpartisan\t1",
			},
			meta: map[string]string{"sheets": "2"}, pages: 2},
		{file: "xml/udhr.fodp", typ: typeFODP, title: "Artikel 1",
			has: []string{
				"Artikel 1\nAlle Menschen sind frei und gleich an Würde und Rechten geboren.\n\f\nالمادة 1\nيولد جميع الناس أحرارًا متساوين في الكرامة والحقوق.",
			},
			hasNot: []string{"Speaker notes", "Master title placeholder"},
			meta:   map[string]string{"slides": "2"}, pages: 2},
	})
}

// A flat ODF file reads exactly as the package it flattens: the same walk
// reads both.
func TestXMLFlatODFMatchesPackage(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"office/udhr-fra.odt", "office/udhr.odp", "office/sotu.ods"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pkg := mustExtract(t, name)
			flat, typ := flattenODF(t, testdataFile(t, name))
			x := New(Config{})
			res, err := x.Extract(context.Background(), &Input{Name: "flat", Data: flat})
			require.NoError(t, err)
			assert.Equal(t, typ, res.Type)
			assert.Equal(t, pkg.Text, res.Text)
			assert.Equal(t, pkg.Pages, res.Pages)
			assert.Equal(t, pkg.Title, res.Title)
			assert.Equal(t, pkg.Author, res.Author)
			assert.Equal(t, pkg.Created, res.Created)
			assert.Equal(t, pkg.Meta, res.Meta)
		})
	}
}

// flattenODF writes an ODF package as one flat XML document, as
// LibreOffice saves .fodt files: the meta, styles and content parts as
// children of office:document. It returns the document and its type.
func flattenODF(t testing.TB, pkg []byte) ([]byte, string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	require.NoError(t, err)
	part := func(name string) string {
		f, err := zr.Open(name)
		require.NoError(t, err)
		defer f.Close()
		b, err := io.ReadAll(f)
		require.NoError(t, err)
		return string(b)
	}
	// inner returns what the root element of an XML part holds, and the
	// root's attributes.
	inner := func(doc string) (string, string) {
		start := strings.Index(doc, "<office:document-")
		open := start + strings.IndexByte(doc[start:], '>')
		attrs := doc[strings.IndexByte(doc[start:], ' ')+start : open]
		end := strings.LastIndex(doc, "</office:document-")
		return doc[open+1 : end], attrs
	}
	mimetype := part("mimetype")
	meta, _ := inner(part("meta.xml"))
	styles, _ := inner(part("styles.xml"))
	content, attrs := inner(part("content.xml"))
	flat := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<office:document" + attrs + ` office:mimetype="` + mimetype + `">` +
		meta + styles + content + "</office:document>\n"
	typ := map[string]string{typeODT: typeFODT, typeODS: typeFODS, typeODP: typeFODP}[mimetype]
	require.NotEmpty(t, typ, mimetype)
	return []byte(flat), typ
}

func TestXMLHostile(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("<a>", 200_000) + "deep text" + strings.Repeat("</a>", 200_000)
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(
		`<?xml version="1.0" encoding="UTF-16"?><note><to>Tove</to><body>Don’t forget me this weekend!</body></note>`)
	require.NoError(t, err)
	tests := []struct {
		name, typ, data string
		want            string // a passage of the text; empty: an error
		err             error
	}{
		{name: "entities.xml", typ: typeXML, err: ErrCorrupt,
			data: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`},
		{name: "external-entity.xml", typ: typeXML, err: ErrCorrupt,
			data: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>`},
		{name: "public-dtd.xml", typ: typeXML, want: "Chapter one",
			data: `<?xml version="1.0"?><!DOCTYPE book PUBLIC "-//OASIS//DTD DocBook XML V4.5//EN" "http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd"><book><title>Chapter one</title></book>`},
		{name: "deep.xml", typ: typeXML, data: deep, want: "deep text"},
		{name: "utf16.xml", typ: typeXML, data: utf16, want: "Tove\nDon’t forget me this weekend!"},
		{name: "utf16-no-bom.xml", typ: typeXML, data: "<\x00a\x00>\x00\xe9\x00t\x00\xe9\x00<\x00/\x00a\x00>\x00", want: "été"},
		{name: "utf8-declared-utf16.xml", typ: typeXML, data: "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>été</a>", want: "été"},
		{name: "unknown-charset.xml", typ: typeXML, data: `<?xml version="1.0" encoding="x-no-such"?><a>plain words</a>`, want: "plain words"},
		{name: "latin1-undeclared.xml", typ: typeXML, data: "<p>Le caf\xe9 cr\xe8me est pr\xeat, d\xe9j\xe0 servi \xe0 la fen\xeatre de l'\xe9t\xe9.</p>",
			want: "Le café crème est prêt, déjà servi à la fenêtre de l'été."},
		{name: "html-entities.xml", typ: typeXML, data: "<p>a&nbsp;b &eacute; &unknown; c</p>", want: "a b é &unknown; c"},
		{name: "not-xml.xml", typ: typeXML, data: "just some words", err: ErrCorrupt},
		{name: "empty.xml", typ: typeXML, data: "", err: ErrCorrupt},
		{name: "unclosed.xml", typ: typeXML, data: "<a><b>kept text</b><c>more", want: "kept text\nmore"},
		{name: "drawing.vsdx", typ: "application/vnd.ms-visio.drawing.main+xml", data: "PK\x03\x04rest", err: ErrUnsupported},
		{name: "flat-declared-generic", typ: typeAppXML, want: "Tous les êtres humains naissent",
			data: string(testdataFile(t, "formats/xml/udhr-fra.fodt"))},
		{name: "flat-wrong-root", typ: typeFODT, data: "<svg><text>x</text></svg>", err: ErrCorrupt},
	}
	// Without the office converter, which would read drawing.vsdx: the
	// point is that the XML reader does not.
	x := New(Config{Limits: Limits{Timeout: 20 * time.Second}, OfficeConverter: ConverterOff})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := x.Extract(context.Background(), &Input{Name: tt.name, Data: []byte(tt.data), Type: tt.typ})
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Contains(t, res.Text, tt.want)
		})
	}
}

// Every text type is read as text, and every XML type as XML, whether a
// format of its own reads it or not.
func TestTextAndXMLFamilies(t *testing.T) {
	t.Parallel()
	x := New(Config{})
	tests := []struct {
		typ, data, want string
	}{
		{"text/x-c", "int main(void) { return 0; }\n", "int main(void) { return 0; }"},
		{"text/troff", ".TH QUIRE 1\n.SH NAME\nquire\n", ".SH NAME\nquire"},
		{"text/x-php; charset=utf-8", "<?php echo 'hi';", "<?php echo 'hi';"},
		{"text/x-unknown-kind", "any text", "any text"},
		{"application/gpx+xml", `<gpx><trk><name>Morning run</name></trk></gpx>`, "Morning run"},
		{"model/x3d+xml", `<X3D><head><meta content="A scene"/></head><Scene><WorldInfo title="Garden"/></Scene></X3D>`, "Garden"},
	}
	for _, tt := range tests {
		res, err := x.Extract(context.Background(), &Input{Name: "declared", Data: []byte(tt.data), Type: tt.typ})
		require.NoError(t, err, tt.typ)
		assert.Contains(t, res.Text, tt.want, tt.typ)
	}
	_, err := x.Extract(context.Background(), &Input{Name: "declared", Data: []byte("x"), Type: "application/x-unknown"})
	require.ErrorIs(t, err, ErrUnsupported)
}

// truncationCase is a document of a new format whose text is larger than
// the text limit.
type truncationCase struct {
	name  string // the name it is uploaded under
	doc   func(n int) []byte
	first string // what its text starts with
}

// longParagraphs returns numbered sentences adding up to n bytes of text,
// each in the markup each gives it.
func longParagraphs(n int, each func(i int, s string) string) string {
	var b strings.Builder
	for i, text := 0, 0; text < n; i++ {
		s := fmt.Sprintf("Paragraph %d of a long document.", i)
		text += len(s)
		b.WriteString(each(i, s))
	}
	return b.String()
}

// checkTruncated reads each document under a small text limit: each ends
// done, with at most the limit of text, the text's beginning, and
// Truncated set; under a larger limit it is read whole (the pattern of
// TestTruncated).
func checkTruncated(t *testing.T, tests []truncationCase) {
	t.Helper()
	const max = 64 << 10
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := tt.doc(4 * max)
			x := New(Config{Limits: Limits{MaxText: max}})
			res, err := x.Extract(context.Background(), &Input{Name: tt.name, Data: data})
			require.NoError(t, err)
			require.True(t, res.Truncated, "truncated")
			require.LessOrEqual(t, len(res.Text), max+len(res.Pages))
			require.Greater(t, len(res.Text), max/2, "the text up to the limit is kept")
			require.True(t, strings.HasPrefix(strings.TrimSpace(res.Text), tt.first), "text starts %q", truncate(res.Text, 40))
			require.True(t, utf8.ValidString(res.Text))

			x = New(Config{Limits: Limits{MaxText: 64 * max}})
			res, err = x.Extract(context.Background(), &Input{Name: tt.name, Data: data})
			require.NoError(t, err)
			assert.False(t, res.Truncated, "not truncated under a larger limit")
			assert.Greater(t, len(res.Text), 2*max)
		})
	}
}

func TestXMLTruncated(t *testing.T) {
	t.Parallel()
	checkTruncated(t, []truncationCase{
		{name: "records.xml", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte("<?xml version=\"1.0\"?><records>" + longParagraphs(n, func(_ int, s string) string {
				return "<r><t>" + s + "</t></r>"
			}) + "</records>")
		}},
		{name: "one huge element.xml", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte("<?xml version=\"1.0\"?><r>" + longParagraphs(n, func(_ int, s string) string { return s + " " }) + "</r>")
		}},
		{name: "feed.atom", first: "Entries", doc: func(n int) []byte {
			return []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Entries</title>` +
				longParagraphs(n, func(_ int, s string) string {
					return `<entry><title>T</title><content type="html">&lt;p&gt;` + s + `&lt;/p&gt;</content></entry>`
				}) + "</feed>")
		}},
		{name: "drawing.svg", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte(`<svg xmlns="http://www.w3.org/2000/svg">` + longParagraphs(n, func(_ int, s string) string {
				return `<text x="1" y="2">` + s + `</text><rect width="1" height="1"/>`
			}) + "</svg>")
		}},
		{name: "text.fodt", first: "Paragraph 0 of", doc: func(n int) []byte {
			return []byte(`<?xml version="1.0"?><office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:mimetype="application/vnd.oasis.opendocument.text"><office:body><office:text>` +
				longParagraphs(n, func(_ int, s string) string { return "<text:p>" + s + "</text:p>" }) +
				"</office:text></office:body></office:document>")
		}},
	})
}

func FuzzXML(f *testing.F) {
	addSeeds(f, "formats/xml/releases.atom", "formats/xml/changes.rss", "formats/xml/messages.xlf",
		"formats/xml/messages-2.xlf", "formats/xml/offices.kml", "formats/xml/rivers.gml", "formats/xml/diagram.svg",
		"formats/xml/guide.dbk", "formats/xml/catalog.xml", "formats/xml/udhr-fra.fodt", "formats/xml/parties.fods",
		"formats/xml/udhr.fodp")
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-16"?><a/>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{typeXML, typeAtom, typeRSS, typeXLIFF, typeKML, typeGML, typeSVG, typeFODT, typeFODS, typeFODP} {
			checkExtract(t, typ, data)
		}
	})
}

// XML documents are named by their root element, whatever their name says
// and however their namespaces are declared.
func TestDetectXML(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, typ string }{
		{"releases.atom", typeAtom}, {"changes.rss", typeRSS}, {"messages.xlf", typeXLIFF},
		{"messages-2.xlf", typeXLIFF}, {"offices.kml", typeKML}, {"rivers.gml", typeGML},
		{"diagram.svg", typeSVG}, {"guide.dbk", typeDocBook}, {"udhr-article1.tei.xml", typeTEI},
		{"article.jats.xml", typeJATS}, {"catalog.xml", typeXML}, {"udhr-fra.fodt", typeFODT},
		{"parties.fods", typeFODS}, {"udhr.fodp", typeFODP},
	} {
		data := testdataFile(t, "formats/xml/"+tt.file)
		assert.Equal(t, tt.typ, Detect("", data), "%s, unnamed", tt.file)
		assert.Equal(t, tt.typ, Detect("document.txt", data), "%s named .txt", tt.file)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(
		`<?xml version="1.0" encoding="UTF-16"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`)
	require.NoError(t, err)
	for _, tt := range []struct{ name, data, typ string }{
		// No XML declaration, which mimetype's XML signatures want.
		{"", `<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`, typeAtom},
		{"", `<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0"/>`, typeXLIFF},
		{"", `<a:feed xmlns:a="http://www.w3.org/2005/Atom"/>`, typeAtom},
		{"", `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel/></rdf:RDF>`, typeRSS},
		{"", utf16, typeAtom},
		// Generic XML without a declaration is XML when named so, and
		// plain text that starts with a tag otherwise.
		{"data.xml", `<records><r>1</r></records>`, typeXML},
		{"notes.txt", `<records><r>1</r></records>`, typeText},
		// A document mentioning svg: is not an SVG image.
		{"", `<?xml version="1.0"?><doc xmlns:svg="http://www.w3.org/2000/svg"><svg:title>t</svg:title></doc>`, typeXML},
		// Source code is text of its own kind.
		{"wordcount.c", "int main(void) { return 0; }\n", "text/x-c"},
		{"quire.1", ".TH QUIRE 1\n.SH NAME\nquire\n", "text/troff"},
	} {
		assert.Equal(t, tt.typ, Detect(tt.name, []byte(tt.data)), "%q named %q", truncate(tt.data, 40), tt.name)
	}
}
