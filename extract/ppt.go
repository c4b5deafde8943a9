package extract

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

func init() {
	register(&format{name: "ppt", types: []string{typePPT}, extract: extractPPT})
}

// PowerPoint 97–2003 presentations ([MS-PPT]). The "PowerPoint Document"
// stream is a tree of records; the "Current User" stream points to the last
// edit, whose persist directory maps the ids the document uses to the
// offsets of its slides. The document's slide list (SlideListWithText)
// gives the slides in presentation order; each slide's text is in its
// drawing (TextCharsAtom in UTF-16, TextBytesAtom in 8 bits), or, in files
// of older PowerPoint versions, in the slide list itself, which the drawing
// refers to. One Page per slide, its speaker notes after its text. A file
// whose edit chain cannot be followed is read in file order instead.

const (
	pptDocument         = 0x03E8
	pptSlide            = 0x03EE
	pptSlideAtom        = 0x03EF
	pptNotes            = 0x03F0
	pptTextHeaderAtom   = 0x0F9F
	pptOutlineTextRef   = 0x0F9E
	pptTextCharsAtom    = 0x0FA0
	pptTextBytesAtom    = 0x0FA8
	pptSlideListText    = 0x0FF0
	pptUserEditAtom     = 0x0FF5
	pptSlidePersistAtom = 0x03F3
	pptProgTags         = 0x1388
	pptPersistDirectory = 0x1772
	pptMaxDepth         = 32
)

func extractPPT(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	return readPPT(ctx, r, b)
}

// pptRec is one record: its type, instance, whether it is a container, and
// its body.
type pptRec struct {
	typ       uint16
	inst      uint16
	container bool
	body      []byte
}

// pptRecAt reads the record at off of doc.
func pptRecAt(doc []byte, off int64) (pptRec, int64, bool) {
	if off < 0 || off+8 > int64(len(doc)) {
		return pptRec{}, 0, false
	}
	le := binary.LittleEndian
	vi := le.Uint16(doc[off:])
	n := int64(le.Uint32(doc[off+4:]))
	end := off + 8 + n
	if end > int64(len(doc)) {
		return pptRec{}, 0, false
	}
	return pptRec{typ: le.Uint16(doc[off+2:]), inst: vi >> 4, container: vi&0xF == 0xF, body: doc[off+8 : end]}, end, true
}

// eachRec calls fn with the records of a container's body, in order.
func eachRec(body []byte, fn func(r pptRec) bool) {
	for off := int64(0); off < int64(len(body)); {
		r, next, ok := pptRecAt(body, off)
		if !ok || !fn(r) {
			return
		}
		off = next
	}
}

// pptSlideRef is one slide of the slide list: the persist id of its
// container, its slide id, and the text the list itself holds for it.
type pptSlideRef struct {
	persist uint32
	id      uint32
	texts   []string
}

func readPPT(ctx context.Context, r *cfbReader, b *budget) (*Result, error) {
	doc, ok, err := r.stream("PowerPoint Document")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no PowerPoint Document stream", ErrCorrupt)
	}
	if r.has("EncryptedSummary") {
		return nil, fmt.Errorf("%w: password-protected PowerPoint presentation", ErrEncrypted)
	}
	res := &Result{Meta: map[string]string{}}
	r.summary().apply(res)

	persist, docOff, err := pptPersist(r, doc)
	if err != nil {
		return nil, err
	}
	var slides, notes []pptSlideRef
	if persist != nil {
		if d, _, ok := pptRecAt(doc, docOff); ok && d.typ == pptDocument && d.container {
			eachRec(d.body, func(rec pptRec) bool {
				if rec.typ == pptSlideListText && rec.container {
					switch rec.inst {
					case 0:
						slides = pptSlideList(rec.body)
					case 2:
						notes = pptSlideList(rec.body)
					}
				}
				return true
			})
		}
	}
	notesByID := map[uint32]uint32{}
	for _, n := range notes {
		notesByID[n.id] = n.persist
	}

	var pages []string
	lim := b.lim
	addPage := func(text string) error {
		pages = append(pages, text)
		if lim.MaxPages > 0 && len(pages) > lim.MaxPages {
			return &LimitError{Limit: "pages", Max: int64(lim.MaxPages)}
		}
		return ctx.Err()
	}
	found := 0
	read := map[uint32]bool{}
	for _, s := range slides {
		off, ok := persist[s.persist]
		if !ok || read[s.persist] {
			continue // a slide listed twice is read once
		}
		read[s.persist] = true
		rec, _, ok := pptRecAt(doc, off)
		if !ok || rec.typ != pptSlide {
			continue
		}
		found++
		if b.full() {
			if err := addPage(""); err != nil {
				return nil, err
			}
			continue
		}
		w := lineWriter{b: textSink{bud: b}}
		pptSlideText(&w, rec, s.texts)
		text := w.String()
		if n, ok := notesByID[pptNotesID(rec)]; ok {
			if off, ok := persist[n]; ok {
				if nrec, _, ok := pptRecAt(doc, off); ok && nrec.typ == pptNotes {
					nw := lineWriter{b: textSink{bud: b}}
					pptSlideText(&nw, nrec, nil)
					text = joinNonEmpty(text, nw.String())
				}
			}
		}
		if err := addPage(text); err != nil {
			return nil, err
		}
	}
	if found == 0 {
		// No usable edit chain or slide list: the slides in file order,
		// their notes after them all.
		var notesText []string
		var err error
		eachRec(doc, func(rec pptRec) bool {
			switch {
			case b.full():
				return false
			case rec.typ == pptSlide && rec.container:
				w := lineWriter{b: textSink{bud: b}}
				pptSlideText(&w, rec, nil)
				err = addPage(w.String())
			case rec.typ == pptNotes && rec.container:
				w := lineWriter{b: textSink{bud: b}}
				pptSlideText(&w, rec, nil)
				if t := w.String(); t != "" {
					notesText = append(notesText, t)
				}
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
		if len(notesText) > 0 && len(pages) > 0 {
			pages[len(pages)-1] = joinNonEmpty(pages[len(pages)-1], strings.Join(notesText, "\n"))
		}
	}
	for i, p := range pages {
		res.Pages = append(res.Pages, Page{Number: i + 1, Text: p})
	}
	res.Meta["slides"] = strconv.Itoa(len(pages))
	return res, nil
}

// pptPersist follows the edit chain from the Current User stream and
// returns the persist directory (persist id to offset, the latest edit
// winning) and the offset of the document container. A chain that cannot
// be followed gives a nil directory: the caller reads in file order.
func pptPersist(r *cfbReader, doc []byte) (map[uint32]int64, int64, error) {
	le := binary.LittleEndian
	cu, ok, err := r.stream("Current User")
	if err != nil || !ok || len(cu) < 20 {
		return nil, 0, nil
	}
	switch le.Uint32(cu[12:]) { // headerToken
	case 0xF3D1C4DF:
		return nil, 0, fmt.Errorf("%w: password-protected PowerPoint presentation", ErrEncrypted)
	case 0xE391C05F:
	default:
		return nil, 0, nil
	}
	off := int64(le.Uint32(cu[16:]))
	var dirs []int64
	docPersist := uint32(0)
	seen := map[int64]bool{}
	for i := 0; off > 0 && i < 4096 && !seen[off]; i++ {
		seen[off] = true
		rec, _, ok := pptRecAt(doc, off)
		if !ok || rec.typ != pptUserEditAtom || len(rec.body) < 24 {
			break
		}
		if i == 0 {
			docPersist = le.Uint32(rec.body[16:])
			if len(rec.body) >= 32 && le.Uint32(rec.body[28:]) != 0 {
				return nil, 0, fmt.Errorf("%w: password-protected PowerPoint presentation", ErrEncrypted)
			}
		}
		dirs = append(dirs, int64(le.Uint32(rec.body[12:])))
		off = int64(le.Uint32(rec.body[8:]))
	}
	if len(dirs) == 0 {
		return nil, 0, nil
	}
	persist := map[uint32]int64{}
	for i := len(dirs) - 1; i >= 0; i-- { // the oldest edit first
		rec, _, ok := pptRecAt(doc, dirs[i])
		if !ok || rec.typ != pptPersistDirectory {
			continue
		}
		body := rec.body
		for p := 0; p+4 <= len(body); {
			v := le.Uint32(body[p:])
			id, n := v&0xFFFFF, int(v>>20)
			p += 4
			for k := 0; k < n && p+4 <= len(body); k++ {
				persist[id+uint32(k)] = int64(le.Uint32(body[p:]))
				p += 4
			}
		}
	}
	docOff, ok := persist[docPersist]
	if !ok {
		return nil, 0, nil
	}
	return persist, docOff, nil
}

// pptSlideList reads a SlideListWithText: a SlidePersistAtom per slide,
// each followed by the text the list holds for it.
func pptSlideList(body []byte) []pptSlideRef {
	le := binary.LittleEndian
	var out []pptSlideRef
	eachRec(body, func(rec pptRec) bool {
		switch rec.typ {
		case pptSlidePersistAtom:
			if len(rec.body) >= 16 {
				out = append(out, pptSlideRef{persist: le.Uint32(rec.body), id: le.Uint32(rec.body[12:])})
			}
		case pptTextCharsAtom, pptTextBytesAtom:
			if len(out) > 0 {
				s := &out[len(out)-1]
				s.texts = append(s.texts, pptText(rec))
			}
		}
		return true
	})
	return out
}

// pptNotesID returns the id of a slide's notes, from its SlideAtom.
func pptNotesID(slide pptRec) uint32 {
	var id uint32
	eachRec(slide.body, func(rec pptRec) bool {
		if rec.typ == pptSlideAtom && len(rec.body) >= 20 {
			id = binary.LittleEndian.Uint32(rec.body[16:])
			return false
		}
		return true
	})
	return id
}

// pptSlideText writes the text of a slide or notes container: the text
// atoms of its drawing, in order, and the slide list's texts the drawing
// refers to (or all of them when it refers to none).
func pptSlideText(w *lineWriter, slide pptRec, listTexts []string) {
	refs := false
	written := map[string]bool{}
	var walk func(body []byte, depth int)
	walk = func(body []byte, depth int) {
		eachRec(body, func(rec pptRec) bool {
			if w.b.bud.full() {
				return false
			}
			switch {
			case rec.typ == pptProgTags:
				// Binary tags of later versions: not text.
			case rec.container:
				if depth < pptMaxDepth {
					walk(rec.body, depth+1)
				}
			case rec.typ == pptTextCharsAtom || rec.typ == pptTextBytesAtom:
				t := pptText(rec)
				written[t] = true
				w.writeString(t)
				w.writeByte('\n')
			case rec.typ == pptOutlineTextRef && len(rec.body) >= 4:
				refs = true
				if i := int(binary.LittleEndian.Uint32(rec.body)); i >= 0 && i < len(listTexts) {
					written[listTexts[i]] = true
					w.writeString(listTexts[i])
					w.writeByte('\n')
				}
			}
			return true
		})
	}
	walk(slide.body, 0)
	if !refs {
		for _, t := range listTexts {
			if !written[t] {
				w.writeString(t)
				w.writeByte('\n')
			}
		}
	}
}

// pptText decodes a text atom: paragraphs end in a carriage return, line
// breaks are vertical tabs.
func pptText(rec pptRec) string {
	var b []byte
	put := func(c rune) {
		switch {
		case c == '\r' || c == 0x0B:
			b = append(b, '\n')
		case c == '\t':
			b = append(b, '\t')
		case c < 0x20:
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	if rec.typ == pptTextBytesAtom {
		b = make([]byte, 0, len(rec.body)+len(rec.body)/4)
		for _, c := range rec.body {
			put(rune(c)) // the low bytes of UTF-16: Latin-1
		}
		return string(b)
	}
	s := decodeUTF16LE(rec.body)
	b = make([]byte, 0, len(s))
	for _, c := range s {
		put(c)
	}
	return string(b)
}
