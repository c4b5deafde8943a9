package extract

import (
	"bytes"
	"context"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Subtitles (WebVTT, SubRip) read as the text of their cues in order, one
// cue a line: cue numbers and identifiers, timings and cue settings, and
// WebVTT's NOTE, STYLE and REGION blocks are left out, and so is markup
// (<i>, <v Speaker>, <c.class>, <font>, karaoke timestamps, SubRip's {\an8}
// positioning); character references are decoded.

// MIME types of subtitles.
const (
	typeVTT    = "text/vtt"
	typeSubRip = "application/x-subrip"
)

func init() {
	register(&format{
		name:    "subtitle",
		types:   []string{typeVTT, typeSubRip, "application/x-srt", "text/x-srt", "text/srt"},
		extract: extractSubtitle,
	})
}

// looksLikeSubRip reports whether data starts like a SubRip file: a cue
// number, then a timing line. mimetype wants the number to be 1, no byte
// order mark and "\n" line ends; files in the wild have all three.
func looksLikeSubRip(data []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head(data, 1024), utf8BOM), " \t\r\n")
	num, rest, ok := bytes.Cut(b, []byte("\n"))
	num = bytes.TrimSpace(num)
	if !ok || len(num) == 0 || len(num) > 9 || !allDigits(string(num)) {
		return false
	}
	timing, _, _ := bytes.Cut(rest, []byte("\n"))
	return isTimingLine(timing)
}

// isTimingLine reports whether line is a cue timing line:
// "00:00:01,000 --> 00:00:04,200" (SubRip) or "00:01.000 --> 00:04.200
// align:start" (WebVTT).
func isTimingLine(line []byte) bool {
	from, _, ok := bytes.Cut(line, []byte("-->"))
	if !ok {
		return false
	}
	from = bytes.TrimSpace(from)
	colon := bytes.IndexByte(from, ':')
	return colon > 0 && colon < len(from)-1 && from[0] >= '0' && from[0] <= '9'
}

func extractSubtitle(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	data := bytes.TrimPrefix(in.Data, utf8BOM)
	res := &Result{Meta: map[string]string{}}
	if !utf8.Valid(data) {
		// SubRip files come in whatever charset their writer used.
		if m := b.lim.MaxText; m >= 0 && int64(len(data)) > 8*m+8 {
			// No more is decoded than the text it may yield: a cue's
			// text is more than an eighth of its lines.
			data = data[:8*m+8]
			defer b.markTruncated()
		}
		s, cs, err := decodeText(data, "")
		if err != nil {
			return nil, err
		}
		data = []byte(s)
		res.Meta["charset"] = cs
	}
	vtt := in.Type == typeVTT
	w := textSink{bud: b}
	cues := 0
	first := true
	for n := 0; len(data) > 0; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if b.full() {
			break
		}
		var block []byte
		block, data = nextBlock(data)
		if len(block) == 0 {
			continue
		}
		lines := bytes.Split(bytes.TrimRight(block, "\r\n"), []byte("\n"))
		for i, l := range lines {
			lines[i] = bytes.TrimRight(l, "\r")
		}
		if first && vtt {
			first = false
			if h := bytes.TrimSpace(lines[0]); bytes.HasPrefix(h, []byte("WEBVTT")) {
				res.Title = strings.TrimSpace(strings.TrimLeft(string(h[len("WEBVTT"):]), " \t-–:"))
				continue
			}
		}
		first = false
		if vtt && isVTTMetaBlock(lines[0]) {
			continue
		}
		text := lines
		for i, l := range lines {
			if isTimingLine(l) {
				text = lines[i+1:]
				cues++
				break
			}
			if i == len(lines)-1 {
				// No timing: a WebVTT block that is no cue, or the rest
				// of a SubRip cue that held an empty line.
				if vtt {
					text = nil
				}
			}
		}
		cue := cueText(text, b.left())
		if cue == "" {
			continue
		}
		if w.Len() > 0 {
			w.writeByte('\n')
		}
		w.writeString(cue)
	}
	res.Text = w.String()
	res.Meta["cues"] = strconv.Itoa(cues)
	return res, nil
}

// nextBlock returns the lines of data up to the next empty line and the
// rest after it, skipping empty lines before the block.
func nextBlock(data []byte) (block, rest []byte) {
	start, end := -1, 0
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if j >= 0 {
			next = i + j + 1
		}
		if len(bytes.TrimSpace(data[i:next])) == 0 {
			if start >= 0 {
				return data[start:end], data[next:]
			}
		} else {
			if start < 0 {
				start = i
			}
			end = next
		}
		i = next
	}
	if start < 0 {
		return nil, nil
	}
	return data[start:end], nil
}

// isVTTMetaBlock reports whether a WebVTT block starting with line is a
// comment, a style sheet or a region definition.
func isVTTMetaBlock(line []byte) bool {
	for _, kw := range []string{"NOTE", "STYLE", "REGION"} {
		if rest, ok := bytes.CutPrefix(line, []byte(kw)); ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t') {
			return true
		}
	}
	return false
}

// cueText returns a cue's lines as one line of text, markup removed, no
// longer than about max bytes (negative: no limit). A SubRip cue number
// left alone on a line (a damaged file) is not text.
func cueText(lines [][]byte, max int64) string {
	var b strings.Builder
	for _, l := range lines {
		if max >= 0 && int64(b.Len()) > max {
			break // more than the budget can take
		}
		s := stripCueMarkup(string(l))
		if s == "" || allDigits(s) && len(lines) == 1 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// stripCueMarkup removes tags ("<i>", "</c>", "<v Roger>", "<00:00:09.000>")
// and SubRip's override codes ("{\an8}"), decodes character references and
// folds white space.
func stripCueMarkup(s string) string {
	if strings.ContainsAny(s, "<{") {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '<' && i+1 < len(s) && isTagStart(s[i+1]) {
				if j := strings.IndexByte(s[i:], '>'); j > 0 {
					i += j
					continue
				}
			}
			if c == '{' && i+1 < len(s) && s[i+1] == '\\' {
				if j := strings.IndexByte(s[i:], '}'); j > 0 {
					i += j
					continue
				}
			}
			b.WriteByte(c)
		}
		s = b.String()
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return collapseSpace(s)
}

func isTagStart(c byte) bool {
	return c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
