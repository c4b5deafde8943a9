//go:build ignore

// gen writes the HWP 5 documents the HWP reader's tests read, record by
// record from Hancom's "HWP 5.0 file format" (see README.md), through
// internal/testdocs, since no free tool writes one. Run it from this
// directory with `go run gen.go`; the output is the same on every run.
package main

import (
	"log"
	"os"
	"strings"
	"time"

	"github.com/quirehq/quire/internal/testdocs"
)

// korean is Article 1 of the Universal Declaration of Human Rights in
// Korean, as the UN publishes it.
const korean = "모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다."

var adopted = time.Date(1948, 12, 10, 12, 0, 0, 0, time.UTC)

func main() {
	b, err := os.ReadFile("../../text/sotu-1932-hoover.txt")
	check(err)
	hoover := strings.Fields(string(b))
	words := func(from, to int) string { return strings.Join(hoover[from:to], " ") }

	para := testdocs.HWPPara
	rec := testdocs.HWPRecord
	ctrl := func(tag int, id string) []byte { return rec(tag, 1, []byte{id[3], id[2], id[1], id[0], 0, 0, 0, 0}) }
	var body []byte
	cat := func(parts ...[]byte) {
		for _, p := range parts {
			body = append(body, p...)
		}
	}
	// A header anchored in the first paragraph, its text a list one level
	// down.
	cat(para(0, "세계인권선언"+testdocs.HWPControl(16, "head")),
		ctrl(testdocs.HWPTagCtrlHeader, "head"), rec(testdocs.HWPTagListHeader, 1, make([]byte, 8)),
		para(1, "Header: Quire HWP test document"))
	cat(para(0, korean))
	// A tab (an inline control) and a field (an extended one, then its
	// end): neither may leak its parameters into the text.
	cat(para(0, "제1조"+testdocs.HWPControl(9, "    ")+"Article 1"))
	cat(para(0, "Field "+testdocs.HWPControl(3, "%clk")+"result"+testdocs.HWPControl(4, "    ")+" ends here."))
	// A table of two cells after the paragraph that anchors it.
	cat(para(0, "The table follows."+testdocs.HWPControl(11, "tbl ")),
		ctrl(testdocs.HWPTagCtrlHeader, "tbl "), rec(testdocs.HWPTagTable, 2, make([]byte, 22)),
		rec(testdocs.HWPTagListHeader, 2, make([]byte, 8)), para(2, "Cell one: 1948"),
		rec(testdocs.HWPTagListHeader, 2, make([]byte, 8)), para(2, "Cell two: Paris"))
	// A footnote, and a line break and a non-breaking space (one unit
	// each).
	cat(para(0, words(0, 12)+testdocs.HWPControl(17, "fn  ")),
		ctrl(testdocs.HWPTagCtrlHeader, "fn  "), rec(testdocs.HWPTagListHeader, 1, make([]byte, 8)),
		para(1, "Footnote: the 1932 address."))
	cat(para(0, words(12, 30)+"\n"+words(30, 40)+"\u001e"+words(40, 50)))
	// A paragraph long enough for a record size past 4,094 bytes.
	cat(para(0, words(50, 900)))
	section1 := para(0, "Second section: "+words(900, 940))

	write("udhr-korean.hwp", testdocs.HWP(testdocs.HWPDoc{Compressed: true, Title: "세계인권선언", Author: "Quire testdata",
		Created: adopted, Sections: [][]byte{body, section1}}))
	write("plain.hwp", testdocs.HWP(testdocs.HWPDoc{Title: "Uncompressed", Author: "Quire testdata", Created: adopted,
		Sections: [][]byte{para(0, korean), para(0, words(0, 40))}}))
	write("encrypted.hwp", testdocs.HWP(testdocs.HWPDoc{Compressed: true, Flags: 2, Sections: [][]byte{para(0, "secret")}}))
	write("distribution.hwp", testdocs.HWP(testdocs.HWPDoc{Compressed: true, Flags: 4, Sections: [][]byte{para(0, "for reading only")}}))
}

func write(name string, data []byte) { check(os.WriteFile(name, data, 0o644)) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
