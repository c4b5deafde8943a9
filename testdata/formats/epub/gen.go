//go:build ignore

// gen writes the EPUBs the EPUB tests read, from the English and French
// UDHR pages of testdata/html (see README.md). Run it from this directory
// with `go run gen.go`; the output is the same on every run.
package main

import (
	"archive/zip"
	"bytes"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var mtime = time.Date(1998, 12, 10, 12, 0, 0, 0, time.UTC)

type entry struct {
	name, data string
	stored     bool
}

func main() {
	eng := body("udhr-eng.html")
	fra := body("udhr-fra.html")
	i := strings.Index(eng, "</header>") + len("</header>")
	preamble, articles := eng[:i], eng[i:]

	// EPUB 3: the mimetype entry first, as the standard asks; the
	// manifest lists the French chapter first, the spine last.
	write("udhr.epub", []entry{
		{name: "mimetype", data: "application/epub+zip", stored: true},
		{name: "META-INF/container.xml", data: container("OEBPS/content.opf")},
		{name: "OEBPS/content.opf", data: `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:quire:test:udhr-epub</dc:identifier>
    <dc:title>Universal Declaration of Human Rights</dc:title>
    <dc:creator>United Nations General Assembly</dc:creator>
    <dc:creator>Quire test data</dc:creator>
    <dc:language>en</dc:language>
    <dc:date>1948-12-10</dc:date>
    <dc:publisher>United Nations</dc:publisher>
    <meta property="dcterms:modified">1998-12-10T12:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="fra" href="text/fra.xhtml" media-type="application/xhtml+xml"/>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="preamble" href="text/preamble.xhtml" media-type="application/xhtml+xml"/>
    <item id="articles" href="text/articles%20all.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
  </manifest>
  <spine>
    <itemref idref="preamble"/>
    <itemref idref="articles"/>
    <itemref idref="fra" linear="no"/>
  </spine>
</package>
`},
		{name: "OEBPS/nav.xhtml", data: xhtml("en", "Contents", `<nav epub:type="toc"><ol><li><a href="text/preamble.xhtml">Preamble</a></li></ol></nav>`)},
		{name: "OEBPS/style.css", data: "body { font-family: serif; }\n"},
		{name: "OEBPS/text/fra.xhtml", data: xhtml("fr", "Déclaration universelle", fra)},
		{name: "OEBPS/text/preamble.xhtml", data: xhtml("en", "Preamble", preamble)},
		{name: "OEBPS/text/articles all.xhtml", data: xhtml("en", "Articles", articles)},
	})

	// EPUB 2 as some writers make it: META-INF/ first, so that its first
	// bytes read as a Java archive, no mimetype entry, an NCX, and a year
	// for a date.
	write("udhr-epub2.epub", []entry{
		{name: "META-INF/", data: ""},
		{name: "META-INF/container.xml", data: container("content.opf")},
		{name: "content.opf", data: `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="uid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>Déclaration universelle des droits de l’homme</dc:title>
    <dc:creator opf:role="aut">Nations unies</dc:creator>
    <dc:language>fr</dc:language>
    <dc:date opf:event="publication">1948</dc:date>
    <dc:identifier id="uid">urn:quire:test:udhr-epub2</dc:identifier>
  </metadata>
  <manifest>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="c1" href="fra.html" media-type="application/xhtml+xml"/>
  </manifest>
  <spine toc="ncx">
    <itemref idref="c1"/>
  </spine>
</package>
`},
		{name: "toc.ncx", data: `<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap><navPoint id="c1" playOrder="1"><navLabel><text>Déclaration</text></navLabel><content src="fra.html"/></navPoint></navMap></ncx>
`},
		{name: "fra.html", data: xhtml("fr", "Déclaration universelle", fra)},
	})
}

// body returns what is between <body> and </body> of a testdata page.
func body(name string) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "html", name))
	check(err)
	s := string(b)
	start := strings.Index(s, "<body>") + len("<body>")
	end := strings.Index(s, "</body>")
	return strings.TrimSpace(s[start:end])
}

func container(opf string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="` + opf + `" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`
}

func xhtml(lang, title, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="` + lang + `" lang="` + lang + `">
<head><title>` + title + `</title><link rel="stylesheet" href="../style.css"/></head>
<body>
` + body + `
</body>
</html>
`
}

func write(name string, entries []entry) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		if e.stored || strings.HasSuffix(e.name, "/") {
			h.Method = zip.Store
		}
		if e.name == "mimetype" {
			// No timestamp, which Go writes as an extra field: the
			// content must follow the name, at byte 38, as readers
			// that sniff the type expect.
			h.Modified = time.Time{}
		}
		w, err := zw.CreateHeader(h)
		check(err)
		_, err = w.Write([]byte(e.data))
		check(err)
	}
	check(zw.Close())
	check(os.WriteFile(name, buf.Bytes(), 0o644))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
