package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

func init() {
	register(&format{name: "xlsx", types: []string{typeXLSX}, extract: extractXLSX})
}

// xlsxXMLInMemory is the largest worksheet excelize keeps in memory; a
// larger one is unpacked to a temporary file and streamed from there.
const xlsxXMLInMemory = 16 << 20

// xlsxHeldMax bounds, beyond twice the document's own size, what the parts
// excelize holds in memory (all but large worksheets and shared strings,
// which it streams from temporary files) may expand to: pictures and other
// parts that do not compress come to about the document's size, so only a
// bomb meets this.
const xlsxHeldMax = 64 << 20

func extractXLSX(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	lim := b.lim
	if bytes.HasPrefix(in.Data, cfbMagic) {
		if hasEncryptedPackage(in.Data) {
			return nil, fmt.Errorf("%w: password-protected Office document", ErrEncrypted)
		}
		return nil, fmt.Errorf("%w: a CFB container, not a ZIP one", ErrCorrupt)
	}
	zr, err := zip.NewReader(bytes.NewReader(in.Data), int64(len(in.Data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: reading ZIP container: %v", ErrCorrupt, err)
	}
	// excelize unpacks every entry itself. Summing the declared sizes is
	// sound here, unlike in most zip readers: archive/zip fails any entry
	// that decompresses to more than its header declares, so the sum
	// bounds what can actually be read.
	var declared, held uint64
	for _, f := range zr.File {
		size := min(f.UncompressedSize64, math.MaxInt64)
		declared = min(declared+size, math.MaxInt64)
		name := strings.ToLower(strings.ReplaceAll(f.Name, `\`, "/"))
		streamed := size > xlsxXMLInMemory &&
			(name == "xl/sharedstrings.xml" || strings.HasPrefix(name, "xl/worksheets/sheet"))
		if !streamed {
			held = min(held+size, math.MaxInt64)
		}
	}
	if heldMax := 2*uint64(len(in.Data)) + xlsxHeldMax; held > heldMax {
		return nil, &LimitError{Limit: "decompressed size", Max: int64(heldMax), Got: int64(held)}
	}
	maxUnzip := int64(math.MaxInt64)
	if lim.MaxDecompressed >= 0 {
		maxUnzip = lim.MaxDecompressed
		if declared > uint64(lim.MaxDecompressed) {
			return nil, &LimitError{Limit: "decompressed size", Max: lim.MaxDecompressed, Got: int64(declared)}
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(in.Data), excelize.Options{
		UnzipSizeLimit:    maxUnzip,
		UnzipXMLSizeLimit: min(maxUnzip, xlsxXMLInMemory),
	})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || errors.Is(err, excelize.ErrWorkbookPassword) {
			return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer f.Close() // removes the temporary files of large sheets
	exactGeneral(f)

	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("%w: workbook lists no sheets", ErrCorrupt)
	}
	if lim.MaxPages > 0 && len(sheets) > lim.MaxPages {
		return nil, &LimitError{Limit: "pages", Max: int64(lim.MaxPages), Got: int64(len(sheets))}
	}
	res := &Result{Meta: map[string]string{"sheets": strings.Join(sheets, "\n")}}
	if p, err := f.GetDocProps(); err == nil && p != nil {
		res.Title = strings.TrimSpace(p.Title)
		res.Author = strings.TrimSpace(p.Creator)
		res.Created, _ = parseW3CDTF(p.Created)
		if lang := strings.TrimSpace(p.Language); lang != "" {
			res.Meta["lang"] = lang
		}
	} else if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("document properties: %v", err))
	}
	d := newZipDoc(ctx, zr, b)
	charts, err := d.xlsxCharts()
	if err != nil {
		return nil, err
	}
	for i, name := range sheets {
		if b.full() {
			res.Pages = append(res.Pages, Page{Number: i + 1})
			continue
		}
		text, err := sheetText(ctx, f, name, b)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A chart sheet has no cells, only its chart.
			if len(charts[name]) == 0 {
				return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, name, err)
			}
		}
		texts := []string{text}
		for _, c := range charts[name] {
			t, err := d.chartText(c)
			if err != nil {
				return nil, err
			}
			texts = append(texts, t)
		}
		res.Pages = append(res.Pages, Page{Number: i + 1, Text: joinLines(texts)})
	}
	if err := d.ooxmlEmbedded(res, "xl/embeddings/"); err != nil {
		return nil, err
	}
	return res, nil
}

// exactGeneral has numbers in the General format, which is most of them,
// written exactly, as Excel shows them in a wide enough column: 15
// significant digits, the shortest decimal that is the number, and no
// exponent for an integer (123456789012345, not excelize's
// 1.23456789E+14). Cells without a style already are; the styles of
// General format are given a format number no format has, for which
// excelize writes the value as it reads it. Other formats (dates,
// percentages, currencies) are applied as they were.
func exactGeneral(f *excelize.File) {
	if _, err := f.GetStyle(0); err != nil || f.Styles == nil || f.Styles.CellXfs == nil {
		return
	}
	for i := range f.Styles.CellXfs.Xf {
		xf := &f.Styles.CellXfs.Xf[i]
		if xf.NumFmtID == nil || *xf.NumFmtID == 0 {
			xf.NumFmtID = &generalExact
		}
	}
}

// generalExact is a number format id that neither the built-in formats
// nor (in any real workbook) a custom one use.
var generalExact = math.MinInt32

// exactNumber rewrites a number excelize wrote with an exponent because it
// has more than 15 significant digits ("1.23456789012346E+15", as Go's 'G'
// format writes it with 15 digits) without one: 1234567890123460. A
// number format that asks for an exponent ("0.00E+00") writes far fewer
// digits, and is left as it is.
func exactNumber(s string) string {
	e := strings.IndexByte(s, 'E')
	if e < 0 || e+2 >= len(s) || (s[e+1] != '+' && s[e+1] != '-') {
		return s
	}
	digits := 0
	for i := range e {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || (i == 0 && c == '-'):
		default:
			return s
		}
	}
	if digits < 12 {
		return s
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(v) >= 1e21 {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// xlsxCharts returns the charts each sheet shows (through its drawing), by
// sheet name; nil when the workbook has none.
func (d *zipDoc) xlsxCharts() (map[string][]string, error) {
	found := false
	for name := range d.files {
		if strings.HasPrefix(name, "xl/charts/chart") {
			found = true
			break
		}
	}
	if !found {
		return nil, nil
	}
	main, err := d.mainPart("xl/workbook.xml")
	if err != nil {
		return nil, nil
	}
	rels, err := d.relationships(main)
	if err != nil {
		return nil, err
	}
	b, err := d.readAll(main)
	if err != nil {
		return nil, err
	}
	var v struct {
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := newXMLDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, nil // excelize has read it: what it did not is no chart of ours
	}
	out := map[string][]string{}
	for _, s := range v.Sheets {
		for _, a := range s.Attrs {
			if a.Name.Local != "id" || a.Name.Space == "" {
				continue
			}
			r, ok := rels[a.Value]
			if !ok || !d.has(r.target) {
				continue
			}
			srels, err := d.relationships(r.target)
			if err != nil {
				return nil, err
			}
			for _, drawing := range relTargets(d, srels, "/drawing") {
				drels, err := d.relationships(drawing)
				if err != nil {
					return nil, err
				}
				out[s.Name] = append(out[s.Name], relTargets(d, drels, "/chart")...)
			}
		}
	}
	return out, nil
}

// sheetText returns a sheet as one line a row, cells separated by tabs, as
// displayed (numbers and dates formatted); empty rows and trailing empty
// cells are left out.
func sheetText(ctx context.Context, f *excelize.File, sheet string, bud *budget) (string, error) {
	rows, err := f.Rows(sheet)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	b := textSink{bud: bud}
	for n := 0; rows.Next(); n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		if bud.full() {
			break
		}
		cols, err := rows.Columns()
		if err != nil {
			return "", err
		}
		cols = trimEmpty(cols)
		if len(cols) == 0 {
			continue
		}
		for i, c := range cols {
			if i > 0 {
				b.writeByte('\t')
			}
			b.writeString(strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' || r == '\r' {
					return ' '
				}
				return r
			}, exactNumber(c)))
		}
		b.writeByte('\n')
	}
	if err := rows.Error(); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n"), nil
}
