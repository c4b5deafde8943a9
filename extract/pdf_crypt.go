package extract

import (
	"bytes"
	"regexp"
	"strconv"
)

// A PDF encrypted with crypt filters (security handler version 4 and up)
// names one filter for its streams (StmF) and one for its strings (StrF).
// They may differ: a producer that keeps strings in the clear writes
// /StrF /Identity, one that keeps streams in the clear /StmF /Identity
// (ISO 32000-1, 7.6.5). PDFium supports only one filter for both and takes
// such a document, even one that opens with the empty password, for one
// that needs a password. So when PDFium refuses a document, its encryption
// dictionaries are rewritten in place to name the streams' filter for
// both, and the document is opened again: the streams, which hold the
// page text, are then read as they were written, and the strings are not
// (they are decrypted when they were clear, or left encrypted), so the
// metadata, annotations and form fields, which are strings, are left out.

// pdfOneCryptFilter returns a copy of data whose encryption dictionaries
// name StmF's filter for strings too, and whether there was any to
// rewrite. Each dictionary keeps its length, so the cross-reference table
// still holds; one that cannot be rewritten in its own space is left as
// it is.
func pdfOneCryptFilter(data []byte) ([]byte, bool) {
	var out []byte
	for _, start := range pdfEncryptDicts(data) {
		d, ok := pdfParseDict(data, start)
		if !ok {
			continue
		}
		rewritten, ok := d.oneFilter(data)
		if !ok {
			continue
		}
		if out == nil {
			out = bytes.Clone(data)
		}
		copy(out[start:d.end], rewritten)
	}
	return out, out != nil
}

var (
	pdfEncryptRef    = regexp.MustCompile(`/Encrypt[\x00\t\n\f\r ]*(\d+)[\x00\t\n\f\r ]+(\d+)[\x00\t\n\f\r ]+R`)
	pdfEncryptDirect = regexp.MustCompile(`/Encrypt[\x00\t\n\f\r ]*<<`)
)

// pdfEncryptDicts returns the offsets of the "<<" of every encryption
// dictionary of data: those written in a trailer, and every version of the
// objects a trailer refers to (an incremental update may have rewritten
// one). An encryption dictionary is never in an object stream (whose
// content is itself encrypted), so it is always in the file's bytes.
func pdfEncryptDicts(data []byte) []int {
	var starts []int
	seen := map[string]bool{}
	for _, m := range pdfEncryptRef.FindAllSubmatch(data, -1) {
		num, gen := string(m[1]), string(m[2])
		if seen[num+" "+gen] {
			continue
		}
		seen[num+" "+gen] = true
		obj := regexp.MustCompile(`(?:^|[^0-9])` + num + `[\x00\t\n\f\r ]+` + gen + `[\x00\t\n\f\r ]+obj[\x00\t\n\f\r ]*<<`)
		for _, loc := range obj.FindAllIndex(data, -1) {
			starts = append(starts, loc[1]-2)
		}
	}
	for _, loc := range pdfEncryptDirect.FindAllIndex(data, -1) {
		starts = append(starts, loc[1]-2)
	}
	return starts
}

// pdfToken is one lexical token of a PDF object: its bytes in the file.
type pdfToken struct {
	start, end int
	kind       byte // '<' "<<", '>' ">>", '[', ']', '/' name, '(' or 'h' string, 'r' regular (number, keyword)
}

// pdfDict is a parsed dictionary: its tokens, the end of its ">>", and
// where each of its own keys' values lie among its tokens.
type pdfDict struct {
	toks []pdfToken
	end  int
	// entries maps a key of the dictionary itself (not of one inside it)
	// to the token range [first, last] of its value.
	entries map[string][2]int
	keys    map[string]int // key → index of its token
}

func pdfWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func pdfDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// pdfParseDict lexes the dictionary that starts at data[start] ("<<").
func pdfParseDict(data []byte, start int) (*pdfDict, bool) {
	d := &pdfDict{entries: map[string][2]int{}, keys: map[string]int{}}
	depth := 0
	i := start
	for {
		for i < len(data) && (pdfWhite(data[i]) || data[i] == '%') {
			if data[i] == '%' {
				for i < len(data) && data[i] != '\n' && data[i] != '\r' {
					i++
				}
				continue
			}
			i++
		}
		if i >= len(data) || len(d.toks) > 4096 {
			return nil, false
		}
		t := pdfToken{start: i}
		switch c := data[i]; {
		case c == '<' && i+1 < len(data) && data[i+1] == '<':
			t.kind, i = '<', i+2
			depth++
		case c == '>' && i+1 < len(data) && data[i+1] == '>':
			t.kind, i = '>', i+2
			depth--
		case c == '<':
			t.kind = 'h'
			j := bytes.IndexByte(data[i:], '>')
			if j < 0 {
				return nil, false
			}
			i += j + 1
		case c == '(':
			t.kind = '('
			nest := 0
		str:
			for ; i < len(data); i++ {
				switch data[i] {
				case '\\':
					i++
				case '(':
					nest++
				case ')':
					if nest--; nest == 0 {
						break str
					}
				}
			}
			if i >= len(data) {
				return nil, false
			}
			i++
		case c == '[' || c == ']':
			t.kind, i = c, i+1
		case c == '/':
			t.kind = '/'
			for i++; i < len(data) && !pdfWhite(data[i]) && !pdfDelim(data[i]); i++ {
			}
		case pdfDelim(c):
			return nil, false
		default:
			t.kind = 'r'
			for ; i < len(data) && !pdfWhite(data[i]) && !pdfDelim(data[i]); i++ {
			}
		}
		t.end = i
		d.toks = append(d.toks, t)
		if depth == 0 {
			d.end = i
			break
		}
	}
	// The entries of the dictionary itself: a key at depth 1, then one
	// value: a token, or a bracketed run, or "n g R".
	depth = 0
	for k := 0; k < len(d.toks); k++ {
		t := d.toks[k]
		switch t.kind {
		case '<', '[':
			depth++
			continue
		case '>', ']':
			depth--
			continue
		}
		if depth != 1 || t.kind != '/' || k+1 >= len(d.toks) {
			continue
		}
		first, last := k+1, k+1
		switch d.toks[first].kind {
		case '<', '[':
			nest := 0
		value:
			for last = first; last < len(d.toks); last++ {
				switch d.toks[last].kind {
				case '<', '[':
					nest++
				case '>', ']':
					if nest--; nest == 0 {
						break value
					}
				}
			}
		case 'r':
			if first+2 < len(d.toks) && d.toks[first+1].kind == 'r' && string(data[d.toks[first+2].start:d.toks[first+2].end]) == "R" {
				last = first + 2
			}
		}
		key := string(data[t.start+1 : t.end])
		d.keys[key] = k
		d.entries[key] = [2]int{first, last}
		k = last
	}
	return d, true
}

// name returns the value of key when it is a name, without its slash.
func (d *pdfDict) name(data []byte, key string) (string, bool) {
	e, ok := d.entries[key]
	if !ok || e[0] != e[1] || d.toks[e[0]].kind != '/' {
		return "", false
	}
	t := d.toks[e[0]]
	return string(data[t.start+1 : t.end]), true
}

// oneFilter writes the dictionary again with StmF's filter (Identity when
// it names none) for both StmF and StrF, as compactly as PDF allows, padded
// with spaces to its old length. It returns false for a dictionary that
// needs no rewriting or does not fit, even without the AuthEvent entries,
// which only restate the default.
func (d *pdfDict) oneFilter(data []byte) ([]byte, bool) {
	if v, err := strconv.Atoi(d.value(data, "V")); err != nil || v < 4 {
		return nil, false
	}
	stm, stmOK := d.name(data, "StmF")
	if str, strOK := d.name(data, "StrF"); stmOK && strOK && str == stm {
		return nil, false
	}
	if !stmOK {
		stm = "Identity"
	}
	size := d.end - d.toks[0].start
	for _, dropAuthEvent := range []bool{false, true} {
		b := d.write(data, stm, dropAuthEvent)
		if len(b) <= size {
			return append(b, bytes.Repeat([]byte(" "), size-len(b))...), true
		}
	}
	return nil, false
}

// value returns the bytes of key's value when it is one token.
func (d *pdfDict) value(data []byte, key string) string {
	e, ok := d.entries[key]
	if !ok || e[0] != e[1] {
		return ""
	}
	return string(data[d.toks[e[0]].start:d.toks[e[0]].end])
}

func (d *pdfDict) write(data []byte, filter string, dropAuthEvent bool) []byte {
	var b []byte
	var prev byte
	emit := func(kind byte, tok []byte) {
		// Only a regular token after a name or another regular token needs
		// white space to stay apart from it.
		if kind == 'r' && (prev == 'r' || prev == '/') {
			b = append(b, ' ')
		}
		b = append(b, tok...)
		prev = kind
	}
	skip := map[int]bool{}
	for _, key := range []string{"StmF", "StrF"} {
		if k, ok := d.keys[key]; ok {
			e := d.entries[key]
			for j := k; j <= e[1]; j++ {
				skip[j] = true
			}
		}
	}
	for k, t := range d.toks {
		if skip[k] {
			continue
		}
		tok := data[t.start:t.end]
		if dropAuthEvent && t.kind == '/' && string(tok) == "/AuthEvent" && k+1 < len(d.toks) && string(data[d.toks[k+1].start:d.toks[k+1].end]) == "/DocOpen" {
			skip[k+1] = true
			continue
		}
		if k == len(d.toks)-1 {
			emit('/', []byte("/StmF/"+filter))
			emit('/', []byte("/StrF/"+filter))
		}
		emit(t.kind, tok)
	}
	return b
}
