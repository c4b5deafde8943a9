package extract

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

func init() {
	register(&format{
		name:    "email",
		types:   []string{typeEmail},
		extract: extractEmail,
	})
}

// maxNesting bounds how deep multiparts may nest. enmime's time doubles
// with each level of multiparts that are never closed (12 levels of a few
// bytes take 10 ms, 20 a second, 25 half a minute, and the goroutine runs
// on after the time limit abandons it); no message of the SpamAssassin
// corpus nests deeper than 2.
const maxNesting = 12

// emailOptions configure both parsers.
var emailOptions = []enmime.Option{
	// A damaged part costs that part, not the message.
	enmime.SkipMalformedParts(true),
	enmime.SetReadPartErrorPolicy(enmime.AllowCorruptTextPartErrorPolicy),
	enmime.MultipartWOBoundaryAsSinglePart(true),
	enmime.MaxStoredPartErrors(100),
	// HTML bodies go through the HTML extractor, so that an email reads
	// like the same page uploaded on its own.
	enmime.DisableTextConversion(true),
}

var (
	// emailParser trusts declared charsets. Detecting the charset of
	// every text part, as enmime does by default, takes three quarters
	// of the time of a typical message, and matters for 9 of the 6,046
	// SpamAssassin messages (Chinese declared as ASCII or ISO-8859-1);
	// re-parsing the 68 that read as misdecoded gives all 6,046 the text
	// detection gives them, four times faster.
	//
	// A text part that declares no charset is taken for UTF-8, of which
	// ASCII, the standard's default, is a part: enmime would detect it
	// even with detection off, and most such parts are plain ASCII.
	// Bytes that are not UTF-8 then read as misdecoded, and detection
	// has its turn.
	emailParser = enmime.NewParser(append(emailOptions, enmime.DisableCharacterDetection(true),
		enmime.SetCustomParseMediaType(undeclaredAsUTF8))...)
	// emailParserDetect detects charsets, for the messages whose text
	// reads as a wrong declaration (see misdecoded).
	emailParserDetect = enmime.NewParser(emailOptions...)
)

// undeclaredAsUTF8 parses a media type as enmime does, and gives a text
// type without a charset the charset UTF-8.
func undeclaredAsUTF8(ctype string) (mtype string, params map[string]string, invalid []string, err error) {
	mtype, params, invalid, err = mediatype.Parse(ctype)
	if err == nil && strings.HasPrefix(mtype, "text/") && params["charset"] == "" {
		if params == nil {
			params = map[string]string{}
		}
		params["charset"] = "utf-8"
	}
	return mtype, params, invalid, err
}

func extractEmail(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	lim := b.lim
	data := in.Data
	// An mbox export starts each message with a "From " envelope line,
	// which is not a header.
	if bytes.HasPrefix(data, []byte("From ")) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	if multipartDepth(data, maxNesting) > maxNesting {
		return nil, fmt.Errorf("%w: malformed MIME: multiparts nested more than %d deep", ErrCorrupt, maxNesting)
	}
	env, err := emailParser.ReadEnvelope(bytes.NewReader(data))
	if err == nil && (misdecoded(env.Text) || misdecoded(env.HTML)) {
		env, err = emailParserDetect.ReadEnvelope(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	for _, h := range []string{"from", "to", "cc", "subject", "date", "message-id"} {
		if v := strings.TrimSpace(env.GetHeader(h)); v != "" {
			res.Meta[h] = v
		}
	}
	res.Title = res.Meta["subject"]
	res.Author = authorOf(res.Meta["from"])
	if d, err := env.Date(); err == nil {
		res.Created = d
	} else if d, ok := parseLooseDate(res.Meta["date"]); ok {
		res.Created = d
	}

	text := strings.TrimSpace(normalizeNewlines(env.Text))
	htmlBody := env.HTML
	var body *enmime.Part
	if text == "" && strings.TrimSpace(htmlBody) == "" {
		// A single-part message whose Content-Type enmime could not parse
		// ("TEXT/PLAIN charset=US-ASCII", without the semicolon) is filed
		// as an attachment; its header still says it is the text.
		if body = declaredTextBody(env.Root); body != nil {
			s, _, err := decodeText(body.Content, "")
			if err != nil {
				return nil, err
			}
			if strings.Contains(strings.ToLower(body.Header.Get("Content-Type")), "html") {
				htmlBody = s
			} else {
				text = strings.TrimSpace(normalizeNewlines(s))
			}
		} else if env.Root != nil && env.Root.FirstChild == nil && strings.HasPrefix(env.Root.ContentType, "multipart/") {
			// A multipart message whose parts never use the declared
			// boundary (a mailer that wrote "= Multipart" for
			// "=Multipart") parses as nothing at all; its raw body is
			// still what the sender wrote.
			if raw := rawBody(data); len(bytes.TrimSpace(raw)) > 0 {
				s, _, err := decodeText(raw, "")
				if err != nil {
					return nil, err
				}
				text = strings.TrimSpace(normalizeNewlines(s))
				res.Warnings = append(res.Warnings, "no MIME part uses the declared boundary; the raw body is kept as text")
			}
		}
	}
	switch {
	case text == "" && strings.TrimSpace(htmlBody) != "", thinAlternative(text, htmlBody):
		h, err := htmlText(ctx, htmlBody, b)
		if err != nil {
			return nil, err
		}
		// A short plain-text alternative ("this message is in HTML",
		// a link to a web version) beside an HTML part that carries the
		// message: the HTML is the richer one.
		if len(h.text) > 2*len(text) {
			text = h.text
			if h.lang != "" {
				res.Meta["lang"] = h.lang
			}
		} else {
			text = b.clip(text)
		}
	default:
		text = b.clip(text)
	}
	res.Text = text

	if err := emailChildren(env, body, res, lim); err != nil {
		return nil, err
	}
	for _, e := range env.Errors {
		res.Warnings = append(res.Warnings, e.Error())
	}
	return res, nil
}

// emailChildren collects attachments and the non-text parts shown inline
// (images of an HTML body) as documents of their own. The text body is not
// a child: it is the email's text.
func emailChildren(env *enmime.Envelope, body *enmime.Part, res *Result, lim Limits) error {
	var parts []*enmime.Part
	for _, p := range env.Attachments {
		if p != body {
			parts = append(parts, p)
		}
	}
	for _, p := range env.Inlines {
		if p.ContentType == "text/plain" || p.ContentType == "text/html" {
			// An inline text part is (part of) the body.
			if p.FileName == "" {
				continue
			}
		}
		parts = append(parts, p)
	}
	for _, p := range env.OtherParts {
		if strings.HasPrefix(p.ContentType, "text/") || strings.HasPrefix(p.ContentType, "multipart/") {
			continue
		}
		parts = append(parts, p)
	}
	seen := map[*enmime.Part]bool{}
	unique := parts[:0]
	for _, p := range parts {
		if !seen[p] {
			seen[p] = true
			unique = append(unique, p)
		}
	}
	if lim.MaxChildren > 0 && len(unique) > lim.MaxChildren {
		return &LimitError{Limit: "children", Max: int64(lim.MaxChildren), Got: int64(len(unique))}
	}
	for _, p := range unique {
		name := p.FileName
		if name == "" {
			name = "part-" + p.PartID
		}
		if lim.MaxBytes > 0 && int64(len(p.Content)) > lim.MaxBytes {
			res.Warnings = append(res.Warnings, fmt.Sprintf("attachment %q left out: %d bytes exceed the bytes limit of %d", name, len(p.Content), lim.MaxBytes))
			continue
		}
		res.Children = append(res.Children, Child{Name: name, Type: p.ContentType, Data: p.Content})
	}
	return nil
}

// thinAlternative reports a plain-text body too short to be the message
// beside an HTML body much longer than it; only then is the HTML read as
// well, so that the usual message, whose two parts say the same, is not
// parsed twice.
func thinAlternative(text, htmlBody string) bool {
	return text != "" && len(text) < 512 && len(htmlBody) > 4*len(text)+1024
}

// declaredTextBody returns the root of a single-part message whose raw
// Content-Type header names a text type, though enmime read it as data.
func declaredTextBody(root *enmime.Part) *enmime.Part {
	if root == nil || root.FirstChild != nil || len(root.Content) == 0 || root.FileName != "" {
		return nil
	}
	ct := strings.ToLower(strings.TrimSpace(root.Header.Get("Content-Type")))
	if strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "text/html") {
		return root
	}
	return nil
}

// misdecoded reports whether text looks decoded with the wrong charset:
// replacement characters, or runs of Latin-1 letters that no Western
// language writes. A Chinese character read as ISO-8859-1 becomes two or
// three of them, so a phrase becomes a long run; Western text has an
// accented letter or two between ASCII ones.
func misdecoded(s string) bool {
	runs, run := 0, 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return true
		case r >= 0x80 && r <= 0xFF && r != 0xA0: // NBSP runs are layout
			run++
			if run == 3 {
				runs++
				if runs >= 3 {
					return true
				}
			}
		default:
			run = 0
		}
	}
	return false
}

// rawBody returns what follows a message's header.
func rawBody(data []byte) []byte {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(data, []byte(sep)); i >= 0 {
			return data[i+len(sep):]
		}
	}
	return nil
}

// authorOf returns the sender as a person reads it: the display name, or
// the address when there is none.
func authorOf(from string) string {
	if from == "" {
		return ""
	}
	if a, err := mail.ParseAddress(from); err == nil {
		if a.Name != "" {
			return a.Name
		}
		return a.Address
	}
	return from
}

// looseDateLayouts are dates net/mail refuses but real mailers wrote.
var looseDateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700 (MST)",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 2006",
}

func parseLooseDate(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, false
	}
	for _, l := range looseDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// multipartDepth returns an upper bound of how deep enmime will nest the
// multiparts of a message, stopping once it exceeds limit. Every line
// declaring a boundary opens a level, in a header or not, and only the
// terminator of the innermost open level ("--B--" at the start of a line)
// closes one. Overcounting is safe, undercounting is not: a level closed
// implicitly (by an enclosing delimiter) stays counted, because a
// declaration enmime never used could otherwise close real levels; an
// unreadable declaration (an RFC 2231 continuation) is never closed.
func multipartDepth(data []byte, limit int) int {
	var open [][]byte // declared boundaries, outermost first; nil: unreadable
	deepest := 0
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if n := len(open); n > 0 && open[n-1] != nil && bytes.HasPrefix(line, []byte("--")) {
			rest := bytes.TrimRight(line[2:], " \t\r")
			if b := open[n-1]; len(rest) == len(b)+2 && bytes.HasPrefix(rest, b) && bytes.HasSuffix(rest, []byte("--")) {
				open = open[:n-1]
			}
		}
		for rest := line; ; {
			b, next, ok := boundaryParam(rest)
			if !ok {
				break
			}
			open = append(open, b)
			deepest = max(deepest, len(open))
			if deepest > limit {
				return deepest
			}
			rest = next
		}
	}
	return deepest
}

// boundaryParam finds the next boundary parameter in a header line:
// "boundary", any case, then "=" or an RFC 2231 "*". It returns the value
// (nil when it is not a plain one) and the rest of the line.
func boundaryParam(line []byte) (value, rest []byte, ok bool) {
	const name = "boundary"
	for i := 0; i+len(name) <= len(line); i++ {
		// Every byte of every line of a message passes here: the cheap
		// first-letter test spares EqualFold almost all of them.
		if line[i]|0x20 != 'b' || !bytes.EqualFold(line[i:i+len(name)], []byte(name)) {
			continue
		}
		rest = bytes.TrimLeft(line[i+len(name):], " \t")
		if len(rest) == 0 || (rest[0] != '=' && rest[0] != '*') {
			continue
		}
		if rest[0] == '*' {
			return nil, rest[1:], true
		}
		rest = bytes.TrimLeft(rest[1:], " \t")
		if len(rest) > 0 && rest[0] == '"' {
			if j := bytes.IndexByte(rest[1:], '"'); j > 0 {
				return rest[1 : 1+j], rest[j+2:], true
			}
			return nil, nil, true
		}
		j := bytes.IndexAny(rest, "; \t\r")
		if j < 0 {
			j = len(rest)
		}
		if j == 0 {
			return nil, rest, true
		}
		return rest[:j], rest[j:], true
	}
	return nil, nil, false
}
