package extract

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/quirehq/quire/internal/bytesize"
)

// Embedded objects. An office document keeps the files pasted into it (a
// workbook in a report, a PDF on a slide) as parts of its package:
//
//   - OOXML under word/, ppt/ or xl/embeddings/: an OOXML package as it is
//     (Microsoft_Excel_Worksheet.xlsx), anything else wrapped in an OLE
//     object (oleObjectN.bin), a CFB container whose "\x01Ole10Native" or
//     "Package" stream holds the file, or which is itself a legacy Office
//     document.
//   - ODF as "Object N": a sub-document's parts in a directory of that
//     name (its text and spreadsheet objects are packed again as documents
//     of their own; its charts are text of the document, as OOXML charts
//     are), or an OLE object.
//
// They become children, as an email's attachments and an archive's members
// do, within the same limits: the first Limits.MaxChildren of them, adding
// up to at most Limits.MaxBytes, each read through the package's counted
// reader. Pictures are not children: every logo would be OCRed.

// embedder collects a document's embedded objects as children.
type embedder struct {
	lim  Limits
	res  *Result
	held int64
	// left names the objects left out for the limits.
	left []string
}

func newEmbedder(lim Limits, res *Result) *embedder { return &embedder{lim: lim, res: res} }

// room is how many more bytes of children may be held, negative for no
// bound; false when no more children may be added.
func (e *embedder) room() (int64, bool) {
	if e.lim.MaxChildren >= 0 && len(e.res.Children) >= e.lim.MaxChildren {
		return 0, false
	}
	if e.lim.MaxBytes < 0 {
		return -1, true
	}
	return max(e.lim.MaxBytes-e.held, 0), true
}

// add keeps data as a child named name, unwrapping an OLE object.
func (e *embedder) add(name string, data []byte) {
	if len(data) == 0 {
		return
	}
	if bytes.HasPrefix(data, cfbMagic) {
		var ok bool
		if name, data, ok = oleContents(name, data); !ok {
			return
		}
	}
	room, ok := e.room()
	if !ok || (room >= 0 && int64(len(data)) > room) {
		e.left = append(e.left, name)
		return
	}
	e.held += int64(len(data))
	e.res.Children = append(e.res.Children, Child{Name: name, Type: Detect(name, data), Data: data})
}

// finish warns of the objects left out.
func (e *embedder) finish() {
	if len(e.left) == 0 {
		return
	}
	e.res.Warnings = append(e.res.Warnings, fmt.Sprintf(
		"%d embedded objects left out: the document holds more than the children limit of %d or the bytes limit of %s (%s)",
		len(e.left), e.lim.MaxChildren, bytesize.Format(e.lim.MaxBytes), nameList(e.left)))
	e.res.Meta["embedded_left_out"] = fmt.Sprint(len(e.left))
}

// embeddedPicture reports a part that is a picture (a preview of an object,
// or an image an application put among the embeddings).
func embeddedPicture(name string) bool {
	switch path.Ext(strings.ToLower(name)) {
	case ".emf", ".wmf", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".svg":
		return true
	}
	return false
}

// readEmbedded reads a whole part of the package to keep as a child, or
// nil when it would not fit in room bytes (negative: no bound).
func (d *zipDoc) readEmbedded(name string, room int64) ([]byte, error) {
	f := d.files[name]
	if f == nil || (room >= 0 && f.UncompressedSize64 > uint64(room)) {
		return nil, nil
	}
	rc, err := d.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if room >= 0 {
		r = io.LimitReader(rc, room+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, d.fail(name, err)
	}
	if room >= 0 && int64(len(b)) > room {
		return nil, nil
	}
	return b, nil
}

// ooxmlEmbedded makes the objects under dir ("word/embeddings/") children
// of res.
func (d *zipDoc) ooxmlEmbedded(res *Result, dir string) error {
	var names []string
	for name := range d.files {
		if strings.HasPrefix(name, dir) && !strings.HasSuffix(name, "/") && !embeddedPicture(name) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Slice(names, func(i, j int) bool { return partLess(names[i], names[j]) })
	e := newEmbedder(d.bud.lim, res)
	for _, name := range names {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		room, ok := e.room()
		base := path.Base(d.files[name].Name)
		if !ok {
			e.left = append(e.left, base)
			continue
		}
		data, err := d.readEmbedded(name, room)
		if err != nil {
			if fatal(err) {
				return err
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("embedded object %q not read: %v", base, err))
			continue
		}
		if data == nil {
			e.left = append(e.left, base)
			continue
		}
		e.add(base, data)
	}
	e.finish()
	return nil
}

// partLess orders part names by directory, then by the number they end in
// (oleObject2 before oleObject10), then by name.
func partLess(a, b string) bool {
	da, db := path.Dir(a), path.Dir(b)
	if da != db {
		return da < db
	}
	if na, nb := partNumber(a), partNumber(b); na != nb {
		return na < nb
	}
	return a < b
}

// oleContents returns the file an OLE object (a CFB container) holds: the
// one its "\x01Ole10Native" stream wraps (any file packaged by Windows'
// Object Packager, named as it was), its "Package" stream (an OOXML
// document embedded by an older Office), its "CONTENTS" stream (a PDF
// embedded by Acrobat), or the container itself when it is a legacy
// Office document. false: nothing in it is a document (an equation, a
// drawing of a program Quire does not know).
func oleContents(name string, data []byte) (string, []byte, bool) {
	r, err := openCFB(data)
	if err != nil {
		return "", nil, false
	}
	stem := strings.TrimSuffix(name, path.Ext(name))
	if b, ok, err := r.stream("\x01Ole10Native"); ok && err == nil {
		if file, content, ok := parseOle10Native(b); ok {
			if file == "" {
				file = stem
			}
			return file, content, true
		}
	}
	for _, s := range []struct{ stream, ext string }{{"Package", ""}, {"CONTENTS", ".pdf"}} {
		if b, ok, err := r.stream(s.stream); ok && err == nil && len(b) > 0 {
			if s.ext == "" || bytes.HasPrefix(b, []byte("%PDF")) {
				return stem + s.ext, b, true
			}
		}
	}
	switch k := r.kind(); k {
	case typeDOC:
		return stem + ".doc", data, true
	case typeXLS:
		return stem + ".xls", data, true
	case typePPT:
		return stem + ".ppt", data, true
	case typeOutlookMSG:
		return stem + ".msg", data, true
	case typeVisio, typePublisher, typeWorks, typeHWP:
		return stem, data, true
	}
	return "", nil, false
}

// parseOle10Native reads the stream Windows' Object Packager writes: a
// 32-bit size, a 16-bit flag, the label, the source path and (after two
// 16-bit and a 32-bit field) the temporary path as NUL-terminated ANSI
// strings, then the file's 32-bit length and bytes. An object whose header
// is not that is the native data of some other program: the file is the
// whole stream after its size.
func parseOle10Native(b []byte) (name string, data []byte, ok bool) {
	le := binary.LittleEndian
	if len(b) < 4 {
		return "", nil, false
	}
	body := b[4:]
	if total := int64(le.Uint32(b)); total < int64(len(body)) {
		body = body[:total]
	}
	cstr := func(p []byte) (string, []byte, bool) {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			return "", nil, false
		}
		return string(p[:i]), p[i+1:], true
	}
	p := body
	if len(p) < 2 {
		return "", body, len(body) > 0
	}
	p = p[2:]
	label, p, ok1 := cstr(p)
	_, p, ok2 := cstr(p) // the source path
	if !ok1 || !ok2 || len(p) < 8 {
		return "", body, len(body) > 0
	}
	p = p[4:] // two 16-bit fields
	n := le.Uint32(p)
	p = p[4:]
	if uint64(n) > uint64(len(p)) {
		return "", body, len(body) > 0
	}
	p = p[n:] // the temporary path
	if len(p) < 4 {
		return "", body, len(body) > 0
	}
	size := le.Uint32(p)
	p = p[4:]
	if uint64(size) > uint64(len(p)) {
		return "", body, len(body) > 0
	}
	name = path.Base(strings.ReplaceAll(label, `\`, "/"))
	if name == "." || name == "/" {
		name = ""
	}
	return name, p[:size], size > 0
}

// odfObjects reads the package's "Object N" entries: the sub-documents that
// are documents (text, spreadsheets, presentations) and the OLE objects
// become children of res; the text of the charts is returned, by the object
// name ("object 1", lower-cased as the package's names are), for the caller
// to place where the document shows them.
func (d *zipDoc) odfObjects(res *Result) (map[string]string, error) {
	objects := map[string][]string{} // directory -> its entries
	var files []string               // objects stored as one entry
	for name := range d.files {
		if !strings.HasPrefix(name, "object ") {
			continue
		}
		dir, _, sub := strings.Cut(name, "/")
		if !sub {
			files = append(files, name)
			continue
		}
		objects[dir] = append(objects[dir], name)
	}
	if len(objects) == 0 && len(files) == 0 {
		return nil, nil
	}
	types := d.odfManifestTypes()
	var dirs []string
	for dir := range objects {
		dirs = append(dirs, dir)
	}
	sort.Slice(dirs, func(i, j int) bool { return partLess(dirs[i], dirs[j]) })
	sort.Slice(files, func(i, j int) bool { return partLess(files[i], files[j]) })
	charts := map[string]string{}
	e := newEmbedder(d.bud.lim, res)
	for _, dir := range dirs {
		if err := d.ctx.Err(); err != nil {
			return nil, err
		}
		typ := types[dir+"/"]
		content := dir + "/content.xml"
		if !d.has(content) {
			continue
		}
		switch typ {
		case typeODT, typeODS, typeODP:
		default:
			// A chart (or formula, drawing): its text is the document's.
			pages, err := odfBodyText(d.ctx, d.bud, typeODT, d.bud.lim, func(fn tokenFunc) error { return d.eachToken(content, fn) })
			if err != nil {
				if fatal(err) {
					return nil, err
				}
				res.Warnings = append(res.Warnings, fmt.Sprintf("embedded object %q not read: %v", dir, err))
				continue
			}
			if t := strings.Join(pages, "\n"); t != "" {
				charts[dir] = t
			}
			continue
		}
		room, ok := e.room()
		name := path.Base(strings.TrimSuffix(strings.ReplaceAll(d.files[content].Name, `\`, "/"), "/content.xml")) + odfExt[typ]
		if !ok {
			e.left = append(e.left, name)
			continue
		}
		data, err := d.repackODF(objects[dir], dir, typ, room)
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("embedded object %q not read: %v", name, err))
			continue
		}
		if data == nil {
			e.left = append(e.left, name)
			continue
		}
		e.add(name, data)
	}
	for _, name := range files {
		room, ok := e.room()
		base := d.files[name].Name
		if !ok {
			e.left = append(e.left, base)
			continue
		}
		data, err := d.readEmbedded(name, room)
		if err != nil {
			if fatal(err) {
				return nil, err
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("embedded object %q not read: %v", base, err))
			continue
		}
		if data == nil {
			e.left = append(e.left, base)
			continue
		}
		if bytes.HasPrefix(data, cfbMagic) {
			e.add(base, data)
		}
	}
	e.finish()
	return charts, nil
}

// odfExt names the documents ODF objects are packed into.
var odfExt = map[string]string{typeODT: ".odt", typeODS: ".ods", typeODP: ".odp"}

// odfManifestTypes reads the media types META-INF/manifest.xml gives its
// entries, by lower-cased path.
func (d *zipDoc) odfManifestTypes() map[string]string {
	out := map[string]string{}
	if !d.has("META-INF/manifest.xml") {
		return out
	}
	b, err := d.readAll("META-INF/manifest.xml")
	if err != nil {
		return out
	}
	var v struct {
		Entries []struct {
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"file-entry"`
	}
	if newXMLDecoder(bytes.NewReader(b)).Decode(&v) != nil {
		return out
	}
	for _, e := range v.Entries {
		var p, t string
		for _, a := range e.Attrs {
			switch a.Name.Local {
			case "full-path":
				p = a.Value
			case "media-type":
				t = a.Value
			}
		}
		out[strings.ToLower(strings.TrimPrefix(p, "./"))] = t
	}
	return out
}

// repackODF packs the entries of the sub-document in dir into an ODF
// package of type typ, or returns nil when it would not fit in room bytes
// (negative: no bound).
func (d *zipDoc) repackODF(entries []string, dir, typ string, room int64) ([]byte, error) {
	sort.Strings(entries)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, typ); err != nil {
		return nil, err
	}
	for _, name := range entries {
		f := d.files[name]
		if strings.HasSuffix(name, "/") || embeddedPicture(name) {
			continue
		}
		left := room - int64(buf.Len())
		if room >= 0 && left <= 0 {
			return nil, nil
		}
		data, err := d.readEmbedded(name, left)
		if err != nil {
			return nil, err
		}
		if data == nil {
			return nil, nil
		}
		w, err := zw.Create(f.Name[len(dir)+1:])
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if room >= 0 && int64(buf.Len()) > room {
		return nil, nil
	}
	return buf.Bytes(), nil
}
