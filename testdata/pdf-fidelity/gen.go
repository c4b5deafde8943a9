//go:build ignore

// gen writes annotated.pdf: one page of text with the annotations a reader
// adds (a sticky note and its popup, a text box, a comment on a highlight,
// a link) and an interactive form (a text field under a parent field, a
// check box that is on and one that is off). Its text is the Universal
// Declaration of Human Rights, each passage labelled with where it is.
// Run it from this directory with `go run gen.go`, then `sh gen.sh` for the
// encrypted copies; the tests assert on the passages below.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

func main() {
	content := "BT /F1 14 Tf 72 720 Td (Article 1 of the Universal Declaration of Human Rights) Tj ET\n" +
		"BT /F1 12 Tf 72 690 Td (All human beings are born free and equal in dignity and rights.) Tj ET\n"
	objs := []string{
		/* 1 */ `<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R 12 0 R 13 0 R 16 0 R] /NeedAppearances true >> >>`,
		/* 2 */ `<< /Type /Pages /Kids [3 0 R] /Count 1 >>`,
		/* 3 */ `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R 7 0 R 8 0 R 9 0 R 11 0 R 12 0 R 13 0 R 14 0 R 16 0 R] >>`,
		/* 4 */ fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		/* 5 */ `<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>`,
		/* 6 */ `<< /Type /Annot /Subtype /Text /Rect [500 700 520 720] /Contents (Sticky note: Eleanor Roosevelt chaired the drafting committee.) /Popup 7 0 R /T (Quire) >>`,
		/* 7 */ `<< /Type /Annot /Subtype /Popup /Rect [520 600 612 700] /Parent 6 0 R >>`,
		/* 8 */ `<< /Type /Annot /Subtype /FreeText /Rect [72 600 400 640] /Contents (Text box annotation: adopted in Paris on 10 December 1948.) /DA (/Helv 10 Tf 0 g) >>`,
		/* 9 */ `<< /Type /Annot /Subtype /Highlight /Rect [72 685 400 705] /QuadPoints [72 705 400 705 72 685 400 685] /Contents (Highlight comment: the first sentence of Article 1.) /C [1 1 0] >>`,
		/* 10 */ `<< /T (declaration) /FT /Tx /V (Paris) /Kids [11 0 R] >>`,
		/* 11 */ `<< /Type /Annot /Subtype /Widget /Parent 10 0 R /Rect [72 530 300 550] /DA (/Helv 10 Tf 0 g) >>`,
		/* 12 */ `<< /Type /Annot /Subtype /Widget /T (adopted) /FT /Btn /V /Yes /AS /Yes /Rect [72 470 90 488] /AP << /N << /Yes 15 0 R /Off 15 0 R >> >> >>`,
		/* 13 */ `<< /Type /Annot /Subtype /Widget /T (rejected) /FT /Btn /V /Off /AS /Off /Rect [72 440 90 458] /AP << /N << /Yes 15 0 R /Off 15 0 R >> >> >>`,
		/* 14 */ `<< /Type /Annot /Subtype /Link /Rect [72 715 400 735] /A << /S /URI /URI (https://www.un.org/en/about-us/universal-declaration-of-human-rights) >> /Contents (Link) >>`,
		/* 15 */ "<< /Type /XObject /Subtype /Form /BBox [0 0 18 18] /Length 0 >>\nstream\n\nendstream",
		/* 16 */ `<< /Type /Annot /Subtype /Widget /T (applicant) /FT /Tx /V (Rene Cassin) /Rect [72 500 300 520] /DA (/Helv 10 Tf 0 g) >>`,
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /ID [<51756972652d616e6e6f746174656421><51756972652d616e6e6f746174656421>] >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	if err := os.WriteFile("annotated.pdf", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
