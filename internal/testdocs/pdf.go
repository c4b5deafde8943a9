// Package testdocs builds small documents for tests, where a test needs a
// document of a precise shape (a hostile one, a bomb, a page of a given
// text) that no real file has. Only tests import it.
package testdocs

import (
	"bytes"
	"fmt"
)

// PDF assembles a PDF from its objects, numbered from 1 in the order given,
// with a correct cross-reference table; object 1 must be the catalog.
func PDF(objects ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// PDFStream is a stream object holding data, with dict's entries (such as
// "/Filter /FlateDecode") besides its length.
func PDFStream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// PDFOnePage is a one-page PDF whose page shows content (a content stream
// object, see PDFStream) with the standard font Helvetica as /F1; extra
// objects follow, unreferenced (an information dictionary, say).
func PDFOnePage(content string, extra ...string) []byte {
	return PDF(append([]string{
		`<< /Type /Catalog /Pages 2 0 R >>`,
		`<< /Type /Pages /Kids [3 0 R] /Count 1 >>`,
		`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>`,
		content,
		`<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`,
	}, extra...)...)
}
