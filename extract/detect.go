package extract

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// MIME types the detector refines or returns itself.
const (
	typeOctetStream = "application/octet-stream"
	typeZip         = "application/zip"
	typeOLE         = "application/x-ole-storage"
	typeText        = "text/plain"
	typeMarkdown    = "text/markdown"
	typeCSV         = "text/csv"
	typeTSV         = "text/tab-separated-values"
	typeJSON        = "application/json"
	typeNDJSON      = "application/x-ndjson"
	typeHTML        = "text/html"
	typeXHTML       = "application/xhtml+xml"
	typeEmail       = "message/rfc822"
	typeDOCX        = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	typeXLSX        = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	typePPTX        = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	typeODT         = "application/vnd.oasis.opendocument.text"
	typeODS         = "application/vnd.oasis.opendocument.spreadsheet"
	typeODP         = "application/vnd.oasis.opendocument.presentation"
)

// zipTypes are the ZIP containers the detector can tell apart, by the
// extension a name may hint with.
var zipTypes = map[string]string{
	".docx": typeDOCX,
	".xlsx": typeXLSX,
	".pptx": typePPTX,
	".odt":  typeODT,
	".ods":  typeODS,
	".odp":  typeODP,
	".epub": typeEPUB,
	".xps":  typeXPS,
	".oxps": typeOXPS,
	".xlsb": typeXLSB,
}

// textTypes are the text formats content alone cannot tell from plain text.
var textTypes = map[string]string{
	".txt":      typeText,
	".text":     typeText,
	".md":       typeMarkdown,
	".markdown": typeMarkdown,
	".csv":      typeCSV,
	".tsv":      typeTSV,
	".tab":      typeTSV,
	".json":     typeJSON,
	".ndjson":   typeNDJSON,
	".jsonl":    typeNDJSON,
	".html":     typeHTML,
	".htm":      typeHTML,
	".xhtml":    typeXHTML,
	".eml":      typeEmail,
	".xml":      typeXML,
	".fodt":     typeFODT,
	".fods":     typeFODS,
	".fodp":     typeFODP,
	".svg":      typeSVG,
	".atom":     typeAtom,
	".rss":      typeRSS,
	".xlf":      typeXLIFF,
	".xliff":    typeXLIFF,
	".kml":      typeKML,
	".gml":      typeGML,
	".dbk":      typeDocBook,
}

// sourceTypes name the text types of source code, which mimetype tells
// from plain text only when a shebang or an opening tag says so. Any text
// type reads as text (lookupFormat); the name is for people.
var sourceTypes = map[string]string{
	".c": "text/x-c", ".h": "text/x-c", ".cc": "text/x-c++", ".cpp": "text/x-c++", ".cxx": "text/x-c++",
	".hpp": "text/x-c++", ".cs": "text/x-csharp", ".css": "text/css", ".go": "text/x-go",
	".java": "text/x-java", ".js": "text/javascript", ".kt": "text/x-kotlin", ".pl": "text/x-perl",
	".php": "text/x-php", ".py": "text/x-python", ".rb": "text/x-ruby", ".rs": "text/x-rust",
	".scala": "text/x-scala", ".sh": "text/x-shellscript", ".sql": "text/x-sql", ".swift": "text/x-swift",
	".tex": "text/x-tex", ".ts": "text/x-typescript", ".1": "text/troff", ".2": "text/troff",
	".3": "text/troff", ".5": "text/troff", ".7": "text/troff", ".8": "text/troff", ".man": "text/troff",
	".yaml": "text/x-yaml", ".yml": "text/x-yaml", ".toml": "text/x-toml", ".ini": "text/x-ini",
}

// Detect returns the MIME type of a document from its content, using the
// file name only to tell apart formats whose content alone is ambiguous
// (CSV or Markdown versus plain text, a ZIP container). Content wins over a
// name that contradicts it: a PDF named .txt is a PDF. Parameters such as
// charset are dropped.
func Detect(name string, data []byte) string {
	ext := extOf(name)
	m := mimetype.Detect(data)
	t := baseType(m.String())

	if mt := mediaType(data); mt != "" {
		return mt
	}
	if isTNEF(data) {
		// Outlook's winmail.dat, which mimetype does not know.
		return typeTNEF
	}
	if isEmlx(data) {
		// Apple Mail's message: a byte count, then the message.
		return typeEmlx
	}
	if oneNoteKind(data) != "" {
		// mimetype knows a section (.one), not a table of contents nor the
		// packaged format.
		return typeOneNote
	}
	// The long tail that the office converter reads (convert_detect.go):
	// none of it is a format with a Go reader.
	if lt := DetectLongTail(name, data, t); lt != "" {
		return lt
	}
	if ct := compressedKind(ext, data); ct != "" {
		return ct
	}
	switch {
	case isMbox(data):
		// Before email: a mailbox's first message looks like one.
		return typeMbox
	case isRTF(data):
		// mimetype wants "{\rtf" first and text around it; RTF may
		// start with a BOM or white space, and carry raw 8-bit bytes.
		return typeRTF
	case t == typeOLE || bytes.HasPrefix(data, cfbMagic):
		// A CFB container is named by its streams (cfb.go): mimetype sees
		// only the first 3 KiB, where the directory seldom is.
		switch k := cfbKind(data); k {
		case cfbEncryptedOOXML:
			// An encrypted OOXML document is a CFB container whatever it
			// was; the name is the only hint of what is inside.
			if zt := zipTypes[ext]; zt != "" && zt != typeODT && zt != typeODS && zt != typeODP {
				return zt
			}
			return typeOLE
		case "", typeOLE:
			return t // unreadable, or of no kind cfb.go knows: mimetype's guess
		default:
			return k
		}
	case isA(m, typeZip):
		// mimetype calls any workbook under xl/ XLSX; a binary one (XLSB)
		// is told by its workbook part.
		if _, known := zipTypeNames[t]; known && t != typeXLSX {
			return t
		}
		// mimetype sees only the first entries; the central directory
		// lists all of them.
		if zt := zipContentType(data); zt != "" {
			return zt
		}
		// A truncated or damaged container named like an office document
		// is reported as a corrupt one of those, which a person can act on.
		if zt := zipTypes[ext]; zt != "" {
			return zt
		}
		return t
	case isA(m, typeText):
		return refineText(t, ext, data)
	case t == typeOctetStream:
		// Legacy text (a DOS file ending in ^Z, stray control bytes) that
		// mimetype calls binary, named as text.
		if tt := textTypes[ext]; tt != "" && mostlyText(data) {
			return refineText(typeText, ext, data)
		}
	}
	return t
}

// zipTypeNames are the container types mimetype names itself.
var zipTypeNames = map[string]struct{}{
	typeDOCX: {}, typeXLSX: {}, typePPTX: {}, typeODT: {}, typeODS: {}, typeODP: {}, typeEPUB: {},
}

func refineText(t, ext string, data []byte) string {
	hint := textTypes[ext]
	switch t {
	case typeText:
		// An XML document without its declaration, which mimetype
		// requires: one of a known dialect whatever its name, generic XML
		// when named so.
		if looksLikeXML(data) {
			if rt := xmlRootType(data); rt != "" && (rt != typeXML || isXMLType(hint)) {
				return rt
			}
		}
		// Calendars, address books and subtitles starting with a byte
		// order mark or blank lines, which mimetype's signatures refuse.
		if ct := looksLikeCalendar(data); ct != "" {
			return ct
		}
		if looksLikeSubRip(data) {
			return typeSubRip
		}
		// Header lines are a signature of their own, stronger than a name.
		if looksLikeEmail(data, false) {
			return typeEmail
		}
		switch hint {
		case typeCSV, typeTSV, typeMarkdown, typeHTML, typeXHTML, typeNDJSON:
			return hint
		case typeJSON:
			if looksLikeJSON(data) {
				return typeJSON
			}
		case typeEmail:
			if looksLikeEmail(data, true) {
				return typeEmail
			}
		}
		if st := sourceTypes[ext]; st != "" {
			return st
		}
		return typeText
	case typeCSV, typeTSV:
		// mimetype calls any text with a steady number of commas per line
		// CSV; prose named .txt or .md is prose.
		switch hint {
		case typeText, typeMarkdown, typeCSV, typeTSV:
			return hint
		}
		if looksLikeEmail(data, false) {
			return typeEmail
		}
	case typeHTML:
		// Markdown may hold HTML, and often starts with an HTML comment
		// (a licence header) that mimetype takes for a page.
		if hint == typeMarkdown {
			return typeMarkdown
		}
	case "text/xml", "application/xml":
		if (hint == typeHTML || hint == typeXHTML) && bytes.Contains(bytes.ToLower(head(data, 4096)), []byte("<html")) {
			return typeXHTML
		}
	}
	if isXMLType(t) {
		// mimetype's XML signatures want a namespace declared one way
		// (XLIFF 2, an Atom feed with a prefix are missed), and it takes a
		// document with an svg: attribute near its start for SVG (a flat
		// ODF file): the root element says what the document is.
		if rt := xmlRootType(data); rt != "" && (rt != typeXML || t == typeSVG) {
			return rt
		}
	}
	return t
}

// isXMLType reports whether t is an XML type.
func isXMLType(t string) bool {
	return t == typeXML || t == typeAppXML || strings.HasSuffix(t, "+xml")
}

// looksLikeXML reports whether data starts with markup, in UTF-8 or
// UTF-16.
func looksLikeXML(data []byte) bool {
	b := head(data, 512)
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, '<', 0}), bytes.HasPrefix(b, []byte{0xFE, 0xFF, 0, '<'}):
		return true
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, utf8BOM), " \t\r\n")
	return len(b) > 1 && b[0] == '<' && (b[1] == '?' || b[1] == '!' || b[1] == '_' || b[1] >= 'A' && b[1] <= 'Z' || b[1] >= 'a' && b[1] <= 'z')
}

func isA(m *mimetype.MIME, t string) bool {
	for ; m != nil; m = m.Parent() {
		if m.Is(t) {
			return true
		}
	}
	return false
}

// extOf returns the lower-case extension of an uploaded name, which may
// carry a path from either kind of system.
func extOf(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(path.Ext(name))
}

func head(data []byte, n int) []byte {
	if len(data) > n {
		return data[:n]
	}
	return data
}

// zipContentType names an OOXML, ODF or EPUB container from its entries:
// the central directory lists every entry wherever it is stored. An EPUB
// whose first entry is META-INF/ rather than its mimetype is one that
// mimetype takes for a Java archive.
func zipContentType(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && err != zip.ErrInsecurePath {
		return ""
	}
	var contentTypes, container, xps bool
	found := ""
	for _, f := range zr.File {
		if strings.HasSuffix(strings.ToLower(f.Name), ".fdseq") {
			xps = true // an XPS package's FixedDocumentSequence
		}
		switch f.Name {
		case "[Content_Types].xml":
			contentTypes = true
		case "word/document.xml":
			found = typeDOCX
		case "xl/workbook.xml":
			found = typeXLSX
		case "xl/workbook.bin":
			found = typeXLSB
		case "ppt/presentation.xml":
			found = typePPTX
		case "META-INF/container.xml":
			container = true
		case "mimetype":
			if f.UncompressedSize64 > 100 {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(io.LimitReader(rc, 100))
			rc.Close()
			switch mt := strings.TrimSpace(string(b)); {
			case mt == typeEPUB, strings.HasPrefix(mt, "application/vnd.oasis.opendocument."):
				return mt // an ODF document, template, drawing, formula or chart
			}
		}
	}
	if found == "" && xps {
		return xpsFlavour(zr)
	}
	if contentTypes {
		return found
	}
	if container {
		return typeEPUB // the OCF container of an EPUB without its mimetype entry
	}
	return ""
}

// xpsFlavour tells OpenXPS (ECMA-388) from Microsoft's XPS by the
// namespace of the package's fixed representation relationship.
func xpsFlavour(zr *zip.Reader) string {
	for _, f := range zr.File {
		if !strings.EqualFold(f.Name, "_rels/.rels") || f.UncompressedSize64 > 64<<10 {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
		rc.Close()
		if bytes.Contains(b, []byte("schemas.openxps.org")) {
			return typeOXPS
		}
	}
	return typeXPS
}

// looksLikeJSON reports whether text starts like a JSON object or array.
func looksLikeJSON(data []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head(data, 512), utf8BOM), " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// knownHeaders are header fields that mark a message; any header-like
// text could otherwise pass for one.
var knownHeaders = []string{
	"from", "to", "cc", "subject", "date", "message-id", "received", "return-path",
	"delivered-to", "mime-version", "reply-to", "sender", "x-mailer", "content-type",
}

// looksLikeEmail reports whether text starts with a message header. mimetype
// requires the first line to be a known field; mbox exports (SpamAssassin)
// start with a "From " envelope line instead. Named .eml (loose), any header
// block will do; unnamed, it must hold two known fields.
func looksLikeEmail(data []byte, loose bool) bool {
	b := bytes.TrimPrefix(head(data, 8192), utf8BOM)
	lines := 0
	known := 0
	for i := 0; len(b) > 0 && i < 100; i++ {
		var line []byte
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			line, b = b[:j], b[j+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if i == 0 && bytes.HasPrefix(line, []byte("From ")) {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if lines == 0 {
				return false
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isFieldName(line[:colon]) {
			// The header block ends at the first non-header line; a
			// truncated view (the 8 KiB window) is judged on what it saw.
			if len(b) == 0 && i > 0 {
				break
			}
			return false
		}
		lines++
		name := strings.ToLower(string(line[:colon]))
		for _, h := range knownHeaders {
			if name == h {
				known++
				break
			}
		}
	}
	if loose {
		return lines >= 1
	}
	return known >= 2
}

// isFieldName reports whether b is an RFC 5322 field name: printable ASCII
// without spaces or colons.
func isFieldName(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return len(b) > 0 && len(b) <= 76
}

// mostlyText reports whether data reads as text despite a few control
// bytes: no NULs, and at most two control bytes or one in a hundred.
func mostlyText(data []byte) bool {
	b := head(data, 8192)
	if len(b) == 0 || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	ctl := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r < ' ' && r != '\n' && r != '\r' && r != '\t' && r != '\f' {
			ctl++
		}
	}
	return ctl <= 2 || ctl*100 <= len(head(data, 8192))
}

// mediaType names audio and video containers by their signatures. mimetype
// knows most of them, but names an MP4 by its brand only when it knows the
// brand, and an Ogg or EBML file by what its first bytes hint; the media
// reader (media.go) reads them all alike. Empty means not one of them.
func mediaType(data []byte) string {
	switch {
	case len(data) >= 10 && string(data[:3]) == "ID3" && data[3] >= 2 && data[3] <= 4:
		return typeMP3
	case bytes.HasPrefix(data, []byte("fLaC")):
		return typeFLAC
	case bytes.HasPrefix(data, []byte("OggS")):
		if p, ok := oggPage(data); ok && len(p.segments) > 0 {
			id := p.segments[0].data
			switch {
			case bytes.HasPrefix(id, []byte("OpusHead")):
				return typeOpus
			case bytes.HasPrefix(id, []byte("\x80theora")):
				return typeOggVideo
			case bytes.HasPrefix(id, []byte("\x01vorbis")), bytes.HasPrefix(id, []byte("\x7fFLAC")),
				bytes.HasPrefix(id, []byte("Speex   ")):
				return typeOggAudio
			}
		}
		return typeOgg
	case bytes.HasPrefix(data, ebmlMagic):
		switch ebmlDocTypeOf(data) {
		case "webm":
			return typeWebM
		case "matroska":
			return typeMKV
		}
	case len(data) >= 12 && string(data[:4]) == "RIFF":
		switch string(data[8:12]) {
		case "AVI ":
			return typeAVI
		case "WAVE":
			return typeWAV
		}
	case len(data) >= 12 && string(data[:4]) == "FORM" && (string(data[8:12]) == "AIFF" || string(data[8:12]) == "AIFC"):
		return typeAIFF
	case bytes.HasPrefix(data, asfHeader):
		return typeASF
	case bytes.HasPrefix(data, []byte("FLV\x01")):
		return typeFLV
	case bytes.HasPrefix(data, []byte("MThd\x00\x00\x00\x06")):
		return typeMIDI
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		brand := string(data[8:12])
		switch {
		case mp4ImageBrands[brand]:
			return "" // HEIF, AVIF: images in the same box structure
		case brand == "M4A " || brand == "M4B " || brand == "M4P ":
			return typeM4A
		case brand == "qt  ":
			return typeMOV
		case strings.HasPrefix(brand, "3g"):
			return type3GPP
		}
		return typeMP4
	}
	return ""
}

// mp4ImageBrands are the ftyp brands of still images (HEIF, AVIF) and
// camera raw files, which share the MP4 box structure.
var mp4ImageBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true, "hevc": true, "hevx": true, "hevm": true,
	"hevs": true, "mif1": true, "msf1": true, "avif": true, "avis": true, "crx ": true,
}

// ebmlDocTypeOf returns the DocType of the EBML header at the start of data.
func ebmlDocTypeOf(data []byte) string {
	id, n, ok := ebmlVint(data, true)
	if !ok || id != 0x1A45DFA3 {
		return ""
	}
	size, m, ok := ebmlVint(data[n:], false)
	if !ok {
		return ""
	}
	b := data[n+m:]
	if size >= 0 && size < int64(len(b)) {
		b = b[:size]
	}
	for len(b) > 0 {
		id, n, ok := ebmlVint(b, true)
		if !ok {
			return ""
		}
		size, m, ok := ebmlVint(b[n:], false)
		if !ok || size < 0 || size > int64(len(b)-n-m) {
			return ""
		}
		if id == ebmlDocType {
			return ebmlString(b[n+m : n+m+int(size)])
		}
		b = b[n+m+int(size):]
	}
	return ""
}
