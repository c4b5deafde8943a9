//go:build ignore

// gen writes the XPS packages the XPS tests read (see README.md), from the
// structure ECMA-388 (OpenXPS) and Microsoft's XPS 1.0 specification give
// a package: no writer of XPS runs on Debian. Run it from this directory
// with `go run gen.go`; the output is the same on every run.
package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

var mtime = time.Date(1998, 12, 10, 12, 0, 0, 0, time.UTC)

// flavour holds what differs between XPS and OpenXPS: namespaces and
// relationship types.
type flavour struct {
	ns, rel, contentType string
}

var (
	msXPS = flavour{
		ns:          "http://schemas.microsoft.com/xps/2005/06",
		rel:         "http://schemas.microsoft.com/xps/2005/06/fixedrepresentation",
		contentType: "application/vnd.ms-package.xps-",
	}
	openXPS = flavour{
		ns:          "http://schemas.openxps.org/oxps/v1.0",
		rel:         "http://schemas.openxps.org/oxps/v1.0/fixedrepresentation",
		contentType: "application/vnd.ms-package.xps-",
	}
)

// line is a run of glyphs at a position.
type line struct {
	x, y float64
	text string
}

func main() {
	// Two pages; the second line of page 1 is split into two runs on one
	// baseline, as a writer that changes fonts mid-line makes it.
	udhr := [][]line{
		{
			{96, 96, "Universal Declaration of Human Rights"},
			{96, 140, "Article 1"},
			{96, 170, "All human beings are born free"},
			{340, 170, "and equal in dignity and rights."},
		},
		{
			{96, 96, "Article 2"},
			{96, 126, "Everyone is entitled to all the rights and freedoms set forth in this Declaration."},
			{96, 156, "{}{braces} are escaped in a UnicodeString."},
		},
	}
	write("udhr.xps", msXPS, "Universal Declaration of Human Rights", "United Nations", udhr)
	fra := [][]line{{
		{96, 96, "Déclaration universelle des droits de l’homme"},
		{96, 140, "Article premier"},
		{96, 170, "Tous les êtres humains naissent libres et égaux en dignité et en droits."},
	}}
	write("udhr-fra.oxps", openXPS, "Déclaration universelle", "Nations unies", fra)
}

func write(name string, f flavour, title, author string, pages [][]line) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, data string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			log.Fatal(err)
		}
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
  <Default Extension="fdseq" ContentType="`+f.contentType+`fixeddocumentsequence+xml"/>
  <Default Extension="fdoc" ContentType="`+f.contentType+`fixeddocument+xml"/>
  <Default Extension="fpage" ContentType="`+f.contentType+`fixedpage+xml"/>
  <Default Extension="odttf" ContentType="application/vnd.ms-package.obfuscated-opentype"/>
  <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="utf-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="R0" Type="`+f.rel+`" Target="/FixedDocSeq.fdseq"/>
  <Relationship Id="R1" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="/docProps/core.xml"/>
</Relationships>`)
	add("docProps/core.xml", `<?xml version="1.0" encoding="utf-8"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <dc:title>`+title+`</dc:title>
  <dc:creator>`+author+`</dc:creator>
  <dcterms:created xsi:type="dcterms:W3CDTF">1948-12-10T00:00:00Z</dcterms:created>
</cp:coreProperties>`)
	add("FixedDocSeq.fdseq", `<FixedDocumentSequence xmlns="`+f.ns+`">
  <DocumentReference Source="Documents/1/FixedDoc.fdoc"/>
</FixedDocumentSequence>`)
	var doc strings.Builder
	doc.WriteString(`<FixedDocument xmlns="` + f.ns + `">` + "\n")
	for i := range pages {
		fmt.Fprintf(&doc, "  <PageContent Source=\"Pages/%d.fpage\"/>\n", i+1)
	}
	doc.WriteString(`</FixedDocument>`)
	add("Documents/1/FixedDoc.fdoc", doc.String())
	for i, p := range pages {
		var pg strings.Builder
		fmt.Fprintf(&pg, `<FixedPage xmlns="%s" Width="816" Height="1056" xml:lang="en-US">`+"\n", f.ns)
		pg.WriteString(`  <Path Data="M 90,90 L 700,90" Stroke="#000000"/>` + "\n")
		pg.WriteString(`  <Canvas RenderTransform="1,0,0,1,0,0">` + "\n")
		for _, l := range p {
			fmt.Fprintf(&pg, `    <Glyphs Fill="#ff000000" FontUri="/Resources/font.odttf" FontRenderingEmSize="14" StyleSimulations="None" OriginX="%g" OriginY="%g" UnicodeString="%s"/>`+"\n",
				l.x, l.y, escape(l.text))
		}
		pg.WriteString("  </Canvas>\n</FixedPage>")
		add(fmt.Sprintf("Documents/1/Pages/%d.fpage", i+1), pg.String())
	}
	// A placeholder where a writer embeds the obfuscated font: readers of
	// text never open it.
	add("Resources/font.odttf", "placeholder for an obfuscated OpenType font")
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;").Replace(s)
}
