package extract

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
)

func TestTextSink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		max       int64
		writes    []string
		want      string
		truncated bool
	}{
		{name: "fits", max: 10, writes: []string{"abc", "def"}, want: "abcdef"},
		{name: "exactly", max: 6, writes: []string{"abc", "def"}, want: "abcdef"},
		{name: "cut", max: 5, writes: []string{"abc", "def", "ghi"}, want: "abcde", truncated: true},
		{name: "cut on a character", max: 4, writes: []string{"ab", "é€"}, want: "abé", truncated: true},
		{name: "nothing left", max: 0, writes: []string{"a"}, want: "", truncated: true},
		{name: "no limit", max: -1, writes: []string{strings.Repeat("x", 1000)}, want: strings.Repeat("x", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBudget(Limits{MaxText: tt.max})
			s := textSink{bud: b}
			for _, w := range tt.writes {
				s.writeString(w)
			}
			require.Equal(t, tt.want, s.String())
			require.Equal(t, tt.truncated, b.full())
		})
	}

	t.Run("sinks share one budget", func(t *testing.T) {
		t.Parallel()
		b := newBudget(Limits{MaxText: 8})
		s1, s2 := textSink{bud: b}, textSink{bud: b}
		require.True(t, s1.writeString("hello"))
		require.False(t, s2.writeString("world"))
		require.Equal(t, "wor", s2.String())
		require.False(t, s1.writeByte('!'))
		require.True(t, b.full())
	})

	t.Run("scratch does not spend", func(t *testing.T) {
		t.Parallel()
		b := newBudget(Limits{MaxText: 8})
		cell := textSink{bud: b, scratch: true}
		require.True(t, cell.writeString("cell"))
		require.Equal(t, int64(8), b.left())
		row := textSink{bud: b}
		require.True(t, row.writeString(cell.String()))
		require.Equal(t, int64(4), b.left())
		// A scratch sink is bounded by what is left.
		big := textSink{bud: b, scratch: true}
		require.False(t, big.writeString("123456"))
		require.Equal(t, "1234", big.String())
		require.True(t, b.full())
	})

	t.Run("concurrent writers", func(t *testing.T) {
		t.Parallel()
		b := newBudget(Limits{MaxText: 1000})
		var wg sync.WaitGroup
		sinks := make([]textSink, 8)
		for i := range sinks {
			sinks[i].bud = b
			wg.Go(func() {
				for range 100 {
					sinks[i].writeString("abc")
				}
			})
		}
		wg.Wait()
		total := 0
		for i := range sinks {
			total += sinks[i].Len()
		}
		require.Equal(t, 1000, total)
		require.True(t, b.full())
	})
}

// FuzzTextSink writes arbitrary pieces through sinks sharing a budget: the
// text kept never exceeds the budget, is what was written up to the cut, is
// valid UTF-8 when the input is, and is reported truncated exactly when
// something was left out.
func FuzzTextSink(f *testing.F) {
	f.Add([]byte("hello world"), uint16(5), uint8(3))
	f.Add([]byte("héllo wörld €uro"), uint16(7), uint8(2))
	f.Add([]byte{}, uint16(0), uint8(1))
	f.Add([]byte("\xff\xfeabc"), uint16(3), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, max uint16, piece uint8) {
		b := newBudget(Limits{MaxText: int64(max)})
		s := textSink{bud: b}
		// Writers hand over whole characters (tokens, strings, ASCII
		// separators one byte at a time), so the pieces end on character
		// boundaries.
		step := int(piece%16) + 1
		for i, k := 0, 0; i < len(data); k++ {
			j := min(i+step, len(data))
			for j < len(data) && !utf8.RuneStart(data[j]) {
				j++
			}
			p := data[i:j]
			switch {
			case k%3 == 2 && len(p) == 1 && p[0] < utf8.RuneSelf:
				s.writeByte(p[0])
			case k%2 == 0:
				s.write(p)
			default:
				s.writeString(string(p))
			}
			i = j
		}
		out := s.String()
		if int64(len(out)) > int64(max) {
			t.Fatalf("kept %d bytes, over the budget of %d", len(out), max)
		}
		if !strings.HasPrefix(string(data), out) && utf8.Valid(data) {
			t.Fatalf("kept %q, not a prefix of %q", out, data)
		}
		if utf8.Valid(data) && !utf8.ValidString(out) {
			t.Fatalf("cut inside a character: %q", out)
		}
		if b.full() != (len(out) < len(data)) {
			t.Fatalf("truncated=%v but kept %d of %d bytes", b.full(), len(out), len(data))
		}
	})
}

// TestTruncated reads a document of every format whose text is larger than
// the text limit: each ends done, with at most the limit of text, the text's
// beginning, and Truncated set; the same document under a larger limit is
// read whole.
func TestTruncated(t *testing.T) {
	t.Parallel()
	const max = 64 << 10
	para := func(i int) string { return fmt.Sprintf("Paragraph %d of a long document. ", i) }
	long := func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(para(i))
		}
		return b.String()
	}
	tests := []struct {
		name string
		doc  func(t *testing.T) []byte
		// first is what the text starts with.
		first string
	}{
		{name: "one huge paragraph.docx", first: "AAAA", doc: func(t *testing.T) []byte {
			return bombDOCX(t, 4*max, 0) // one XML token four times the limit
		}},
		{name: "many paragraphs.docx", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			var body strings.Builder
			for i := 0; body.Len() < 4*max; i++ {
				fmt.Fprintf(&body, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, para(i))
			}
			return docxWithBody(t, body.String())
		}},
		{name: "notes after a full body.docx", first: "AAAA", doc: func(t *testing.T) []byte {
			return bombDOCX(t, 2*max, 2*max)
		}},
		{name: "slides.pptx", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			slide := `<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>` +
				long(4*max) + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
			return rewriteZip(t, testdataFile(t, "office/udhr.pptx"), map[string]string{"ppt/slides/slide1.xml": slide})
		}},
		{name: "text.odt", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			content := `<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text><text:p>` +
				long(4*max) + `</text:p></office:text></office:body></office:document-content>`
			return rewriteZip(t, testdataFile(t, "office/udhr-fra.odt"), map[string]string{"content.xml": content})
		}},
		{name: "sheet.xlsx", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			var rows strings.Builder
			for i := 1; rows.Len() < 8*max; i++ {
				fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>`, i, i, para(i-1))
			}
			sheet := `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + rows.String() + `</sheetData></worksheet>`
			return rewriteZip(t, testdataFile(t, "office/sotu.xlsx"), map[string]string{"xl/worksheets/sheet1.xml": sheet})
		}},
		{name: "page.html", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			return []byte("<!DOCTYPE html><html><body><p>" + long(4*max) + "</p></body></html>")
		}},
		{name: "plain.txt", first: "Paragraph 0 of", doc: func(t *testing.T) []byte { return []byte(long(8 * max)) }},
		{name: "records.csv", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			var b strings.Builder
			for i := 0; b.Len() < 8*max; i++ {
				fmt.Fprintf(&b, "%q,%d\n", para(i), i)
			}
			return []byte(b.String())
		}},
		{name: "values.json", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			var b strings.Builder
			b.WriteString("[")
			for i := 0; b.Len() < 8*max; i++ {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"p":%q}`, para(i))
			}
			b.WriteString("]")
			return []byte(b.String())
		}},
		{name: "message.eml", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			return []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: long\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + long(4*max))
		}},
		{name: "stream.pdf", first: "Paragraph 0 of", doc: func(t *testing.T) []byte {
			return textPDF(t, 4*max)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := tt.doc(t)
			x := pdfTestExtractorWith(t, Config{Limits: Limits{MaxText: max}})
			res, err := x.Extract(context.Background(), &Input{Name: tt.name, Data: data})
			require.NoError(t, err)
			require.True(t, res.Truncated, "truncated")
			require.LessOrEqual(t, len(res.Text), max+len(res.Pages))
			require.Greater(t, len(res.Text), max/2, "the text up to the limit is kept")
			require.True(t, strings.HasPrefix(strings.TrimSpace(res.Text), tt.first), "text starts %q", truncate(res.Text, 40))
			require.True(t, utf8.ValidString(res.Text))

			x = pdfTestExtractorWith(t, Config{Limits: Limits{MaxText: 64 * max}})
			res, err = x.Extract(context.Background(), &Input{Name: tt.name, Data: data})
			require.NoError(t, err)
			assert.False(t, res.Truncated, "not truncated under a larger limit")
			assert.Greater(t, len(res.Text), 2*max)
		})
	}
}

// docxWithBody returns a DOCX whose body is the given WordprocessingML.
func docxWithBody(t testing.TB, body string) []byte {
	t.Helper()
	doc := `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`
	return rewriteZip(t, bombDOCX(t, 1, 0), map[string]string{"word/document.xml": doc})
}

// textPDF returns a one-page PDF whose Flate content stream shows lines of
// text adding up to about n bytes (a stream bomb, at scale).
func textPDF(t testing.TB, n int) []byte {
	t.Helper()
	var content bytes.Buffer
	zw := zlib.NewWriter(&content)
	fmt.Fprintf(zw, "BT /F1 1 Tf 10 780 Td\n")
	for i, written := 0, 0; written < n; i++ {
		line := fmt.Sprintf("Paragraph %d of a long document. ", i)
		fmt.Fprintf(zw, "(%s) Tj 0 -0.01 Td\n", line)
		written += len(line)
	}
	fmt.Fprintf(zw, "ET\n")
	require.NoError(t, zw.Close())
	return testdocs.PDFOnePage(testdocs.PDFStream("/Filter /FlateDecode", content.Bytes()))
}
