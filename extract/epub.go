package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"
)

// EPUB: a ZIP container (OCF) whose META-INF/container.xml names the
// package document (OPF); the OPF's spine lists the XHTML content documents
// in reading order, and its metadata the book's title, authors, language
// and date. The text is each content document's, read as the HTML
// extractor reads a page, chapters separated by blank lines. Every part is
// read through the office formats' zipDoc, so its decompression is counted
// against the document's budget like a DOCX's.

func init() {
	register(&format{name: "epub", types: []string{typeEPUB}, extract: extractEPUB})
}

const typeEPUB = "application/epub+zip"

// epubFontObfuscation are the algorithms of META-INF/encryption.xml that
// only mangle embedded fonts (IDPF's and Adobe's); any other encrypts the
// resource with DRM.
var epubFontObfuscation = map[string]bool{
	"http://www.idpf.org/2008/embedding": true,
	"http://ns.adobe.com/pdf/enc#RC":     true,
}

// opfPackage is what Quire reads of an OPF package document.
type opfPackage struct {
	Titles    []string `xml:"metadata>title"`
	Creators  []string `xml:"metadata>creator"`
	Languages []string `xml:"metadata>language"`
	Dates     []string `xml:"metadata>date"`
	Publisher []string `xml:"metadata>publisher"`
	Metas     []struct {
		Property string `xml:"property,attr"`
		Value    string `xml:",chardata"`
	} `xml:"metadata>meta"`
	Items []struct {
		ID        string `xml:"id,attr"`
		Href      string `xml:"href,attr"`
		MediaType string `xml:"media-type,attr"`
	} `xml:"manifest>item"`
	Spine []struct {
		IDRef string `xml:"idref,attr"`
	} `xml:"spine>itemref"`
}

func extractEPUB(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	d, err := openZip(ctx, in.Data, b)
	if err != nil {
		return nil, err
	}
	opfName, err := d.epubRootfile()
	if err != nil {
		return nil, err
	}
	raw, err := d.readAll(opfName)
	if err != nil {
		return nil, err
	}
	var opf opfPackage
	if err := newXMLDecoder(bytes.NewReader(raw)).Decode(&opf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, opfName, err)
	}
	res := &Result{Meta: map[string]string{}}
	epubMetadata(&opf, res)

	encrypted, err := d.epubEncrypted()
	if err != nil {
		return nil, err
	}
	chapters := epubChapters(&opf, path.Dir(opfName))
	if len(chapters) == 0 {
		return nil, fmt.Errorf("%w: %s lists no content documents", ErrCorrupt, opfName)
	}
	var (
		out    strings.Builder
		locked int
		title  string
	)
	for _, name := range chapters {
		if b.full() {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if encrypted[strings.ToLower(name)] {
			locked++
			continue
		}
		if !d.has(name) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: listed in the spine but missing", name))
			continue
		}
		markup, cut, err := d.epubChapter(name)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, err
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", name, err))
			d.err = nil // the next chapter is read afresh
			continue
		}
		h, err := htmlText(ctx, markup, b)
		if err != nil {
			return nil, err
		}
		if cut {
			b.markTruncated() // after its text: a full budget stops htmlText
		}
		if title == "" {
			title = h.title
		}
		if h.text == "" {
			continue
		}
		if out.Len() > 0 {
			if b.take(2) < 2 {
				break
			}
			out.WriteString("\n\n")
		}
		out.WriteString(h.text)
	}
	if locked == len(chapters) {
		return nil, fmt.Errorf("%w: every content document of the EPUB is encrypted (DRM)", ErrEncrypted)
	}
	if locked > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d content documents are encrypted (DRM) and were left out", locked, len(chapters)))
	}
	res.Text = out.String()
	if res.Title == "" {
		res.Title = title
	}
	return res, nil
}

// epubRootfile finds the package document: the first rootfile of
// META-INF/container.xml that is an OPF, or else the first .opf entry.
func (d *zipDoc) epubRootfile() (string, error) {
	const container = "META-INF/container.xml"
	if d.has(container) {
		raw, err := d.readAll(container)
		if err != nil {
			return "", err
		}
		var v struct {
			Rootfiles []struct {
				FullPath  string `xml:"full-path,attr"`
				MediaType string `xml:"media-type,attr"`
			} `xml:"rootfiles>rootfile"`
		}
		if err := newXMLDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrCorrupt, container, err)
		}
		for _, r := range v.Rootfiles {
			if (r.MediaType == "" || r.MediaType == "application/oebps-package+xml") && d.has(r.FullPath) {
				return r.FullPath, nil
			}
		}
	}
	for name := range d.files {
		if strings.HasSuffix(name, ".opf") {
			return name, nil
		}
	}
	return "", fmt.Errorf("%w: an EPUB without a package document (no rootfile in META-INF/container.xml, no .opf)", ErrCorrupt)
}

// epubMetadata fills the result from the OPF's Dublin Core metadata.
func epubMetadata(opf *opfPackage, res *Result) {
	first := func(vs []string) string {
		for _, v := range vs {
			if v = collapseSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	res.Title = first(opf.Titles)
	var authors []string
	for _, c := range opf.Creators {
		if c = collapseSpace(c); c != "" {
			authors = append(authors, c)
		}
	}
	res.Author = strings.Join(authors, ", ")
	if lang := first(opf.Languages); lang != "" {
		res.Meta["lang"] = lang
	}
	if p := first(opf.Publisher); p != "" {
		res.Meta["publisher"] = p
	}
	if t, ok := parseEPUBDate(first(opf.Dates)); ok {
		res.Created = t
	}
	for _, m := range opf.Metas {
		if m.Property == "dcterms:modified" {
			if t, ok := parseEPUBDate(m.Value); ok {
				res.Meta["modified"] = t.Format(time.RFC3339)
			}
		}
	}
}

// parseEPUBDate parses the dates of OPF metadata: W3CDTF, down to a year.
func parseEPUBDate(s string) (time.Time, bool) {
	if t, ok := parseW3CDTF(s); ok {
		return t, true
	}
	for _, l := range []string{"2006-01", "2006"} {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// epubChapters returns the content documents in reading order: the spine's,
// or the manifest's XHTML documents when the spine lists none. Names are
// the container's, resolved against the OPF's directory.
func epubChapters(opf *opfPackage, dir string) []string {
	byID := map[string]int{}
	for i, it := range opf.Items {
		byID[it.ID] = i
	}
	resolve := func(href string) string {
		if i := strings.IndexByte(href, '#'); i >= 0 {
			href = href[:i]
		}
		if u, err := url.PathUnescape(href); err == nil {
			href = u
		}
		return strings.TrimPrefix(path.Join(dir, href), "/")
	}
	isContent := func(mt string) bool {
		switch mt {
		case "application/xhtml+xml", "text/html", "application/x-dtbook+xml", "":
			return true
		}
		return false
	}
	var names []string
	seen := map[string]bool{}
	add := func(href string) {
		if n := resolve(href); href != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, ref := range opf.Spine {
		if i, ok := byID[ref.IDRef]; ok && isContent(opf.Items[i].MediaType) {
			add(opf.Items[i].Href)
		}
	}
	if len(names) == 0 {
		for _, it := range opf.Items {
			if it.MediaType == "application/xhtml+xml" || it.MediaType == "text/html" {
				add(it.Href)
			}
		}
	}
	return names
}

// epubEncrypted returns the resources META-INF/encryption.xml says are
// encrypted with DRM (not the fonts merely obfuscated), by lower-case name.
func (d *zipDoc) epubEncrypted() (map[string]bool, error) {
	const name = "META-INF/encryption.xml"
	if !d.has(name) {
		return nil, nil
	}
	raw, err := d.readAll(name)
	if err != nil {
		return nil, err
	}
	var v struct {
		Data []struct {
			Method struct {
				Algorithm string `xml:"Algorithm,attr"`
			} `xml:"EncryptionMethod"`
			Ref struct {
				URI string `xml:"URI,attr"`
			} `xml:"CipherData>CipherReference"`
		} `xml:"EncryptedData"`
	}
	if err := newXMLDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
		return nil, nil // a damaged encryption.xml: the content says what it is
	}
	out := map[string]bool{}
	for _, e := range v.Data {
		if epubFontObfuscation[e.Method.Algorithm] || e.Ref.URI == "" {
			continue
		}
		uri := e.Ref.URI
		if u, err := url.PathUnescape(uri); err == nil {
			uri = u
		}
		out[strings.ToLower(strings.TrimPrefix(path.Clean("/"+uri), "/"))] = true
	}
	return out, nil
}

// epubChapter reads a content document's markup. It reads up to four
// times the text budget left (markup is larger than its text, though
// rarely four times): past that the document's text could not fit anyway,
// so the markup is cut there, and cut reported: the document is then
// truncated.
func (d *zipDoc) epubChapter(name string) (markup string, cut bool, err error) {
	rc, err := d.open(name)
	if err != nil {
		return "", false, err
	}
	defer rc.Close()
	limit := int64(-1)
	if left := d.bud.left(); left >= 0 {
		limit = 4*left + xmlTokenSlack
	}
	var sb strings.Builder
	if f := d.files[strings.ToLower(name)]; f != nil && f.UncompressedSize64 < 64<<20 &&
		(limit < 0 || int64(f.UncompressedSize64) <= limit) {
		sb.Grow(int(f.UncompressedSize64))
	}
	var r io.Reader = rc
	if limit >= 0 {
		r = io.LimitReader(rc, limit+1)
	}
	n, err := io.Copy(&sb, r)
	if err != nil {
		return "", false, d.fail(name, err)
	}
	s := sb.String()
	if limit >= 0 && n > limit {
		cut = true
		s = cutUTF8(s, int(limit))
	}
	if strings.HasPrefix(s, "\xff\xfe") || strings.HasPrefix(s, "\xfe\xff") {
		t, _, err := decodeText([]byte(s), "")
		if err != nil {
			return "", false, err
		}
		s = t
	}
	return strings.TrimPrefix(s, "\ufeff"), cut, nil
}
