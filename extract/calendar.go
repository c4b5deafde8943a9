package extract

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"strconv"
	"strings"
	"unicode/utf8"
)

// iCalendar (RFC 5545) and vCard (RFC 6350, and the 2.1 and 3.0 versions
// address books still export) share one syntax: content lines
// "NAME;PARAM=VALUE:value", folded at 75 octets by a line break and a space,
// with text values escaping commas, semicolons, backslashes and line breaks.
// Both read as text: a calendar one event, to-do or journal entry a
// paragraph (its summary, when, where, and description), an address book
// one card a paragraph (name, organisation, title, telephones, e-mail
// addresses, postal addresses, note). Binary values (attachments, photos)
// and the properties no reader reads as text (UIDs, time stamps, time
// zones, alarms) are left out.

// MIME types of calendars and address books.
const (
	typeCalendar = "text/calendar"
	typeVCard    = "text/vcard"
)

func init() {
	register(&format{
		name:    "calendar",
		types:   []string{typeCalendar, "text/x-vcalendar", "application/ics"},
		extract: extractCalendar,
	})
	register(&format{
		name:    "vcard",
		types:   []string{typeVCard, "text/x-vcard", "text/directory"},
		extract: extractCalendar,
	})
}

// looksLikeCalendar reports whether data starts like an iCalendar or a
// vCard file (after a byte order mark or blank lines, which mimetype does
// not allow), returning its type.
func looksLikeCalendar(data []byte) string {
	b := bytes.TrimLeft(bytes.TrimPrefix(head(data, 512), utf8BOM), " \t\r\n")
	switch {
	case len(b) >= 15 && bytes.EqualFold(b[:15], []byte("BEGIN:VCALENDAR")):
		return typeCalendar
	case len(b) >= 11 && bytes.EqualFold(b[:11], []byte("BEGIN:VCARD")):
		return typeVCard
	}
	return ""
}

// contentLine is one unfolded content line, still in the document: its
// value is decoded only when written.
type contentLine struct {
	name   string // upper case
	params string // ";PARAM=VALUE..." as written, upper-cased names
	// value is the raw value: the physical lines from the colon on,
	// continuation lines with their leading space.
	value []byte
}

// param returns the value of the parameter name (upper case), unquoted.
func (l *contentLine) param(name string) string {
	for _, p := range splitParams(l.params) {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(k, name) {
			return strings.Trim(v, `"`)
		}
		if !ok && name == "ENCODING" && strings.EqualFold(k, "QUOTED-PRINTABLE") {
			return k // vCard 2.1 names some parameters by value alone
		}
	}
	return ""
}

// splitParams splits ";A=1;B="x;y"" on the semicolons outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				if i > start {
					out = append(out, s[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// calendarComponent is an event, a to-do, a journal entry or a card being
// read: the lines it will write, in the order they are written.
type calendarComponent struct {
	kind  string // VEVENT, VTODO, VJOURNAL, VCARD
	lines map[string]*contentLine
	// cardLines are a card's lines in their order, those read as text.
	cardLines []*contentLine
}

// calendarProps are what a calendar component writes, in this order.
var calendarProps = []string{"SUMMARY", "DTSTART", "DTEND", "DUE", "LOCATION", "DESCRIPTION", "COMMENT"}

// cardProps are the properties of a card read as text.
var cardProps = map[string]bool{
	"FN": true, "N": true, "NICKNAME": true, "ORG": true, "TITLE": true, "ROLE": true, "TEL": true,
	"EMAIL": true, "ADR": true, "NOTE": true, "CATEGORIES": true,
}

// cardLinesMax bounds the lines a card keeps to write: each is a few words
// of a document held whole, but a hostile card may have millions.
const cardLinesMax = 4096

func extractCalendar(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	data := bytes.TrimPrefix(in.Data, utf8BOM)
	res := &Result{Meta: map[string]string{}}
	if !utf8.Valid(data) {
		// A writer may fold a line inside a character, which unfolding
		// restores.
		if u := unfoldAll(data); utf8.Valid(u) {
			data = u
		}
	}
	if !utf8.Valid(data) {
		// Calendars are UTF-8 by definition; an old address book may be
		// in a legacy charset, which is guessed as plain text's is.
		s, cs, err := decodeText(data, "")
		if err != nil {
			return nil, err
		}
		data = []byte(s)
		res.Meta["charset"] = cs
	}
	w := textSink{bud: b}
	var (
		comp       *calendarComponent
		depth      int // inside components, comp's own included
		compDepth  int // the depth of comp
		components int
	)
	err := eachContentLine(data, func(l *contentLine) error {
		if components%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if b.full() {
			return io.EOF
		}
		switch l.name {
		case "BEGIN":
			depth++
			kind := strings.ToUpper(strings.TrimSpace(string(l.value)))
			if comp == nil {
				switch kind {
				case "VEVENT", "VTODO", "VJOURNAL", "VCARD":
					comp = &calendarComponent{kind: kind, lines: map[string]*contentLine{}}
					compDepth = depth
				}
			}
			return nil
		case "END":
			if comp != nil && depth == compDepth {
				components++
				if w.Len() > 0 {
					w.writeString("\n\n")
				}
				comp.write(&w)
				comp = nil
			}
			depth = max(depth-1, 0)
			return nil
		}
		if comp == nil {
			if depth == 1 && (l.name == "X-WR-CALNAME" || l.name == "NAME") && res.Title == "" {
				res.Title = collapseSpace(cutUTF8(string(decodeContentValue(l, false, metaFieldMax)), metaFieldMax))
			}
			return nil
		}
		if depth != compDepth {
			return nil // an alarm inside an event, a time zone's rules
		}
		if comp.kind == "VCARD" {
			if cardProps[l.name] && len(comp.cardLines) < cardLinesMax {
				comp.cardLines = append(comp.cardLines, l)
			}
			return nil
		}
		if _, seen := comp.lines[l.name]; !seen {
			comp.lines[l.name] = l
		}
		return nil
	})
	if err != nil && err != io.EOF {
		return nil, err
	}
	if comp != nil {
		// A component left open at the end of a cut or damaged file still
		// holds its text.
		components++
		if w.Len() > 0 {
			w.writeString("\n\n")
		}
		comp.write(&w)
	}
	res.Text = strings.TrimSpace(w.String())
	if in.Type == typeVCard || in.Type == "text/x-vcard" || in.Type == "text/directory" {
		res.Meta["cards"] = strconv.Itoa(components)
	} else {
		res.Meta["entries"] = strconv.Itoa(components)
	}
	return res, nil
}

// write writes a component's text, one property a line.
func (c *calendarComponent) write(w *textSink) {
	left := w.bud.left()
	first := true
	line := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if !first {
			w.writeByte('\n')
		}
		first = false
		w.writeString(s)
	}
	if c.kind == "VCARD" {
		hasFN := false
		for _, l := range c.cardLines {
			hasFN = hasFN || l.name == "FN"
		}
		for _, l := range c.cardLines {
			if l.name == "N" && hasFN {
				continue // the formatted name says it better
			}
			line(cardValue(l, left))
		}
		return
	}
	for _, p := range calendarProps {
		l := c.lines[p]
		if l == nil {
			continue
		}
		switch p {
		case "DTSTART", "DUE":
			when := calendarTime(l)
			if end := c.lines["DTEND"]; p == "DTSTART" && end != nil {
				when += " – " + calendarTime(end)
			}
			line(when)
		case "DTEND":
			// Written with DTSTART.
			if c.lines["DTSTART"] == nil {
				line(calendarTime(l))
			}
		default:
			line(string(decodeContentValue(l, false, left)))
		}
	}
}

// cardValue returns the text of a card's property: a structured value's
// parts (a name's, an address's) joined, empty ones dropped.
func cardValue(l *contentLine, max int64) string {
	structured := l.name == "N" || l.name == "ADR" || l.name == "ORG"
	v := string(decodeContentValue(l, structured, max))
	if !structured {
		return v
	}
	// The parts were split on unescaped semicolons, marked by
	// decodeContentValue with a unit separator.
	parts := strings.Split(v, "\x1f")
	if l.name == "N" && len(parts) >= 2 {
		// Family; Given; Additional; Prefixes; Suffixes -> Given Family.
		parts = []string{at(parts, 3), parts[1], at(parts, 2), parts[0], at(parts, 4)}
	}
	sep := ", "
	if l.name == "N" {
		sep = " "
	}
	var keep []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// calendarTime writes a date or date-time value as people read it:
// "2025-03-12 09:30 Europe/Paris", "2025-03-12 08:30 UTC", "2025-04-01".
func calendarTime(l *contentLine) string {
	v := strings.TrimSpace(string(unfold(l.value)))
	zone := l.param("TZID")
	if strings.HasSuffix(v, "Z") {
		v, zone = v[:len(v)-1], "UTC"
	}
	date, clock, hasClock := strings.Cut(v, "T")
	if len(date) != 8 || !allDigits(date) || (hasClock && (len(clock) < 4 || !allDigits(clock))) {
		return v // not a date this reads; kept as written
	}
	out := date[:4] + "-" + date[4:6] + "-" + date[6:]
	if hasClock {
		out += " " + clock[:2] + ":" + clock[2:4]
		if zone != "" {
			out += " " + zone
		}
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// eachContentLine calls fn with each content line of data, unfolded. A
// line without a colon (damage, or text outside the syntax) is skipped.
// fn's error ends the walk.
func eachContentLine(data []byte, fn func(*contentLine) error) error {
	for len(data) > 0 {
		// A logical line: its first physical line and the lines that
		// continue it, starting with a space or a tab. vCard 2.1's
		// quoted-printable values continue a line ending with "=".
		end := 0
		qp := false
		first := true
		for end < len(data) {
			nl := bytes.IndexByte(data[end:], '\n')
			if nl < 0 {
				end = len(data)
				break
			}
			phys := bytes.TrimRight(data[end:end+nl], "\r")
			if first {
				if colon := contentColon(phys); colon >= 0 && bytes.Contains(bytes.ToUpper(phys[:colon]), []byte("QUOTED-PRINTABLE")) {
					qp = true
				}
				first = false
			}
			end += nl + 1
			if end >= len(data) {
				break
			}
			if c := data[end]; c == ' ' || c == '\t' {
				continue
			}
			if qp && bytes.HasSuffix(phys, []byte("=")) {
				continue
			}
			break
		}
		raw := data[:end]
		data = data[end:]
		colon := contentColon(raw)
		if colon <= 0 {
			continue
		}
		nameParams := unfold(raw[:colon])
		name, params, _ := bytes.Cut(nameParams, []byte(";"))
		if i := bytes.IndexByte(name, '.'); i >= 0 {
			name = name[i+1:] // a vCard group: "item1.EMAIL"
		}
		l := &contentLine{
			name:   strings.ToUpper(strings.TrimSpace(string(name))),
			params: string(params),
			value:  raw[colon+1:],
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// contentColon returns the index of the colon ending a line's name and
// parameters: the first outside a quoted parameter value.
func contentColon(b []byte) int {
	quoted := false
	for i, c := range b {
		switch c {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i
			}
		case '\n':
			if i+1 < len(b) && b[i+1] != ' ' && b[i+1] != '\t' {
				return -1
			}
		}
	}
	return -1
}

// unfold removes the line breaks of folded lines, each with the space or
// tab that follows it, and the line's own ending.
func unfold(b []byte) []byte {
	b = bytes.TrimRight(b, "\r\n")
	if bytes.IndexByte(b, '\n') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b...)
			break
		}
		out = append(out, bytes.TrimRight(b[:i], "\r")...)
		b = b[i+1:]
		if len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
			b = b[1:]
		}
	}
	return out
}

// unfoldAll removes the folds of a whole document: each line break
// followed by a space or a tab, with that space or tab.
func unfoldAll(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 || i+1 >= len(data) || (data[i+1] != ' ' && data[i+1] != '\t') {
			if i < 0 {
				i = len(data) - 1
			}
			out = append(out, data[:i+1]...)
			data = data[i+1:]
			continue
		}
		out = append(out, bytes.TrimSuffix(data[:i], []byte("\r"))...)
		data = data[i+2:]
	}
	return out
}

// decodeContentValue returns a text value unfolded and unescaped: "\n" is
// a line break, "\," "\;" "\\" the character itself. In a structured
// value (a name, an address), a semicolon that is not escaped separates
// parts and becomes a unit separator (0x1F), which cardValue splits on.
// Quoted-printable values (vCard 2.1) are decoded, in the charset they
// name. No more is decoded than max bytes of text may come from (negative:
// all), the text budget left: a value longer than the budget is cut anyway.
func decodeContentValue(l *contentLine, structured bool, max int64) []byte {
	v := l.value
	if max >= 0 && int64(len(v)) > 3*max+16 {
		// An escape or a fold takes at most three bytes a character.
		n := 3*max + 16
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	if strings.EqualFold(l.param("ENCODING"), "QUOTED-PRINTABLE") {
		// Soft line breaks ("=" at the end of a line) join lines;
		// quotedprintable's reader takes them.
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(bytes.TrimRight(v, "\r\n"))))
		if err == nil || len(dec) > 0 {
			v = dec
		}
		if cs := l.param("CHARSET"); cs != "" && !strings.EqualFold(cs, "utf-8") {
			if s, _, err := decodeText(v, cs); err == nil {
				v = []byte(s)
			}
		}
		v = []byte(strings.ToValidUTF8(string(v), "\uFFFD"))
	} else {
		v = unfold(v)
	}
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n', 'N':
				out = append(out, '\n')
			default:
				out = append(out, v[i])
			}
		case c == ';' && structured:
			out = append(out, 0x1f)
		case c == '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}
