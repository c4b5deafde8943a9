package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
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
			return nil, fmt.Errorf("%w: sheet %q: %v", ErrCorrupt, name, err)
		}
		res.Pages = append(res.Pages, Page{Number: i + 1, Text: text})
	}
	return res, nil
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
			}, c))
		}
		b.writeByte('\n')
	}
	if err := rows.Error(); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n"), nil
}
