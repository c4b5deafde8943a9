package extract

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gogs/chardet"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

func init() {
	register(&format{
		name:    "text",
		types:   []string{typeText, typeMarkdown, typeCSV, typeTSV, typeJSON, typeNDJSON},
		extract: extractText,
	})
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func extractText(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	data := in.Data
	// Text longer than the limit is decoded no further than it can yield:
	// four bytes of input give at least one byte of text in any charset.
	cut := false
	if m := b.lim.MaxText; m >= 0 && int64(len(data)) > 4*m+4 {
		data, cut = data[:4*m+4], true
		defer b.markTruncated()
	}
	s, cs, err := decodeText(data, "")
	if err != nil {
		return nil, err
	}
	s = normalizeNewlines(s)
	res := &Result{Meta: map[string]string{}}
	if cs != "utf-8" {
		res.Meta["charset"] = cs
	}
	switch in.Type {
	case typeJSON, typeNDJSON:
		// The values are gathered in a scratch sink, and the text charged
		// once it is known which of them or the plain text is kept.
		w := textSink{bud: b, scratch: true}
		err := jsonText(ctx, s, &w)
		switch {
		case err == nil, cut && errors.Is(err, io.ErrUnexpectedEOF), w.bud.full():
			res.Text = b.clip(strings.TrimRight(w.String(), "\n"))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			// Text that is not quite JSON still reads as text: keep it
			// searchable rather than fail the document.
			res.Warnings = append(res.Warnings, fmt.Sprintf("invalid JSON, kept as plain text: %v", err))
			res.Text = b.clip(s)
		}
	case typeCSV, typeTSV:
		w := textSink{bud: b, scratch: true}
		rows, err := delimitedText(ctx, s, in.Type == typeTSV, &w)
		switch {
		case err == nil, cut, w.bud.full():
			res.Meta["rows"] = strconv.Itoa(rows)
			res.Text = b.clip(strings.TrimRight(w.String(), "\n"))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("invalid %s, kept as plain text: %v", in.Type, err))
			res.Text = b.clip(s)
		}
	case typeMarkdown:
		res.Text = b.clip(s)
		res.Title = markdownTitle(res.Text)
	default:
		res.Text = b.clip(s)
	}
	return res, nil
}

// decodeText returns data as valid UTF-8 and the name of the charset it was
// read in. declared is a charset named by the document's container (an HTTP
// header, an HTML meta tag); a byte order mark overrides it, as browsers do.
// Bytes invalid in the charset become U+FFFD.
func decodeText(data []byte, declared string) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		return strings.ToValidUTF8(string(data[3:]), "\uFFFD"), "utf-8", nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeWith(data, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16")
	}
	if declared != "" {
		if e, name := lookupCharset(declared); e != nil {
			if name == "utf-8" {
				return strings.ToValidUTF8(string(data), "\uFFFD"), name, nil
			}
			return decodeWith(data, e, name)
		}
	}
	if mostlyUTF8(data) {
		return strings.ToValidUTF8(string(data), "\uFFFD"), "utf-8", nil
	}
	e, name := guessCharset(data)
	return decodeWith(data, e, name)
}

func decodeWith(data []byte, e encoding.Encoding, name string) (string, string, error) {
	// The decoders replace invalid input with U+FFFD themselves.
	b, _, err := transform.Bytes(e.NewDecoder(), data)
	if err != nil {
		return "", name, fmt.Errorf("%w: decoding %s: %v", ErrCorrupt, name, err)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), name, nil
}

// lookupCharset finds an encoding by any of its WHATWG or IANA names.
// WHATWG's table maps ISO-8859-1 and ASCII to windows-1252, as browsers do.
func lookupCharset(name string) (encoding.Encoding, string) {
	name = strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	switch name {
	case "gb-18030":
		name = "gb18030"
	case "ibm420_ltr", "ibm420_rtl", "ibm424_ltr", "ibm424_rtl":
		return nil, ""
	}
	if e, err := htmlindex.Get(name); err == nil {
		n, _ := htmlindex.Name(e)
		return e, n
	}
	if e, err := ianaindex.IANA.Encoding(name); err == nil && e != nil {
		n, _ := ianaindex.IANA.Name(e)
		return e, strings.ToLower(n)
	}
	return nil, ""
}

// mostlyUTF8 reports whether data is UTF-8, allowing a few broken bytes (a
// truncated character, a stray Latin-1 byte in otherwise UTF-8 text) that a
// legacy-charset guess would turn into mojibake everywhere else. Text in a
// legacy charset almost never forms valid multi-byte sequences, so having
// at least as many of those as invalid bytes is the tell.
func mostlyUTF8(data []byte) bool {
	if utf8.Valid(data) {
		return true
	}
	multi, bad := 0, 0
	for b := head(data, 1<<20); len(b) > 0; {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			multi++
		}
		b = b[n:]
	}
	return multi >= bad && multi > 0
}

// guessCharset picks a legacy charset for text that is not UTF-8. The
// detector reads a sample: it runs every recognizer over its input, too slow
// for whole large files.
func guessCharset(data []byte) (encoding.Encoding, string) {
	if r, err := chardet.NewTextDetector().DetectBest(head(data, 64<<10)); err == nil && r.Confidence >= 30 {
		if e, name := lookupCharset(r.Charset); e != nil {
			return e, name
		}
	}
	// WHATWG's default for legacy text: every byte decodes to something.
	e, _ := charset.Lookup("windows-1252")
	return e, "windows-1252"
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// jsonText returns the scalar values of JSON text (strings and numbers),
// one a line in document order. Keys are left out: they repeat on every
// record and are field names rather than content, so they would dominate
// search and the models' vocabulary. NDJSON is a sequence of values. The
// values are written to w, and reading stops when w is full.
func jsonText(ctx context.Context, s string, w *textSink) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	// inObject[i] tells whether nesting level i is an object, whose
	// tokens alternate key, value.
	var inObject []bool
	var expectKey bool
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if w.bud.full() {
			return nil
		}
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				inObject = append(inObject, true)
				expectKey = true
			case '[':
				inObject = append(inObject, false)
				expectKey = false
			default:
				inObject = inObject[:len(inObject)-1]
				expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			}
			continue
		case string:
			if expectKey {
				expectKey = false
				continue
			}
			if v = strings.TrimSpace(v); v != "" {
				w.writeString(v)
				w.writeByte('\n')
			}
		case json.Number:
			w.writeString(v.String())
			w.writeByte('\n')
		}
		if len(inObject) > 0 && inObject[len(inObject)-1] {
			expectKey = true
		}
	}
	if len(inObject) > 0 {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// delimitedText returns CSV or TSV as one line a record, fields separated
// by tabs, the same shape as spreadsheet text, with quoting resolved (a
// quoted field may hold commas and newlines). The records are written to w,
// and reading stops when w is full; it returns the number of records read.
func delimitedText(ctx context.Context, s string, tabs bool, w *textSink) (int, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	if tabs {
		r.Comma = '\t'
	}
	rows := 0
	for {
		if rows%4096 == 0 && ctx.Err() != nil {
			return rows, ctx.Err()
		}
		if w.bud.full() {
			return rows, nil
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rows, err
		}
		rows++
		for i, f := range rec {
			if i > 0 {
				w.writeByte('\t')
			}
			// A tab or newline inside a field would break the one line a
			// record, one field a column shape.
			w.writeString(strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' {
					return ' '
				}
				return r
			}, f))
		}
		w.writeByte('\n')
	}
	return rows, nil
}

// markdownTitle returns the first level-one ATX heading ("# Title").
func markdownTitle(s string) string {
	for n := 0; len(s) > 0 && n < 200; n++ {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "# ") {
			return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[2:]), "#"))
		}
	}
	return ""
}
