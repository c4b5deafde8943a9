package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/richardlehane/mscfb"
	"golang.org/x/net/html/charset"
)

func init() {
	register(&format{name: "docx", types: []string{typeDOCX}, extract: extractDOCX})
	register(&format{name: "pptx", types: []string{typePPTX}, extract: extractPPTX})
	register(&format{name: "odf", types: append([]string{typeODT, typeODP, typeODS}, odfKindOf...), extract: extractODF})
	// A CFB container whose kind detection did not name (cfb.go): read by
	// the format of its streams, or named in the failure.
	register(&format{name: "cfb", types: []string{typeOLE}, extract: extractCFB})
}

// cfbMagic starts every Compound File Binary container: legacy Office
// documents and encrypted OOXML ones alike.
var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// hasEncryptedPackage reports whether data is a CFB container holding an
// "EncryptedPackage" stream: an OOXML document encrypted with a password
// (ECMA-376 Agile or Standard encryption).
func hasEncryptedPackage(data []byte) (found bool) {
	if !bytes.HasPrefix(data, cfbMagic) {
		return false
	}
	defer func() {
		// A directory too damaged for the CFB reader is not a document
		// we can name encrypted.
		if recover() != nil {
			found = false
		}
	}()
	r, err := mscfb.New(bytes.NewReader(data))
	if err != nil {
		return false
	}
	for _, f := range r.File {
		if f.Name == "EncryptedPackage" {
			return true
		}
	}
	return false
}

// extractCFB reads a CFB container by what its streams say it is: a Word,
// Excel or PowerPoint document, or any kind another format registers for
// (an Outlook message, and later the converter's Publisher and Visio
// files). What no format reads fails as unsupported, naming its kind.
func extractCFB(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	kind := r.kind()
	switch kind {
	case cfbEncryptedOOXML:
		return nil, fmt.Errorf("%w: password-protected Office document", ErrEncrypted)
	}
	formatsMu.Lock()
	f := formats[kind]
	formatsMu.Unlock()
	if f != nil && kind != typeOLE {
		in2 := *in
		in2.Type = kind
		res, err := f.extract(ctx, x, &in2, b)
		if res != nil && res.Type == "" {
			res.Type = kind
		}
		return res, err
	}
	return nil, fmt.Errorf("%w: %s (%s)", ErrUnsupported, cfbKindNames[kind], kind)
}

// zipDoc is an OOXML or ODF container being read. Every entry is read
// through it, so that the bytes they decompress to are counted against
// one budget: a zip bomb spreads its expansion over many entries, and the
// sizes in its headers are whatever its author wrote.
type zipDoc struct {
	ctx   context.Context
	bud   *budget
	files map[string]*zip.File // by lower-case name: OPC part names ignore case
	// pieces are the parts stored interleaved, in pieces of their own
	// (ECMA-376 Part 2, 10.2.4): name/[0].piece … name/[n].last.piece,
	// by the part's lower-case name.
	pieces map[string][]*zip.File
	max    int64 // Limits.MaxDecompressed; negative: none
	read   int64
	// err is the first error a counted reader met, kept because a parser
	// reading through it (encoding/xml) may report its own error instead.
	err error
}

func openZip(ctx context.Context, data []byte, b *budget) (*zipDoc, error) {
	if bytes.HasPrefix(data, cfbMagic) {
		if hasEncryptedPackage(data) {
			return nil, fmt.Errorf("%w: password-protected Office document", ErrEncrypted)
		}
		return nil, fmt.Errorf("%w: a CFB container, not a ZIP one", ErrCorrupt)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: reading ZIP container: %v", ErrCorrupt, err)
	}
	return newZipDoc(ctx, zr, b), nil
}

// newZipDoc reads the package whose ZIP directory zr has read.
func newZipDoc(ctx context.Context, zr *zip.Reader, b *budget) *zipDoc {
	d := &zipDoc{ctx: ctx, bud: b, files: make(map[string]*zip.File, len(zr.File)), max: b.lim.MaxDecompressed}
	pieces := map[string]map[int]*zip.File{}
	last := map[string]int{}
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))
		if part, i, isLast, ok := opcPiece(name); ok {
			if pieces[part] == nil {
				pieces[part] = map[int]*zip.File{}
			}
			if _, dup := pieces[part][i]; !dup {
				pieces[part][i] = f
			}
			if isLast {
				last[part] = i
			}
			continue
		}
		if _, dup := d.files[name]; !dup {
			d.files[name] = f
		}
	}
	// A part in pieces is there when its pieces run from [0] to the one
	// marked last without a gap, and no whole part has its name.
	for part, ps := range pieces {
		n, ok := last[part]
		if !ok || len(ps) != n+1 || d.files[part] != nil {
			continue
		}
		list := make([]*zip.File, n+1)
		for i := range list {
			if list[i] = ps[i]; list[i] == nil {
				list = nil
				break
			}
		}
		if list != nil {
			if d.pieces == nil {
				d.pieces = map[string][]*zip.File{}
			}
			d.pieces[part] = list
		}
	}
	return d
}

// opcPiece reads a piece's ZIP item name: the part it belongs to, its
// number, and whether it is the last.
func opcPiece(name string) (part string, i int, last, ok bool) {
	slash := strings.LastIndexByte(name, '/')
	if slash <= 0 {
		return "", 0, false, false
	}
	base := name[slash+1:]
	rest, isPiece := strings.CutSuffix(base, ".piece")
	if !isPiece || !strings.HasPrefix(rest, "[") {
		return "", 0, false, false
	}
	rest, last = strings.CutSuffix(rest, ".last")
	num, isNum := strings.CutSuffix(rest[1:], "]")
	n, err := strconv.Atoi(num)
	if !isNum || err != nil || n < 0 || strconv.Itoa(n) != num {
		return "", 0, false, false
	}
	return name[:slash], n, last, true
}

func (d *zipDoc) has(name string) bool {
	name = strings.ToLower(name)
	_, ok := d.files[name]
	return ok || d.pieces[name] != nil
}

// open returns a reader of the named entry that counts what it
// decompresses.
func (d *zipDoc) open(name string) (io.ReadCloser, error) {
	f := d.files[strings.ToLower(name)]
	if f == nil {
		if ps := d.pieces[strings.ToLower(name)]; ps != nil {
			return &countingReader{d: d, rc: &pieceReader{pieces: ps, name: name}, name: name}, nil
		}
		return nil, fmt.Errorf("%w: %s is missing", ErrCorrupt, name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %v", ErrCorrupt, name, err)
	}
	return &countingReader{d: d, rc: rc, name: name}, nil
}

// pieceReader reads a part stored in pieces as one, opening each piece
// when the one before it ends.
type pieceReader struct {
	pieces []*zip.File
	name   string
	cur    io.ReadCloser
}

func (r *pieceReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if len(r.pieces) == 0 {
				return 0, io.EOF
			}
			rc, err := r.pieces[0].Open()
			if err != nil {
				return 0, fmt.Errorf("%w: opening %s: %v", ErrCorrupt, r.pieces[0].Name, err)
			}
			r.cur, r.pieces = rc, r.pieces[1:]
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *pieceReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// smallPartMax bounds the parts read whole (relationships, metadata, the
// presentation's slide list): a few KiB in real documents, so one that
// expands past this is a bomb, and is read no further.
const smallPartMax = 8 << 20

// readAll reads a whole small entry (relationships, metadata).
func (d *zipDoc) readAll(name string) ([]byte, error) {
	rc, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, smallPartMax+1))
	if err != nil {
		return nil, d.fail(name, err)
	}
	if len(b) > smallPartMax {
		return nil, fmt.Errorf("%w: %s expands past %d MiB, which no such part needs", ErrCorrupt, name, smallPartMax>>20)
	}
	return b, nil
}

// lineWriter returns a writer for text of the document, drawing on its
// budget.
func (d *zipDoc) lineWriter() lineWriter { return newLineWriter(d.bud) }

// scratchWriter returns a writer for text that a lineWriter takes in turn.
func (d *zipDoc) scratchWriter() lineWriter { return newScratchWriter(d.bud) }

// newLineWriter returns a writer for text of a document, drawing on its
// budget b.
func newLineWriter(b *budget) lineWriter { return lineWriter{b: textSink{bud: b}} }

// newScratchWriter returns a writer for text that a lineWriter takes in
// turn.
func newScratchWriter(b *budget) lineWriter {
	return lineWriter{b: textSink{bud: b, scratch: true}}
}

// eachToken calls fn with each token of the XML part name, refusing DTDs
// (entity expansion, external entities). When fn asks to skip a start
// element, the element's content and end are not passed to it. A read
// error, or fn's, ends the walk; read errors name the part. The walk ends
// where the text budget is spent (see xmlWalk); the document's small parts
// may still be read.
func (d *zipDoc) eachToken(name string, fn tokenFunc) error {
	if d.bud.full() {
		return nil // the document is done: no part is read for text any more
	}
	rc, err := d.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	w := xmlWalk{ctx: d.ctx, bud: d.bud, refuse: refuseDTD, fail: func(err error) error { return d.fail(name, err) }}
	return w.each(rc, fn)
}

// fail returns the error that stopped reading name: the counted reader's
// own (a limit, a corrupt stream) in preference to what a parser made of
// it.
func (d *zipDoc) fail(name string, err error) error {
	if d.err != nil {
		err = d.err
	}
	var le *LimitError
	if errors.As(err, &le) || errors.Is(err, ErrCorrupt) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
}

type countingReader struct {
	d     *zipDoc
	rc    io.ReadCloser
	name  string
	since int64 // bytes since the context was last checked
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.d.err != nil {
		return 0, r.d.err
	}
	n, err := r.rc.Read(p)
	r.d.read += int64(n)
	r.since += int64(n)
	if r.d.max >= 0 && r.d.read > r.d.max {
		r.d.err = &LimitError{Limit: "decompressed size", Max: r.d.max, Got: r.d.read}
		return n, r.d.err
	}
	if r.since >= 1<<20 {
		r.since = 0
		if cerr := r.d.ctx.Err(); cerr != nil {
			r.d.err = cerr
			return n, cerr
		}
	}
	if err != nil && err != io.EOF {
		r.d.err = fmt.Errorf("%w: decompressing %s: %v", ErrCorrupt, r.name, err)
		return n, r.d.err
	}
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }

func newXMLDecoder(r io.Reader) *xml.Decoder {
	dec := xml.NewDecoder(r)
	// Office files from lesser writers are often not quite well-formed;
	// text matters more than validity.
	dec.Strict = false
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = charset.NewReaderLabel
	return dec
}

// errDTD: an XML part declares a document type. OOXML (ECMA-376 Part 2,
// M1.17) and ODF packages never do; a DTD in one is there to declare
// entities, which expand exponentially (a "billion laughs") or read files
// and URLs (external entities). The decoder expands neither, but such a
// document is hostile or broken, and it fails as corrupt rather than
// extracting with its entity references as text.
var errDTD = fmt.Errorf("%w: an XML part declares a DTD (entity declarations), which office documents never hold", ErrCorrupt)

// refuseDTD returns errDTD for a DOCTYPE declaration.
func refuseDTD(tok xml.Token) error {
	if d, ok := tok.(xml.Directive); ok && bytes.HasPrefix(bytes.TrimSpace(d), []byte("DOCTYPE")) {
		return errDTD
	}
	return nil
}

// relationships reads an OPC .rels part: relationship id -> target part
// name, resolved against the directory of the part it belongs to.
func (d *zipDoc) relationships(part string) (map[string]rel, error) {
	dir, file := path.Split(part)
	relsName := path.Join(dir, "_rels", file+".rels")
	if !d.has(relsName) {
		return nil, nil
	}
	b, err := d.readAll(relsName)
	if err != nil {
		return nil, err
	}
	var v struct {
		Rels []struct {
			ID         string `xml:"Id,attr"`
			Type       string `xml:"Type,attr"`
			Target     string `xml:"Target,attr"`
			TargetMode string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if err := newXMLDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, relsName, err)
	}
	out := make(map[string]rel, len(v.Rels))
	for _, r := range v.Rels {
		if strings.EqualFold(r.TargetMode, "External") {
			continue
		}
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join(dir, t)
		}
		out[r.ID] = rel{typ: r.Type, target: t}
	}
	return out, nil
}

type rel struct{ typ, target string }

// mainPart finds the package's main document from its root relationships,
// falling back to the conventional name.
func (d *zipDoc) mainPart(conventional string) (string, error) {
	rels, err := d.relationships("")
	if err != nil {
		return "", err
	}
	for _, r := range rels {
		if strings.HasSuffix(r.typ, "/officeDocument") && d.has(r.target) {
			return r.target, nil
		}
	}
	if d.has(conventional) {
		return conventional, nil
	}
	return "", fmt.Errorf("%w: no main document part (%s)", ErrCorrupt, conventional)
}

// coreProperties fills Title, Author and Created from docProps/core.xml,
// which every OOXML writer produces; a broken one costs a warning only.
func (d *zipDoc) coreProperties(res *Result) error {
	name := "docProps/core.xml"
	if rels, err := d.relationships(""); err == nil {
		for _, r := range rels {
			if strings.HasSuffix(r.typ, "/core-properties") && d.has(r.target) {
				name = r.target
			}
		}
	}
	if !d.has(name) {
		return nil
	}
	b, err := d.readAll(name)
	if err != nil {
		return err
	}
	var v struct {
		Title    string `xml:"title"`
		Creator  string `xml:"creator"`
		Created  string `xml:"created"`
		Modified string `xml:"modified"`
		Language string `xml:"language"`
	}
	if err := newXMLDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", name, err))
		return nil
	}
	res.Title = strings.TrimSpace(v.Title)
	res.Author = strings.TrimSpace(v.Creator)
	res.Created, _ = parseW3CDTF(v.Created)
	if lang := strings.TrimSpace(v.Language); lang != "" {
		res.Meta["lang"] = lang
	}
	if t, ok := parseW3CDTF(v.Modified); ok {
		res.Meta["modified"] = t.Format(time.RFC3339)
	}
	return nil
}

// parseW3CDTF parses the dates of OOXML and ODF metadata; ODF's carry no
// zone and are read as UTC.
func parseW3CDTF(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ---- DOCX

func extractDOCX(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	main, err := d.mainPart("word/document.xml")
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	if err := d.coreProperties(res); err != nil {
		return nil, err
	}
	body, err := d.wordText(main)
	if err != nil {
		return nil, err
	}
	rels, err := d.relationships(main)
	if err != nil {
		return nil, err
	}
	// The body, then its charts and diagrams, then the notes, comments,
	// headers and footers: text a reader reads, and a search must find,
	// though not part of the body's flow. A header or footer repeated in
	// several sections (first page, even pages) is written once.
	texts := []string{body}
	seen := map[string]bool{}
	for _, part := range [][]string{
		relTargets(d, rels, "/chart", "/diagramData"),
		relTargets(d, rels, "/footnotes"),
		relTargets(d, rels, "/endnotes"),
		relTargets(d, rels, "/comments"),
		relTargets(d, rels, "/header"),
		relTargets(d, rels, "/footer"),
	} {
		for _, name := range part {
			t, err := d.partText(name)
			if err != nil {
				return nil, err
			}
			if t != "" && !seen[t] {
				seen[t] = true
				texts = append(texts, t)
			}
		}
	}
	res.Text = strings.Join(texts, "\n\n")
	if err := d.ooxmlEmbedded(res, path.Join(path.Dir(main), "embeddings")+"/"); err != nil {
		return nil, err
	}
	return res, nil
}

// relTargets returns the parts that rels point to with a relationship type
// ending in one of suffixes, that the package holds, in part name order.
func relTargets(d *zipDoc, rels map[string]rel, suffixes ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rels {
		for _, suf := range suffixes {
			if strings.HasSuffix(r.typ, suf) && !seen[r.target] && d.has(r.target) {
				seen[r.target] = true
				out = append(out, r.target)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return partLess(out[i], out[j]) })
	return out
}

// partText returns the text of a part other than a main one, read by its
// kind: a chart, a diagram's data, or WordprocessingML.
func (d *zipDoc) partText(name string) (string, error) {
	base := path.Base(strings.ToLower(name))
	switch {
	case strings.HasPrefix(base, "chart"):
		return d.chartText(name)
	case strings.HasPrefix(base, "data") && strings.Contains(strings.ToLower(name), "diagrams/"):
		return d.drawingText(name, false)
	}
	return d.wordText(name)
}

// chartText returns the text of a DrawingML chart: its title, axis titles
// and other rich text, the series' names and the category labels, one a
// line and each once (every series repeats the categories). The values are
// numbers a search would not look for.
func (d *zipDoc) chartText(name string) (string, error) {
	w := d.lineWriter()
	seen := map[string]bool{}
	var line []byte
	inT, inV := false, false
	labels := 0 // depth inside c:tx and c:cat, whose values are text
	emit := func() {
		s := strings.TrimSpace(string(line))
		line = line[:0]
		if s != "" && !seen[s] {
			seen[s] = true
			w.writeString(s)
			w.writeByte('\n')
		}
	}
	err := d.eachToken(name, func(tok xml.Token) (skip bool, err error) {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "tx", "cat":
				labels++
			case "t":
				inT = true
			case "v":
				inV = labels > 0
			case "Fallback":
				skip = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "tx", "cat":
				labels = max(labels-1, 0)
			case "t":
				inT = false
			case "v":
				if inV {
					emit()
				}
				inV = false
			case "p":
				emit()
			}
		case xml.CharData:
			if inT || inV {
				line = append(line, t...)
			}
		}
		return skip, nil
	})
	if err != nil {
		return "", err
	}
	emit()
	return w.String(), nil
}

// wordText returns the text of a WordprocessingML part: paragraphs on
// lines, table cells separated by tabs, deleted revisions and field codes
// left out.
func (d *zipDoc) wordText(name string) (string, error) {
	w := d.lineWriter()
	inText := false
	run := 0  // depth inside runs, where tab and break elements are text
	cell := 0 // depth inside table cells
	err := d.eachToken(name, func(tok xml.Token) (skip bool, err error) {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "r":
				run++
			case "tab", "ptab":
				if run > 0 {
					w.writeByte('\t')
				}
			case "br", "cr":
				if run > 0 {
					w.writeByte('\n')
				}
			case "noBreakHyphen":
				w.writeByte('-')
			case "tc":
				cell++
			// Deleted text, field instructions and the fallback copy of
			// alternate content (the same text box twice) are not text.
			case "delText", "instrText", "delInstrText", "Fallback":
				skip = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "r":
				run = max(run-1, 0)
			case "p":
				if cell > 0 {
					w.space()
				} else {
					w.writeByte('\n')
				}
			case "tc":
				cell = max(cell-1, 0)
				w.writeByte('\t')
			case "tr":
				w.endRow()
			}
		case xml.CharData:
			if inText {
				w.write(t)
			}
		}
		return skip, nil
	})
	if err != nil {
		return "", err
	}
	return w.String(), nil
}

// ---- PPTX

func extractPPTX(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	lim := b.lim
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	main, err := d.mainPart("ppt/presentation.xml")
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	if err := d.coreProperties(res); err != nil {
		return nil, err
	}
	slides, err := d.slideParts(main)
	if err != nil {
		return nil, err
	}
	if lim.MaxPages > 0 && len(slides) > lim.MaxPages {
		return nil, &LimitError{Limit: "pages", Max: int64(lim.MaxPages), Got: int64(len(slides))}
	}
	// The text of the layouts and masters the slides use (footers, text
	// boxes; not the placeholders' prompts) is shown on every slide of
	// theirs, and written once, after the first of them.
	done := map[string]bool{}
	for i, s := range slides {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := d.slideText(s, done)
		if err != nil {
			return nil, err
		}
		res.Pages = append(res.Pages, Page{Number: i + 1, Text: t})
	}
	res.Meta["slides"] = strconv.Itoa(len(slides))
	if err := d.ooxmlEmbedded(res, path.Join(path.Dir(main), "embeddings")+"/"); err != nil {
		return nil, err
	}
	return res, nil
}

// slideText returns the text of a slide: its shapes, then its charts and
// diagrams, then the text of its layout and master that no slide before it
// (done) has shown, less the lines the slide shows itself.
func (d *zipDoc) slideText(slide string, done map[string]bool) (string, error) {
	t, err := d.drawingText(slide, false)
	if err != nil {
		return "", err
	}
	rels, err := d.relationships(slide)
	if err != nil {
		return "", err
	}
	texts := []string{t}
	for _, name := range relTargets(d, rels, "/chart", "/diagramData") {
		pt, err := d.partText(name)
		if err != nil {
			return "", err
		}
		texts = append(texts, pt)
	}
	for _, layout := range relTargets(d, rels, "/slideLayout") {
		if done[layout] {
			continue // and so is its master
		}
		parts := []string{layout}
		lrels, err := d.relationships(layout)
		if err != nil {
			return "", err
		}
		parts = append(parts, relTargets(d, lrels, "/slideMaster")...)
		for _, p := range parts {
			if done[p] {
				continue
			}
			done[p] = true
			mt, err := d.drawingText(p, true)
			if err != nil {
				return "", err
			}
			texts = append(texts, newLines(strings.Join(texts, "\n"), mt))
		}
	}
	return joinLines(texts), nil
}

// newLines returns the lines of text that seen does not hold as lines.
func newLines(seen, text string) string {
	if text == "" {
		return ""
	}
	have := map[string]bool{}
	for _, l := range strings.Split(seen, "\n") {
		have[strings.TrimSpace(l)] = true
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if !have[strings.TrimSpace(l)] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// joinLines joins the non-empty texts on lines of their own.
func joinLines(texts []string) string {
	out := texts[:0:0]
	for _, t := range texts {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, "\n")
}

// slideParts lists the slides in presentation order: the order of the
// presentation's slide id list, not of the part names.
func (d *zipDoc) slideParts(main string) ([]string, error) {
	rels, err := d.relationships(main)
	if err != nil {
		return nil, err
	}
	b, err := d.readAll(main)
	if err != nil {
		return nil, err
	}
	var v struct {
		IDs []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sldIdLst>sldId"`
	}
	if err := newXMLDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, main, err)
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range v.IDs {
		for _, a := range id.Attrs {
			if a.Name.Local != "id" || a.Name.Space == "" {
				continue // the slide's numeric id, not its relationship
			}
			if r, ok := rels[a.Value]; ok && d.has(r.target) && !seen[r.target] {
				seen[r.target] = true
				out = append(out, r.target)
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	// No usable list: the slide parts in number order.
	for name := range d.files {
		if strings.HasPrefix(name, "ppt/slides/slide") && strings.HasSuffix(name, ".xml") {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool { return partNumber(out[i]) < partNumber(out[j]) })
	return out, nil
}

func partNumber(name string) int {
	s := strings.TrimSuffix(path.Base(name), ".xml")
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return n
}

// drawingText returns the text of a DrawingML part (a slide, a layout, a
// master, a diagram's data): paragraphs on lines, table cells separated by
// tabs. Of a layout or master (masters), the placeholders are left out but
// for the footer: theirs is the prompt a slide replaces ("Click to edit
// Master title style"), or a field (the date, the slide number).
func (d *zipDoc) drawingText(name string, masters bool) (string, error) {
	w := d.lineWriter()
	out := &w
	var shape lineWriter
	shapes := 0 // depth inside shapes (p:sp) of a master
	prompt := false
	inText := false
	err := d.eachToken(name, func(tok xml.Token) (skip bool, err error) {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText = true
			case "br":
				out.writeByte('\n')
			case "Fallback":
				skip = true
			case "sp":
				if masters {
					if shapes == 0 {
						shape = d.scratchWriter()
						out = &shape
						prompt = false
					}
					shapes++
				}
			case "ph":
				if masters && shapes > 0 && attr(t, "type") != "ftr" {
					prompt = true
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				out.writeByte('\n')
			case "tc":
				out.writeByte('\t')
			case "tr":
				out.endRow()
			case "sp":
				if masters && shapes > 0 {
					if shapes--; shapes == 0 {
						out = &w
						if !prompt {
							if s := shape.String(); s != "" {
								w.writeString(s)
								w.writeByte('\n')
							}
						}
					}
				}
			}
		case xml.CharData:
			if inText {
				out.write(t)
			}
		}
		return skip, nil
	})
	if err != nil {
		return "", err
	}
	return w.String(), nil
}

// ---- ODF (ODT, ODP, ODS)

func extractODF(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	lim := b.lim
	kind := odfKind(in.Type)
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	if d.has("META-INF/manifest.xml") {
		b, err := d.readAll("META-INF/manifest.xml")
		if err != nil {
			return nil, err
		}
		// An encrypted ODF package lists how each encrypted entry was
		// encrypted; its content.xml is ciphertext.
		if bytes.Contains(b, []byte("encryption-data")) {
			return nil, fmt.Errorf("%w: password-protected OpenDocument file", ErrEncrypted)
		}
	}
	res := &Result{Meta: map[string]string{}}
	if err := d.odfMeta(res); err != nil {
		return nil, err
	}
	hasObjects := false
	for name := range d.files {
		if strings.HasPrefix(name, "object ") {
			hasObjects = true
			break
		}
	}
	if !hasObjects {
		pages, err := d.odfText(kind, lim)
		if err != nil {
			return nil, err
		}
		setODFPages(res, kind, pages)
		odfDrawingPages(res, in.Type)
		return res, nil
	}
	// Embedded objects: the pages that show them are noted on the way, so
	// that a chart's text goes with the slide or sheet it is on.
	shownOn := map[string]int{} // object (lower-cased) -> page index
	page, tables := -1, 0
	pages, err := odfBodyText(d.ctx, d.bud, kind, lim, func(fn tokenFunc) error {
		return d.eachToken("content.xml", func(tok xml.Token) (bool, error) {
			switch t := tok.(type) {
			case xml.StartElement:
				switch {
				case t.Name.Local == "page" && kind == typeODP, t.Name.Local == "table" && kind == typeODS && tables == 0:
					page++
				case t.Name.Local == "object":
					obj := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(attr(t, "href"), "./"), "/"))
					if _, ok := shownOn[obj]; !ok && obj != "" {
						shownOn[obj] = max(page, 0)
					}
				}
				if t.Name.Local == "table" {
					tables++
				}
			case xml.EndElement:
				if t.Name.Local == "table" {
					tables = max(tables-1, 0)
				}
			}
			return fn(tok)
		})
	})
	if err != nil {
		return nil, err
	}
	charts, err := d.odfObjects(res)
	if err != nil {
		return nil, err
	}
	var names []string
	for obj := range charts {
		names = append(names, obj)
	}
	sort.Slice(names, func(i, j int) bool { return partLess(names[i], names[j]) })
	for _, obj := range names {
		i := 0
		if kind == typeODT {
			i = 0
		} else if p, ok := shownOn[obj]; ok && p < len(pages) {
			i = p
		} else if len(pages) > 0 {
			i = len(pages) - 1
		} else {
			continue
		}
		if len(pages) == 0 {
			pages = []string{""}
		}
		pages[i] = joinLines([]string{pages[i], charts[obj]})
	}
	setODFPages(res, kind, pages)
	odfDrawingPages(res, in.Type)
	return res, nil
}

// odfKindOf are the OpenDocument types read as the text, spreadsheet or
// presentation they are made like: templates as their documents, a
// drawing's pages as slides, a master document, web page, formula or chart
// as text (their content is text, a MathML formula, a chart's labels).
var odfKindOf = []string{
	typeODT + "-template", typeODS + "-template", typeODP + "-template",
	typeODG, typeODG + "-template",
	"application/vnd.oasis.opendocument.text-master", "application/vnd.oasis.opendocument.text-master-template",
	"application/vnd.oasis.opendocument.text-web",
	"application/vnd.oasis.opendocument.formula", "application/vnd.oasis.opendocument.formula-template",
	"application/vnd.oasis.opendocument.chart", "application/vnd.oasis.opendocument.chart-template",
}

// typeODG is an OpenDocument drawing (.odg).
const typeODG = "application/vnd.oasis.opendocument.graphics"

// odfKind returns the type whose reading an OpenDocument type of
// odfKindOf takes: ODT, ODS or ODP.
func odfKind(typ string) string {
	base := strings.TrimSuffix(typ, "-template")
	switch base {
	case typeODT, typeODS, typeODP:
		return base
	case typeODG:
		return typeODP
	}
	return typeODT
}

// odfDrawingPages names a drawing's pages as pages, not slides.
func odfDrawingPages(res *Result, typ string) {
	if strings.TrimSuffix(typ, "-template") != typeODG {
		return
	}
	if n, ok := res.Meta["slides"]; ok {
		delete(res.Meta, "slides")
		res.Meta["pages"] = n
	}
}

// setODFPages sets the text of an ODF document of type typ (ODT, ODS,
// ODP) from the pages odfBodyText returned.
func setODFPages(res *Result, typ string, pages []string) {
	switch typ {
	case typeODT:
		res.Text = strings.Join(pages, "\n")
	default:
		for i, p := range pages {
			res.Pages = append(res.Pages, Page{Number: i + 1, Text: p})
		}
		if typ == typeODP {
			res.Meta["slides"] = strconv.Itoa(len(pages))
		} else {
			res.Meta["sheets"] = strconv.Itoa(len(pages))
		}
	}
}

func (d *zipDoc) odfMeta(res *Result) error {
	if !d.has("meta.xml") {
		return nil
	}
	b, err := d.readAll("meta.xml")
	if err != nil {
		return err
	}
	var v struct {
		Meta odfMetaFields `xml:"meta"`
	}
	if err := newXMLDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("meta.xml: %v", err))
		return nil
	}
	v.Meta.apply(res)
	return nil
}

// odfMetaFields are the fields of an office:meta element that a Result
// shows: meta.xml's in a package, the element itself in a flat file.
type odfMetaFields struct {
	Title          string `xml:"title"`
	Creator        string `xml:"creator"`
	InitialCreator string `xml:"initial-creator"`
	Created        string `xml:"creation-date"`
	Language       string `xml:"language"`
}

// field returns the field of the element named local, nil for others.
func (m *odfMetaFields) field(local string) *string {
	switch local {
	case "title":
		return &m.Title
	case "creator":
		return &m.Creator
	case "initial-creator":
		return &m.InitialCreator
	case "creation-date":
		return &m.Created
	case "language":
		return &m.Language
	}
	return nil
}

func (m *odfMetaFields) apply(res *Result) {
	res.Title = strings.TrimSpace(m.Title)
	res.Author = strings.TrimSpace(m.InitialCreator)
	if res.Author == "" {
		res.Author = strings.TrimSpace(m.Creator)
	}
	res.Created, _ = parseW3CDTF(m.Created)
	if lang := strings.TrimSpace(m.Language); lang != "" {
		res.Meta["lang"] = lang
	}
}

// maxRepeat bounds how often a repeated spreadsheet cell or row with
// content is written out: a table:number-columns-repeated of a billion
// would otherwise expand a few bytes into gigabytes of text.
const maxRepeat = 1000

// odfText returns the text of content.xml: one string for a text document,
// one per slide (draw:page) or sheet (table:table) otherwise.
func (d *zipDoc) odfText(typ string, lim Limits) ([]string, error) {
	return odfBodyText(d.ctx, d.bud, typ, lim, func(fn tokenFunc) error { return d.eachToken("content.xml", fn) })
}

// odfBodyText returns the text of an ODF document's body from the tokens
// walk passes to fn, drawing on the budget b: one string for a text
// document (typ ODT), one per slide (draw:page) or sheet (table:table)
// otherwise. The same walk reads a package's content.xml and a flat ODF
// file.
func odfBodyText(ctx context.Context, b *budget, typ string, lim Limits, walk func(fn tokenFunc) error) ([]string, error) {
	paged := typ != typeODT
	pageElem := "page" // draw:page
	if typ == typeODS {
		pageElem = "table" // table:table
	}
	var pages []string
	w := newLineWriter(b)
	// Footnotes and endnotes are written inline in ODF, in the middle of
	// the sentence they annotate; they are collected and put after the
	// text (or the slide) as DOCX's are.
	notes := newLineWriter(b)
	inNote := 0
	inPage := false
	para := 0  // depth inside paragraphs and headings
	table := 0 // depth inside tables
	// Spreadsheet rows are gathered cell by cell so that repeats can be
	// expanded and empty trailing cells dropped.
	var row []string
	cell := newScratchWriter(b)
	inCell := false
	cellRepeat, rowRepeat := 1, 1
	err := walk(func(tok xml.Token) (skip bool, err error) {
		out := &w
		if inCell && typ == typeODS {
			out = &cell
		}
		if inNote > 0 {
			out = &notes
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case pageElem:
				if paged && table <= 1 && !inPage {
					inPage = true
					w = newLineWriter(b)
				}
			case "s":
				n := 1
				if v := attr(t, "c"); v != "" {
					n, _ = strconv.Atoi(v)
				}
				out.writeString(strings.Repeat(" ", min(max(n, 1), 100)))
			case "tab":
				out.writeByte('\t')
			case "line-break":
				out.writeByte('\n')
			case "table-row":
				rowRepeat = repeatAttr(t, "number-rows-repeated")
				row = row[:0]
			case "table-cell", "covered-table-cell":
				inCell = true
				cell = newScratchWriter(b)
				cellRepeat = repeatAttr(t, "number-columns-repeated")
			case "note-body":
				inNote++
			// Footnote marks, comments, speaker notes, deleted changes,
			// image descriptions and embedded images (a flat file's) are
			// not the document's text.
			// A chart's title (chart:title, of an embedded chart) is.
			case "note-citation", "annotation", "notes", "tracked-changes", "desc", "title", "binary-data":
				if sp := t.Name.Space; sp != "dc" && sp != "chart" && !strings.HasSuffix(sp, ":chart:1.0") {
					skip = true
				}
			}
			switch t.Name.Local {
			case "table":
				table++
			case "p", "h":
				para++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "note-body":
				inNote = max(inNote-1, 0)
				notes.writeByte('\n')
			case "p", "h":
				para = max(para-1, 0)
				if inCell && inNote == 0 {
					out.space()
				} else {
					out.writeByte('\n')
				}
			case "table-cell", "covered-table-cell":
				inCell = false
				if typ == typeODS {
					c := cell.String()
					for range min(cellRepeat, maxRepeat) {
						row = append(row, c)
					}
					if len(row) > 16384 {
						row = row[:16384] // a sheet has at most 16,384 columns
					}
				} else {
					w.writeByte('\t')
				}
			case "table-row":
				if typ == typeODS {
					line := strings.Join(trimEmpty(row), "\t")
					if line != "" {
						for range min(rowRepeat, maxRepeat) {
							w.writeString(line)
							w.writeByte('\n')
						}
					}
					row = row[:0]
				} else {
					w.endRow()
				}
			case "table":
				table--
			}
			if t.Name.Local == pageElem && paged && inPage && table <= 0 {
				inPage = false
				pages = append(pages, joinNonEmpty(w.String(), notes.String()))
				notes = newLineWriter(b)
				if lim.MaxPages > 0 && len(pages) > lim.MaxPages {
					return false, &LimitError{Limit: "pages", Max: int64(lim.MaxPages)}
				}
				if err := ctx.Err(); err != nil {
					return false, err
				}
			}
		case xml.CharData:
			// White space between elements outside paragraphs is the
			// indentation of a pretty-printed file, not text.
			if (!paged || inPage) && (para > 0 || len(bytes.TrimSpace(t)) > 0) {
				out.write(t)
			}
		}
		return skip, nil
	})
	if err != nil {
		return nil, err
	}
	if !paged {
		return []string{joinNonEmpty(w.String(), notes.String())}, nil
	}
	return pages, nil
}

// joinNonEmpty joins a text and its notes with a blank line.
func joinNonEmpty(text, notes string) string {
	if notes == "" {
		return text
	}
	if text == "" {
		return notes
	}
	return text + "\n\n" + notes
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func repeatAttr(t xml.StartElement, local string) int {
	n, err := strconv.Atoi(attr(t, local))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// trimEmpty drops empty trailing cells: a row is stored as wide as its
// formatting, not its content.
func trimEmpty(row []string) []string {
	for len(row) > 0 && row[len(row)-1] == "" {
		row = row[:len(row)-1]
	}
	return row
}

// lineWriter collects extracted text: runs of white space inside text are
// kept as written, but lines are trimmed and runs of empty lines folded
// into one.
type lineWriter struct {
	b textSink
	// spacePending is a paragraph break inside a table cell, written as a
	// space only if more text follows in the cell.
	spacePending bool
}

func (w *lineWriter) flushSpace() {
	if w.spacePending {
		w.spacePending = false
		w.b.writeByte(' ')
	}
}

func (w *lineWriter) write(p []byte) {
	w.flushSpace()
	w.b.write(p)
}

func (w *lineWriter) writeString(s string) {
	w.flushSpace()
	w.b.writeString(s)
}

// writeByte writes a tab or a line break, which end a pending space.
func (w *lineWriter) writeByte(c byte) {
	if c == '\t' || c == '\n' {
		w.spacePending = false
	} else {
		w.flushSpace()
	}
	w.b.writeByte(c)
}

// space separates paragraphs inside a table cell, which stay on the row's
// line.
func (w *lineWriter) space() {
	if w.b.Len() > 0 {
		w.spacePending = true
	}
}

// endRow ends a table row, whose last cell left a tab behind.
func (w *lineWriter) endRow() {
	w.writeByte('\n')
}

func (w *lineWriter) Len() int { return w.b.Len() }

func (w *lineWriter) String() string {
	lines := strings.Split(w.b.String(), "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
