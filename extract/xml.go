package extract

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// XML is read as text: the character data of its elements in document
// order, each element that holds text on a line of its own unless it sits
// in running text (mixed content), attributes left out but for the few
// that carry text (alt, title, label). Known dialects are mapped onto that
// walk: feeds (Atom, RSS) keep their titles, summaries and contents, one
// entry a paragraph; XLIFF its source and target segments; KML and GML
// their names, descriptions and properties but no coordinates; SVG the
// text of its text, title and desc elements. DocBook, TEI and JATS read as
// generic XML, their title and author taken from their headers. Flat
// OpenDocument files (one XML document, office:document) go through the
// ODF reader of office.go.
//
// Every XML reader of the package (office parts, EPUB metadata aside) walks
// its tokens through xmlWalk, which bounds them: encoding/xml holds a token
// whole, so no token may be longer than the text budget, and reading stops
// once the budget is spent.

// MIME types of XML and its dialects.
const (
	typeXML     = "text/xml"
	typeAppXML  = "application/xml"
	typeAtom    = "application/atom+xml"
	typeRSS     = "application/rss+xml"
	typeXLIFF   = "application/x-xliff+xml" // as mimetype names it
	typeXLIFF2  = "application/xliff+xml"   // as IANA does
	typeKML     = "application/vnd.google-earth.kml+xml"
	typeGML     = "application/gml+xml"
	typeSVG     = "image/svg+xml"
	typeDocBook = "application/docbook+xml"
	typeTEI     = "application/tei+xml"
	typeJATS    = "application/jats+xml"
	typeFODT    = "application/vnd.oasis.opendocument.text-flat-xml"
	typeFODS    = "application/vnd.oasis.opendocument.spreadsheet-flat-xml"
	typeFODP    = "application/vnd.oasis.opendocument.presentation-flat-xml"
)

func init() {
	register(&format{
		name: "xml",
		types: []string{typeXML, typeAppXML, typeAtom, typeRSS, typeXLIFF, typeXLIFF2, typeKML,
			typeGML, typeSVG, typeDocBook, typeTEI, typeJATS},
		extract: extractXML,
	})
	register(&format{name: "fodf", types: []string{typeFODT, typeFODS, typeFODP}, extract: extractFlatODF})
}

// ---- The bounded token walk

// tokenFunc receives the tokens of an XML walk. Asked to skip a start
// element, the walk passes neither the element's content nor its end.
type tokenFunc func(tok xml.Token) (skip bool, err error)

// xmlTokenSlack is what an XML token may hold beyond the text budget: the
// markup around the text.
const xmlTokenSlack = 64 << 10

// xmlWalk reads one XML document token by token for its text, within the
// document's budget.
type xmlWalk struct {
	ctx context.Context
	bud *budget
	// refuse vets each token: refuseDTD for office parts, which never
	// declare a document type, refuseEntities for other XML.
	refuse func(xml.Token) error
	// fail names a read or syntax error (the part, the document); fn's own
	// errors are returned as they are.
	fail func(error) error
	// decoder makes the decoder; nil is newXMLDecoder.
	decoder func(io.Reader) *xml.Decoder
}

// each calls fn with each token read from r. It ends, without an error,
// where the text budget is spent: a token cut short there (encoding/xml
// hands over the text it holds before the error) still goes to fn. No
// token may be longer than the text budget and its slack: what it holds
// of text is more than the document may keep, so reading ends there too.
func (w xmlWalk) each(r io.Reader, fn tokenFunc) error {
	br := &boundedReader{r: r, bud: w.bud, max: -1}
	if w.bud != nil && w.bud.lim.MaxText >= 0 {
		br.max = w.bud.lim.MaxText + xmlTokenSlack
	}
	newDec := w.decoder
	if newDec == nil {
		newDec = newXMLDecoder
	}
	dec := newDec(br)
	depth := 0 // inside a skipped element
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
		br.since = 0
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if br.err == errTextFull {
			if cd, ok := tok.(xml.CharData); ok && err == nil && depth == 0 {
				if _, err := fn(cd); err != nil {
					return err
				}
			}
			return nil
		}
		if err == nil && w.refuse != nil {
			err = w.refuse(tok)
		}
		if err != nil {
			if w.fail != nil {
				return w.fail(err)
			}
			return err
		}
		if depth > 0 {
			switch tok.(type) {
			case xml.StartElement:
				depth++
			case xml.EndElement:
				depth--
			}
			continue
		}
		skip, err := fn(tok)
		if err != nil {
			return err
		}
		if _, start := tok.(xml.StartElement); skip && start {
			depth = 1
		}
	}
}

// boundedReader feeds an XML decoder until the document's text budget is
// spent or one token grows longer than max.
type boundedReader struct {
	r     io.Reader
	bud   *budget
	max   int64 // the longest token; negative: no limit
	since int64 // bytes read since the walk last took a token
	err   error // errTextFull once reading has stopped for the budget
}

func (r *boundedReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.bud.full() {
		r.err = errTextFull
		return 0, r.err
	}
	if r.max >= 0 && r.since > r.max {
		r.bud.markTruncated()
		r.err = errTextFull
		return 0, r.err
	}
	n, err := r.r.Read(p)
	r.since += int64(n)
	return n, err
}

// errEntities: an XML document declares entities. encoding/xml expands
// none, so they are harmless to read, but a document that declares them
// is hostile (a "billion laughs", external entities) or relies on them for
// its text, which would come out as "&name;" references.
var errEntities = fmt.Errorf("%w: the XML document declares entities in its DTD", ErrCorrupt)

// refuseEntities returns errEntities for a DOCTYPE declaration whose
// internal subset declares entities. A document type named by reference
// alone (DocBook's, JATS's, XHTML's public identifiers) is common and
// harmless: the DTD is never fetched.
func refuseEntities(tok xml.Token) error {
	if d, ok := tok.(xml.Directive); ok && bytes.HasPrefix(bytes.TrimSpace(d), []byte("DOCTYPE")) &&
		bytes.Contains(d, []byte("<!ENTITY")) {
		return errEntities
	}
	return nil
}

// xmlInput returns a reader of data in UTF-8 and the decoder to read it
// with, and the charset data was in when not UTF-8. encoding/xml reads
// UTF-8, and what a declaration names through CharsetReader; text in
// UTF-16, and text that is not in what its declaration says (undeclared
// text that is not UTF-8, a "UTF-16" declaration over UTF-8 bytes), are
// decoded here, and the declaration then ignored.
func xmlInput(data []byte) (io.Reader, func(io.Reader) *xml.Decoder, string) {
	var e encoding.Encoding
	name := ""
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		e, name = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16"
	case bytes.HasPrefix(data, []byte{'<', 0}):
		e, name = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le"
	case bytes.HasPrefix(data, []byte{0, '<'}):
		e, name = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be"
	case bytes.HasPrefix(data, utf8BOM):
		data = data[3:]
		if !utf8.Valid(data) {
			e = unicode.UTF8 // replaces invalid bytes
		}
	default:
		declared := strings.ToLower(xmlDeclaredEncoding(data))
		if declared != "" && declared != "utf-8" && !strings.HasPrefix(declared, "utf-16") {
			if ce, _ := lookupCharset(declared); ce != nil {
				return bytes.NewReader(data), newXMLDecoder, declared
			}
		}
		if !utf8.Valid(data) {
			if mostlyUTF8(data) {
				e = unicode.UTF8
			} else {
				e, name = guessCharset(data)
			}
		}
	}
	var r io.Reader = bytes.NewReader(data)
	if e != nil {
		r = transform.NewReader(r, e.NewDecoder())
	}
	return r, func(r io.Reader) *xml.Decoder {
		dec := newXMLDecoder(r)
		dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
		return dec
	}, name
}

// xmlDeclaredEncoding returns the encoding an XML declaration names.
func xmlDeclaredEncoding(data []byte) string {
	b := head(data, 256)
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return ""
	}
	if end := bytes.Index(b, []byte("?>")); end >= 0 {
		b = b[:end]
	}
	i := bytes.Index(b, []byte("encoding"))
	if i < 0 {
		return ""
	}
	b = bytes.TrimLeft(b[i+len("encoding"):], " \t\r\n")
	if len(b) == 0 || b[0] != '=' {
		return ""
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) < 2 || (b[0] != '"' && b[0] != '\'') {
		return ""
	}
	if j := bytes.IndexByte(b[1:], b[0]); j >= 0 {
		return string(b[1 : 1+j])
	}
	return ""
}

// ---- Generic XML and its dialects

// xmlDepthMax bounds the elements whose state the walk keeps; deeper ones
// are read as running text of the deepest kept.
const xmlDepthMax = 256

// xmlDialect says how the walk reads a vocabulary. Names are local names.
type xmlDialect struct {
	name string
	// only, when set, are the elements whose text is kept: the rest of a
	// drawing or a map is geometry and styling.
	only map[string]bool
	// skip are elements whose content is not text.
	skip map[string]bool
	// skipFunc decides the elements skip cannot name alone.
	skipFunc func(x *xmlText, t xml.StartElement) bool
	// entry elements are paragraphs of their own: feed entries,
	// translation units, placemarks, features.
	entry map[string]bool
	// html elements hold escaped HTML (RSS descriptions); with htmlType,
	// so does any element whose type attribute says "html" (Atom's text
	// constructs).
	html     map[string]bool
	htmlType bool
	// pre elements keep their white space.
	pre map[string]bool
	// attrs are the attributes whose values are text.
	attrs map[string]bool
	// title and author are paths ("feed/title", or a bare name anywhere)
	// whose first text is the document's title and author.
	title, author []string
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// breakElements end a line wherever they stand: XHTML's, TEI's and
// DocBook's line breaks.
var breakElements = set("br", "lb", "sbr", "line-break")

var (
	xmlGeneric = &xmlDialect{
		name:   "xml",
		skip:   set("script", "style", "binary", "binary-data"),
		pre:    set("programlisting", "screen", "literallayout", "synopsis", "preformat", "pre", "verbatim"),
		attrs:  set("alt", "title", "label"),
		title:  []string{"title", "article-title"},
		author: []string{"articleinfo/author", "info/author", "bookinfo/author", "titleStmt/author"},
	}
	xmlAtom = &xmlDialect{
		name: "atom",
		skip: set("id", "updated", "published", "link", "icon", "logo", "email", "uri", "generator"),
		skipFunc: func(_ *xmlText, t xml.StartElement) bool {
			// Content given by reference, or base64-encoded media.
			if t.Name.Local != "content" {
				return false
			}
			typ := strings.ToLower(attr(t, "type"))
			return attr(t, "src") != "" || !(typ == "" || typ == "text" || typ == "html" || typ == "xhtml" ||
				strings.HasPrefix(typ, "text/") || strings.HasSuffix(typ, "xml"))
		},
		entry:    set("entry"),
		htmlType: true,
		attrs:    set("label", "title"),
		title:    []string{"feed/title"},
		author:   []string{"feed/author/name"},
	}
	xmlRSS = &xmlDialect{
		name: "rss",
		skip: set("link", "guid", "pubDate", "lastBuildDate", "docs", "generator", "ttl", "cloud", "comments",
			"enclosure", "image", "textInput", "textinput", "skipHours", "skipDays", "rating", "webMaster",
			"managingEditor", "language", "date"),
		entry:  set("item"),
		html:   set("description", "encoded"),
		title:  []string{"channel/title"},
		author: []string{"channel/creator", "channel/author"},
	}
	xmlXLIFF = &xmlDialect{
		name: "xliff",
		// Headers are for tools, alternatives are not the translation,
		// and bpt, ept, ph and it hold the native codes of XLIFF 1.2.
		skip: set("header", "alt-trans", "bpt", "ept", "ph", "it", "originalData", "context-group",
			"count-group", "prop-group", "bin-unit", "skl", "matches"),
		entry: set("trans-unit", "unit"),
	}
	xmlKML = &xmlDialect{
		name:   "kml",
		only:   set("name", "description", "address", "Snippet", "snippet", "phoneNumber", "displayName", "value", "SimpleData"),
		entry:  set("Placemark"),
		html:   set("description"),
		title:  []string{"Document/name"},
		author: []string{"author/name"},
	}
	xmlGML = &xmlDialect{
		name: "gml",
		skipFunc: func(x *xmlText, t xml.StartElement) bool {
			// GML's own elements are geometry but for a feature's
			// names and descriptions and the collections holding
			// features; application schemas' elements are the
			// features' properties.
			if !strings.HasPrefix(x.prefixes[t.Name.Space], "http://www.opengis.net/gml") {
				return false
			}
			switch l := t.Name.Local; l {
			case "name", "description", "FeatureCollection", "featureMember", "featureMembers", "member":
				return false
			default:
				return true
			}
		},
		entry: set("featureMember", "member"),
	}
	xmlSVG = &xmlDialect{
		name:  "svg",
		only:  set("text", "title", "desc", "flowRoot", "foreignObject"),
		skip:  set("style", "script", "metadata"),
		attrs: set("aria-label"),
		title: []string{"svg/title"},
	}
)

// xmlDialectOf names the dialect of a document from its root element.
func xmlDialectOf(root xml.StartElement, prefixes map[string]string) *xmlDialect {
	ns := prefixes[root.Name.Space]
	switch root.Name.Local {
	case "feed":
		if strings.Contains(ns, "Atom") || strings.Contains(ns, "atom") {
			return xmlAtom
		}
	case "rss":
		return xmlRSS
	case "RDF":
		for _, v := range prefixes {
			if strings.HasPrefix(v, "http://purl.org/rss/") {
				return xmlRSS // RSS 1.0
			}
		}
	case "xliff":
		return xmlXLIFF
	case "kml":
		return xmlKML
	case "svg":
		return xmlSVG
	}
	for _, v := range prefixes {
		if strings.HasPrefix(v, "http://www.opengis.net/gml") {
			return xmlGML
		}
	}
	return xmlGeneric
}

func extractXML(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	data := in.Data
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, cfbMagic) {
		// A container that names its type with +xml (.vsdx, .3mf).
		return nil, fmt.Errorf("%w: %s in a ZIP or CFB container", ErrUnsupported, in.Type)
	}
	if in.Type == typeXML || in.Type == typeAppXML {
		// A type declared generic (an attachment) may be a flat
		// OpenDocument file.
		if t := xmlRootType(data); t == typeFODT || t == typeFODS || t == typeFODP {
			in2 := *in
			in2.Type = t
			return extractFlatODF(ctx, x, &in2, b)
		}
	}
	r, dec, cs := xmlInput(data)
	xt := &xmlText{
		dialect:  xmlGeneric,
		w:        xmlWriter{textWriter: textWriter{b: textSink{bud: b}}},
		prefixes: map[string]string{},
		res:      &Result{Meta: map[string]string{}},
		bud:      b,
	}
	walk := xmlWalk{ctx: ctx, bud: b, refuse: refuseEntities, decoder: dec,
		fail: func(err error) error {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("%w: XML: %v", ErrCorrupt, err)
		}}
	if err := walk.each(r, xt.token); err != nil {
		return nil, err
	}
	if !xt.rooted {
		return nil, fmt.Errorf("%w: no XML element", ErrCorrupt)
	}
	res := xt.res
	res.Text = xt.w.String()
	res.Title = collapseSpace(xt.title.String())
	res.Author = collapseSpace(xt.author.String())
	if cs != "" {
		res.Meta["charset"] = cs
	}
	if xt.dialect.entry != nil {
		res.Meta["entries"] = strconv.Itoa(xt.entries)
	}
	res.Meta["dialect"] = xt.dialect.name
	return res, nil
}

// xmlElem is the state of one open element.
type xmlElem struct {
	name string
	// text: character data of its own, not only white space.
	text bool
	// child: an element inside it wrote text.
	child bool
	// wrote: it or an element inside it wrote text.
	wrote bool
	entry bool
	only  bool
	pre   bool
}

// xmlText is the walk of one XML document.
type xmlText struct {
	dialect  *xmlDialect
	w        xmlWriter
	bud      *budget
	res      *Result
	rooted   bool
	stack    []xmlElem
	deeper   int // open elements past xmlDepthMax
	only     int // depth inside dialect.only elements
	pre      int
	entries  int
	prefixes map[string]string // namespace prefix -> name, as declared anywhere
	// html gathers the escaped HTML of an html element, htmlDepth its
	// depth (0: none).
	html      textSink
	htmlDepth int
	// title and author gather the first text of their paths while
	// titleDepth and authorDepth are the depths of those elements.
	title, author           strings.Builder
	titleDepth, authorDepth int
	titleDone, authorDone   bool
}

func (x *xmlText) token(tok xml.Token) (skip bool, err error) {
	switch t := tok.(type) {
	case xml.StartElement:
		return x.start(t), nil
	case xml.EndElement:
		x.end()
	case xml.CharData:
		x.chars(t)
	}
	return false, nil
}

func (x *xmlText) start(t xml.StartElement) (skip bool) {
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" && len(x.prefixes) < 1024 {
			x.prefixes[a.Name.Local] = a.Value
		} else if a.Name.Space == "" && a.Name.Local == "xmlns" && len(x.prefixes) < 1024 {
			x.prefixes[""] = a.Value
		}
	}
	local := t.Name.Local
	if !x.rooted {
		x.rooted = true
		x.dialect = xmlDialectOf(t, x.prefixes)
		x.rootMeta(t)
	}
	d := x.dialect
	if d.skip[local] || (d.skipFunc != nil && d.skipFunc(x, t)) {
		return true
	}
	x.capture(local, 1)
	if len(x.stack) >= xmlDepthMax || x.htmlDepth > 0 {
		x.deeper++
		return false
	}
	// An element after a sibling that held text starts a line of its
	// own, unless the two stand in running text.
	if x.w.soft {
		x.w.soft = false
		if p := x.top(); p == nil || !p.text {
			x.w.newline()
		}
	}
	if breakElements[local] {
		x.w.newline()
	}
	if d == xmlXLIFF && local == "file" {
		// XLIFF 1.2 names its languages on each file.
		for k, a := range map[string]string{"source_lang": "source-language", "target_lang": "target-language"} {
			if v := attr(t, a); v != "" && x.res.Meta[k] == "" {
				x.res.Meta[k] = v
			}
		}
	}
	e := xmlElem{name: local, entry: d.entry[local], only: d.only[local],
		pre: d.pre[local] || attr(t, "space") == "preserve"}
	if e.entry {
		x.entries++
		x.w.blank = true
	}
	if e.only {
		x.only++
	}
	if e.pre {
		x.pre++
	}
	x.stack = append(x.stack, e)
	if d.html[local] || (d.htmlType && attr(t, "type") == "html") {
		x.htmlDepth = len(x.stack)
		x.html = textSink{bud: x.bud, scratch: true}
	}
	if x.keeping() {
		for _, a := range t.Attr {
			if v := strings.TrimSpace(a.Value); v != "" && d.attrs[a.Name.Local] && a.Name.Space != "xmlns" {
				x.w.soft = false
				x.w.newline()
				x.write(v)
				x.w.soft = true
			}
		}
	}
	return false
}

func (x *xmlText) end() {
	x.capture("", -1)
	if x.deeper > 0 {
		x.deeper--
		return
	}
	if len(x.stack) == 0 {
		return // an end without its start: not well-formed, read on
	}
	if x.htmlDepth == len(x.stack) {
		x.htmlDepth = 0
		x.writeHTML()
	}
	e := x.stack[len(x.stack)-1]
	x.stack = x.stack[:len(x.stack)-1]
	if e.only {
		x.only--
	}
	if e.pre {
		x.pre--
	}
	if e.wrote {
		if e.child {
			x.w.soft = false
			x.w.newline()
		} else {
			x.w.soft = true
		}
		if p := x.top(); p != nil {
			p.child = true
			p.wrote = true
		}
	}
	if e.entry {
		x.w.soft = false
		x.w.blank = true
	}
}

func (x *xmlText) chars(t xml.CharData) {
	if x.htmlDepth > 0 {
		x.html.write(t)
		return
	}
	if x.titleDepth > 0 && x.title.Len() < metaFieldMax {
		x.title.Write(t)
	}
	if x.authorDepth > 0 && x.author.Len() < metaFieldMax {
		x.author.Write(t)
	}
	if !x.keeping() {
		return
	}
	s := string(t)
	p := x.top()
	if strings.TrimSpace(s) == "" {
		if x.pre > 0 && p != nil && p.text {
			x.w.pre(s)
		} else {
			x.w.text(s)
		}
		return
	}
	if p != nil {
		p.text = true
	}
	// Text after a sibling element in the same parent: running text.
	x.w.soft = false
	x.write(s)
}

// write writes text of the current element.
func (x *xmlText) write(s string) {
	x.w.paragraph()
	if x.pre > 0 {
		x.w.pre(s)
	} else {
		x.w.text(s)
	}
	if p := x.top(); p != nil {
		p.wrote = true
	}
}

// writeHTML writes the escaped HTML gathered from an html element, laid
// out as the HTML reader lays out a page.
func (x *xmlText) writeHTML() {
	s := x.html.String()
	x.html = textSink{}
	if strings.TrimSpace(s) == "" || !x.keeping() {
		return
	}
	// The HTML reader draws on a budget of its own, as large as what is
	// left of the document's, which its text is then charged to.
	sub := newBudget(Limits{MaxText: x.bud.left()})
	h, err := htmlText(context.Background(), s, sub)
	if err != nil || h.text == "" {
		return
	}
	if sub.full() {
		x.bud.markTruncated()
	}
	if x.w.started && !x.w.lineStart {
		x.w.newline()
	}
	for i, line := range strings.Split(h.text, "\n") {
		if i > 0 {
			x.w.newline()
		}
		x.write(line)
	}
	if p := x.top(); p != nil {
		p.child = true // the markup's blocks end on a line of their own
	}
}

// keeping reports whether text at this point is kept.
func (x *xmlText) keeping() bool {
	return x.dialect.only == nil || x.only > 0
}

func (x *xmlText) top() *xmlElem {
	if len(x.stack) == 0 {
		return nil
	}
	return &x.stack[len(x.stack)-1]
}

// capture follows the title and author paths: dir is 1 at an element's
// start (local its name), -1 at its end.
func (x *xmlText) capture(local string, dir int) {
	depth := len(x.stack) + x.deeper // of the element starting, before it is pushed
	if dir > 0 {
		depth++
		if !x.titleDone && x.titleDepth == 0 && x.pathMatches(local, x.dialect.title) {
			x.titleDepth = depth
		}
		if !x.authorDone && x.authorDepth == 0 && x.pathMatches(local, x.dialect.author) {
			x.authorDepth = depth
		}
		if x.authorDepth > 0 {
			x.author.WriteByte(' ') // between a name's parts
		}
		return
	}
	if x.titleDepth == depth {
		x.titleDepth = 0
		x.titleDone = strings.TrimSpace(x.title.String()) != ""
	}
	if x.authorDepth > 0 {
		x.author.WriteByte(' ')
	}
	if x.authorDepth == depth {
		x.authorDepth = 0
		x.authorDone = strings.TrimSpace(x.author.String()) != ""
	}
}

// pathMatches reports whether the element local, opening under the current
// stack, ends one of paths.
func (x *xmlText) pathMatches(local string, paths []string) bool {
	for _, p := range paths {
		parts := strings.Split(p, "/")
		if parts[len(parts)-1] != local {
			continue
		}
		parents := parts[:len(parts)-1]
		if len(parents) > len(x.stack) {
			continue
		}
		ok := true
		for i, name := range parents {
			if x.stack[len(x.stack)-len(parents)+i].name != name {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// rootMeta records what the root element says of the document.
func (x *xmlText) rootMeta(t xml.StartElement) {
	for _, a := range t.Attr {
		switch {
		case a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == ""):
			x.res.Meta["lang"] = strings.TrimSpace(a.Value)
		case x.dialect == xmlXLIFF && a.Name.Local == "srcLang":
			x.res.Meta["source_lang"] = a.Value
		case x.dialect == xmlXLIFF && a.Name.Local == "trgLang":
			x.res.Meta["target_lang"] = a.Value
		}
	}
	x.res.Meta["root"] = t.Name.Local
}

// xmlWriter lays out the text of an XML document on a textWriter. Whether
// an element that held text ends its line is known only from what follows
// it: another element (data, one field a line) or more text of the same
// parent (running text, "a <b>bold</b> word").
type xmlWriter struct {
	textWriter
	// soft: an element that held text has ended; the next element starts
	// a new line unless its parent holds running text.
	soft bool
	// blank: an empty line is owed before the next text (between entries).
	blank bool
}

// paragraph writes the empty line owed before text, if any.
func (w *xmlWriter) paragraph() {
	if !w.blank {
		return
	}
	w.blank = false
	if !w.started {
		return
	}
	if !w.lineStart {
		w.pending = '\n'
		w.flush()
	}
	w.pending = '\n'
}

// xmlRootType names an XML document's type from its root element (and the
// document type declaration before it), reading no further than the
// first element: "" when the start of data is not XML.
func xmlRootType(data []byte) string {
	b := head(data, 32<<10)
	var dec *xml.Decoder
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) {
		dec = newXMLDecoder(transform.NewReader(bytes.NewReader(b), unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()))
		dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	} else {
		dec = newXMLDecoder(bytes.NewReader(b))
		// An encoding the decoder does not know still names the root.
		dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
			if cr, err := charset.NewReaderLabel(label, in); err == nil {
				return cr, nil
			}
			return in, nil
		}
	}
	doctype := ""
	for range 64 {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return "" // text before any element: not XML
			}
		case xml.Directive:
			doctype = string(head(t, 1024))
		case xml.StartElement:
			return xmlTypeOf(t, doctype)
		}
	}
	return ""
}

// xmlTypeOf names the type of a document from its root element.
func xmlTypeOf(root xml.StartElement, doctype string) string {
	prefixes := map[string]string{}
	for _, a := range root.Attr {
		switch {
		case a.Name.Space == "xmlns":
			prefixes[a.Name.Local] = a.Value
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			prefixes[""] = a.Value
		}
	}
	ns := prefixes[root.Name.Space]
	switch root.Name.Local {
	case "document":
		if strings.HasPrefix(ns, "urn:oasis:names:tc:opendocument:xmlns:office") {
			switch attr(root, "mimetype") {
			case typeODT, "application/vnd.oasis.opendocument.text-master", "application/vnd.oasis.opendocument.text-web":
				return typeFODT
			case typeODS:
				return typeFODS
			case typeODP:
				return typeFODP
			}
		}
	case "html":
		return typeXHTML
	case "article", "book", "chapter", "section", "set", "part", "refentry":
		switch {
		case ns == "http://docbook.org/ns/docbook", strings.Contains(doctype, "DocBook"):
			return typeDocBook
		case strings.Contains(doctype, "JATS"), root.Name.Local == "article" && attr(root, "dtd-version") != "":
			return typeJATS
		}
	case "TEI", "teiCorpus":
		return typeTEI
	}
	switch d := xmlDialectOf(root, prefixes); d {
	case xmlAtom:
		return typeAtom
	case xmlRSS:
		return typeRSS
	case xmlXLIFF:
		return typeXLIFF
	case xmlKML:
		return typeKML
	case xmlSVG:
		return typeSVG
	case xmlGML:
		return typeGML
	}
	return typeXML
}

// ---- Flat OpenDocument

// extractFlatODF reads a flat OpenDocument file (.fodt, .fods, .fodp): the
// parts of a package as children of one office:document element. The
// body goes through the walk that reads a package's content.xml, so both
// forms of a document read the same; the metadata is the office:meta
// element's. Styles (and the headers in them), settings and scripts are
// left out, as they are of a package.
func extractFlatODF(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	typ := map[string]string{typeFODT: typeODT, typeFODS: typeODS, typeFODP: typeODP}[in.Type]
	if typ == "" {
		typ = typeODT
	}
	r, dec, _ := xmlInput(in.Data)
	var meta odfMetaFields
	rooted := false
	walk := func(fn tokenFunc) error {
		depth := 0
		inMeta, inBody := false, false
		var field *string // the metadata field being read
		w := xmlWalk{ctx: ctx, bud: b, refuse: refuseDTD, decoder: dec, fail: func(err error) error {
			if errors.Is(err, ErrCorrupt) {
				return err
			}
			return fmt.Errorf("%w: flat OpenDocument: %v", ErrCorrupt, err)
		}}
		return w.each(r, func(tok xml.Token) (bool, error) {
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				switch {
				case depth == 1:
					if t.Name.Local != "document" {
						return false, fmt.Errorf("%w: a flat OpenDocument file's root is office:document, not %s", ErrCorrupt, t.Name.Local)
					}
					rooted = true
					return false, nil
				case depth == 2:
					switch t.Name.Local {
					case "meta":
						inMeta = true
					case "body":
						inBody = true
					default:
						depth--
						return true, nil
					}
					return false, nil
				case inMeta:
					field = meta.field(t.Name.Local)
					return false, nil
				}
			case xml.EndElement:
				depth--
				field = nil
				if depth <= 1 {
					inMeta, inBody = false, false
					return false, nil
				}
			case xml.CharData:
				if inMeta {
					if field != nil && len(*field) < metaFieldMax {
						*field += string(t)
					}
					return false, nil
				}
			}
			if !inBody {
				return false, nil
			}
			return fn(tok)
		})
	}
	pages, err := odfBodyText(ctx, b, typ, b.lim, walk)
	if err != nil {
		return nil, err
	}
	if !rooted {
		return nil, fmt.Errorf("%w: no office:document element", ErrCorrupt)
	}
	res := &Result{Meta: map[string]string{}}
	meta.apply(res)
	setODFPages(res, typ, pages)
	return res, nil
}
