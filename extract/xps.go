package extract

import (
	"context"
	"encoding/xml"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
)

// XPS and OpenXPS (ECMA-388): an OPC package (a ZIP container) whose root
// relationship names a FixedDocumentSequence; the sequence lists fixed
// documents, each its fixed pages in order. A page's text is the
// UnicodeString of its Glyphs elements, runs of glyphs placed at absolute
// positions: in the order the page lists them (printers write them in
// reading order), a run on the baseline of the one before it continuing
// its line, any other starting a new one. Pages become Result.Pages; the
// core properties, as in OOXML, give the title and author. Every part is
// read through the office formats' zipDoc, so its decompression counts
// against the document's budget.

// MIME types of XPS.
const (
	typeXPS  = "application/vnd.ms-xpsdocument"
	typeOXPS = "application/oxps"
)

func init() {
	register(&format{name: "xps", types: []string{typeXPS, typeOXPS}, extract: extractXPS})
}

// xpsPartsMax bounds the documents of a sequence: a real one has one, a
// binder a few.
const xpsPartsMax = 1000

func extractXPS(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	seq, err := d.xpsSequence()
	if err != nil {
		return nil, err
	}
	res := &Result{Meta: map[string]string{}}
	if err := d.coreProperties(res); err != nil {
		return nil, err
	}
	docs, err := d.xpsReferences(seq, "DocumentReference")
	if err != nil {
		return nil, err
	}
	var pages []string
	for _, doc := range docs {
		if !d.has(doc) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: listed in the sequence but missing", doc))
			continue
		}
		ps, err := d.xpsReferences(doc, "PageContent")
		if err != nil {
			return nil, err
		}
		pages = append(pages, ps...)
	}
	if lim := b.lim.MaxPages; lim > 0 && len(pages) > lim {
		return nil, &LimitError{Limit: "pages", Max: int64(lim), Got: int64(len(pages))}
	}
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		text := ""
		if d.has(p) {
			if text, err = d.xpsPageText(p); err != nil {
				return nil, err
			}
		} else {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: listed in the document but missing", p))
		}
		res.Pages = append(res.Pages, Page{Number: i + 1, Text: text})
	}
	res.Meta["pages"] = strconv.Itoa(len(pages))
	return res, nil
}

// xpsSequence finds the FixedDocumentSequence: the target of the package's
// fixed representation relationship (XPS's or OpenXPS's), or else the
// first .fdseq part.
func (d *zipDoc) xpsSequence() (string, error) {
	rels, err := d.relationships("")
	if err != nil {
		return "", err
	}
	for _, r := range rels {
		if strings.HasSuffix(r.typ, "/fixedrepresentation") && d.has(r.target) {
			return r.target, nil
		}
	}
	for name := range d.files {
		if strings.HasSuffix(name, ".fdseq") {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: an XPS package without a FixedDocumentSequence", ErrCorrupt)
}

// xpsReferences returns the Source of each element named local in the part
// (documents of a sequence, pages of a document), resolved against the
// part's directory.
func (d *zipDoc) xpsReferences(part, local string) ([]string, error) {
	var out []string
	dir := path.Dir(part)
	err := d.eachToken(part, func(tok xml.Token) (bool, error) {
		t, ok := tok.(xml.StartElement)
		if !ok || t.Name.Local != local {
			return false, nil
		}
		src := attr(t, "Source")
		if src == "" {
			return false, nil
		}
		if len(out) >= xpsPartsMax*10 {
			return false, fmt.Errorf("%w: %s lists more than %d parts", ErrCorrupt, part, xpsPartsMax*10)
		}
		if strings.HasPrefix(src, "/") {
			src = strings.TrimPrefix(path.Clean(src), "/")
		} else {
			src = strings.TrimPrefix(path.Join(dir, src), "/")
		}
		out = append(out, src)
		return false, nil
	})
	return out, err
}

// xpsPageText returns the text of a fixed page: its glyph runs, a run on
// the baseline of the one before it continuing its line after a space.
// Writers emit a line, or a word, per run; a word split over runs is rare.
func (d *zipDoc) xpsPageText(name string) (string, error) {
	w := d.lineWriter()
	lastY := math.NaN()
	err := d.eachToken(name, func(tok xml.Token) (bool, error) {
		t, ok := tok.(xml.StartElement)
		if !ok || t.Name.Local != "Glyphs" {
			return false, nil
		}
		s := xpsUnicodeString(attr(t, "UnicodeString"))
		if strings.TrimSpace(s) == "" {
			return false, nil
		}
		y, err := strconv.ParseFloat(attr(t, "OriginY"), 64)
		size, _ := strconv.ParseFloat(attr(t, "FontRenderingEmSize"), 64)
		switch {
		case w.Len() == 0:
		case err == nil && math.Abs(y-lastY) <= math.Max(size, 1)/4:
			w.space()
		default:
			w.writeByte('\n')
		}
		w.writeString(s)
		lastY = y
		if err != nil {
			lastY = math.NaN()
		}
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return w.String(), nil
}

// xpsUnicodeString unescapes a Glyphs UnicodeString: a leading "{}" escapes
// a string that starts with "{" (which would otherwise be markup
// extension syntax).
func xpsUnicodeString(s string) string {
	return strings.TrimPrefix(s, "{}")
}
