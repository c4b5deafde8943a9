package extract

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
)

// HWP 5 (Hangul Word Processor 2002 and later, Hancom's published "HWP 5.0
// file format"): a compound file whose FileHeader stream starts "HWP
// Document File" and says whether the other streams are compressed (raw
// deflate) or encrypted. The text is in BodyText/Section0, Section1, …: a
// sequence of records, each a 32-bit header (tag 10 bits, level 10 bits,
// size 12 bits, 0xFFF meaning a 32-bit size follows) and its data. A
// paragraph's characters are the UTF-16 of its PARA_TEXT record, where the
// code units below 32 are controls: some stand for one character (a line
// break, a paragraph's end, a hyphen, special spaces), the others take
// eight units, the control's code, its id and parameters, and its code
// again (a table, a header or footer, a footnote, a field). What those
// controls hold (a table's cells, a footnote's text) are paragraph lists
// that follow in the same stream, one level deeper, so reading every
// PARA_TEXT in order gives the body with each object's text after the
// paragraph that anchors it. The title, author and dates are in the
// \x05HwpSummaryInformation property set, written as SummaryInformation is.
//
// LibreOffice reads HWP 3 (HWP 97) only; those files, which do not start
// with a compound file's signature, still go to the office converter.

const (
	hwpSignature     = "HWP Document File"
	hwpTagBegin      = 0x10
	hwpTagParaHeader = hwpTagBegin + 50
	hwpTagParaText   = hwpTagBegin + 51
	// hwpSectionsMax bounds the sections read: a real document has a few.
	hwpSectionsMax = 1000
)

// FileHeader properties.
const (
	hwpCompressed   = 1 << 0
	hwpEncrypted    = 1 << 1
	hwpDistribution = 1 << 2
)

func init() {
	register(&format{name: "hwp", types: []string{typeHWP}, extract: extractHWP})
}

// extractHWP reads an HWP 5 document, and passes an HWP 3 one to the
// office converter.
func extractHWP(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	if !bytes.HasPrefix(in.Data, cfbMagic) {
		// HWP 3 (LibreOffice reads it) starts with the same signature
		// as HWP 5's file header; anything else declared HWP is not one,
		// and starting the converter for it would only waste seconds.
		if !bytes.HasPrefix(in.Data, []byte(hwpSignature)) {
			return nil, fmt.Errorf("%w: neither an HWP 5 document (a compound file) nor an HWP 3 one", ErrCorrupt)
		}
		return extractConverted(ctx, x, in, b)
	}
	r, err := openCFB(in.Data)
	if err != nil {
		return nil, err
	}
	hdr, ok, err := r.stream("FileHeader")
	if err != nil {
		return nil, err
	}
	if !ok || len(hdr) < 40 || !bytes.HasPrefix(hdr, []byte(hwpSignature)) {
		return nil, fmt.Errorf("%w: an HWP document without its file header", ErrCorrupt)
	}
	ver := binary.LittleEndian.Uint32(hdr[32:])
	props := binary.LittleEndian.Uint32(hdr[36:])
	switch {
	case props&hwpEncrypted != 0:
		return nil, fmt.Errorf("%w: a password-protected HWP document", ErrEncrypted)
	case props&hwpDistribution != 0:
		// A distribution document keeps its text in ViewText, encrypted
		// with a key inside it, to stop copying: not for a search index.
		return nil, fmt.Errorf("%w: an HWP distribution document (배포용 문서), whose text is encrypted against copying", ErrEncrypted)
	}
	body := r.find(0, "BodyText")
	if body < 0 || !r.entries[body].storage {
		return nil, fmt.Errorf("%w: an HWP document without BodyText", ErrCorrupt)
	}
	res := &Result{Type: typeHWP, Meta: map[string]string{
		"hwp_version": fmt.Sprintf("%d.%d.%d.%d", ver>>24, ver>>16&0xFF, ver>>8&0xFF, ver&0xFF)}}
	w := newLineWriter(b)
	var decompressed int64
	sections := 0
	for i := 0; i < hwpSectionsMax; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := r.find(body, "Section"+strconv.Itoa(i))
		if e < 0 {
			break
		}
		data, err := r.read(e)
		if err != nil {
			return nil, err
		}
		if props&hwpCompressed != 0 {
			if data, err = hwpInflate(data, b.lim.MaxDecompressed, &decompressed); err != nil {
				return nil, fmt.Errorf("hwp: section %d: %w", i, err)
			}
		}
		sections++
		if err := hwpSectionText(data, &w, b); err != nil {
			return nil, fmt.Errorf("%w: hwp: section %d: %v", ErrCorrupt, i, err)
		}
		if b.full() {
			break
		}
	}
	if sections == 0 {
		return nil, fmt.Errorf("%w: an HWP document without sections", ErrCorrupt)
	}
	res.Text = w.String()
	res.Meta["sections"] = strconv.Itoa(sections)
	if sb, ok, err := r.stream("\x05HwpSummaryInformation"); ok && err == nil {
		summaryOf(sb).apply(res)
	}
	return res, nil
}

// hwpInflate inflates a compressed stream (raw deflate), counting what it
// yields in *total against max (negative: no bound).
func hwpInflate(data []byte, max int64, total *int64) ([]byte, error) {
	zr := flate.NewReader(bytes.NewReader(data))
	defer zr.Close()
	var out bytes.Buffer
	room := int64(-1)
	if max >= 0 {
		room = max - *total
	}
	var src io.Reader = zr
	if room >= 0 {
		src = io.LimitReader(zr, room+1)
	}
	n, err := out.ReadFrom(src)
	*total += n
	if room >= 0 && n > room {
		return nil, &LimitError{Limit: "decompressed size", Max: max, Got: *total}
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%w: inflate: %v", ErrCorrupt, err)
	}
	return out.Bytes(), nil
}

// hwpSectionText writes the text of a section's records to w: each
// PARA_TEXT a paragraph, its controls turned into what they stand for.
func hwpSectionText(data []byte, w *lineWriter, b *budget) error {
	for len(data) > 0 {
		if len(data) < 4 {
			return errors.New("a record header cut short")
		}
		h := binary.LittleEndian.Uint32(data)
		tag, size := h&0x3FF, int(h>>20)
		data = data[4:]
		if size == 0xFFF {
			if len(data) < 4 {
				return errors.New("a record size cut short")
			}
			size = int(binary.LittleEndian.Uint32(data))
			data = data[4:]
		}
		if size < 0 || size > len(data) {
			return fmt.Errorf("a record of %d bytes in %d left", size, len(data))
		}
		if tag == hwpTagParaText {
			hwpParaText(data[:size], w)
			if b.full() {
				return nil
			}
		}
		data = data[size:]
	}
	return nil
}

// hwpParaText writes one paragraph's characters, ending its line.
func hwpParaText(p []byte, w *lineWriter) {
	units := make([]uint16, 0, len(p)/2)
	for i := 0; i+1 < len(p); i += 2 {
		c := binary.LittleEndian.Uint16(p[i:])
		if c >= 32 {
			units = append(units, c)
			continue
		}
		switch c {
		case 9: // a tab, an inline control of 8 units
			units = append(units, '\t')
			i += 14
		case 10, 13: // a line break; the paragraph's end
			units = append(units, '\n')
		case 24: // a hyphen
			units = append(units, '-')
		case 30, 31: // a non-breaking space, a fixed-width space
			units = append(units, ' ')
		case 0, 25, 26, 27, 28, 29: // one unit, nothing to show
		default: // the other controls take 8 units
			i += 14
		}
	}
	text := string(utf16.Decode(units))
	for len(text) > 0 && (text[len(text)-1] == '\n' || text[len(text)-1] == ' ') {
		text = text[:len(text)-1]
	}
	w.writeString(text)
	w.writeByte('\n')
}
