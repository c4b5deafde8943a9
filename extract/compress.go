package extract

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz/lzma"

	"github.com/quirehq/quire/internal/bytesize"
)

// The compressors beside gzip, bzip2, xz and zstd that archives of real
// organisations hold: LZMA (the "alone" format of lzma-utils and 7-Zip),
// LZ4 frames, Unix compress (.Z) and Brotli. Each is one compressed file,
// unpacked as archive.go unpacks a gzip: its content a child document, or a
// tar or cpio inside it read member by member.

const (
	typeLzma     = "application/x-lzma"
	typeLz4      = "application/x-lz4"
	typeCompress = "application/x-compress"
	typeBrotli   = "application/x-brotli"
)

var (
	lz4FrameMagic  = []byte{0x04, 0x22, 0x4D, 0x18}
	lz4LegacyMagic = []byte{0x02, 0x21, 0x4C, 0x18}
	compressMagic  = []byte{0x1F, 0x9D}
)

// compressedKind names the compressors of this file from data, "" for
// none of them. mimetype knows none of the four: it takes a .Z or a Brotli
// stream for text as often as not.
func compressedKind(ext string, data []byte) string {
	switch {
	case bytes.HasPrefix(data, lz4FrameMagic), bytes.HasPrefix(data, lz4LegacyMagic):
		return typeLz4
	case bytes.HasPrefix(data, compressMagic) && len(data) > 2 && data[2]&0x1F >= 9 && data[2]&0x1F <= 16:
		return typeCompress
	case isLzmaAlone(ext, data):
		return typeLzma
	case ext == ".br" && isBrotli(data):
		// Brotli has no signature: a name says so, and the stream's start
		// must decode.
		return typeBrotli
	}
	return ""
}

// isLzmaAlone tells an LZMA "alone" header: properties (lc, lp, pb) below
// 225, a dictionary of at least 4 KiB, and an uncompressed size that is
// unknown (all ones) or plausible. Without the .lzma name, only the
// properties nearly every encoder writes (lc=3, lp=0, pb=2) are taken.
func isLzmaAlone(ext string, data []byte) bool {
	if len(data) < 13 || data[0] >= 225 {
		return false
	}
	if data[0] != 0x5D && ext != ".lzma" && ext != ".tlz" {
		return false
	}
	dict := binary.LittleEndian.Uint32(data[1:5])
	size := binary.LittleEndian.Uint64(data[5:13])
	return dict >= 4<<10 && (size == ^uint64(0) || size < 1<<42)
}

func isBrotli(data []byte) bool {
	var out [512]byte
	n, err := io.ReadFull(brotli.NewReader(bytes.NewReader(head(data, 4096))), out[:])
	return n > 0 && (err == nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))
}

// decompressor returns a reader of the content of a compressed file of one
// of these types.
func decompressor(typ string, src io.Reader) (io.Reader, error) {
	switch typ {
	case typeLz4:
		return lz4.NewReader(src), nil
	case typeBrotli:
		return brotli.NewReader(src), nil
	case typeCompress:
		return newCompressReader(src)
	case typeLzma:
		br := bufio.NewReader(src)
		h, _ := br.Peek(13)
		if len(h) == 13 {
			if dict := int64(binary.LittleEndian.Uint32(h[1:5])); dict > archiveWindowMax {
				return nil, fmt.Errorf("%w: LZMA stream with a dictionary of %s, more than the %s Quire reads",
					ErrUnsupported, bytesize.Format(dict), bytesize.Format(archiveWindowMax))
			}
		}
		r, err := lzma.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: lzma: %v", ErrCorrupt, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, typ)
}

// compressReader decodes Unix compress (.Z): LZW with codes of 9 bits
// growing to the header's maximum (at most 16), least significant bit
// first. compress reads codes in groups of eight: when the code width
// changes, or a CLEAR code (block mode) empties the table, the rest of the
// group is padding, skipped.
type compressReader struct {
	r         io.ByteReader
	bits      uint32 // bits read, not yet used, the next code at the bottom
	nbits     uint   // how many
	width     uint   // bits per code, from 9 to maxWidth
	maxWidth  uint
	block     bool // CLEAR codes may appear
	inGroup   int  // codes read since the current group size began
	free      int  // next free code
	old       int  // previous code, -1 at the start
	fin       byte // first byte of the previous code's string
	prefix    []uint16
	suffix    []byte
	stack     []byte
	out       []byte // decoded, not yet returned
	err       error
	maxFree   int
	clearCode int
	clears    int // CLEAR codes met, for the tests
	maxCode   int // past it, the width grows
}

func newCompressReader(src io.Reader) (io.Reader, error) {
	br, ok := src.(io.ByteReader)
	if !ok {
		br = bufio.NewReader(src)
	}
	var h [3]byte
	for i := range h {
		c, err := br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: compress header: %v", ErrCorrupt, err)
		}
		h[i] = c
	}
	maxWidth := uint(h[2] & 0x1F)
	if h[0] != 0x1F || h[1] != 0x9D || maxWidth < 9 || maxWidth > 16 {
		return nil, fmt.Errorf("%w: not a compress (.Z) stream", ErrCorrupt)
	}
	z := &compressReader{r: br, width: 9, maxWidth: maxWidth, block: h[2]&0x80 != 0, old: -1,
		prefix: make([]uint16, 1<<maxWidth), suffix: make([]byte, 1<<maxWidth), maxFree: 1 << maxWidth, clearCode: 256, maxCode: 1<<9 - 1}
	z.free = 256
	if z.block {
		z.free = 257
	}
	return z, nil
}

// code reads the next code of the current width; false at the end.
func (z *compressReader) code() (int, bool) {
	for z.nbits < z.width {
		c, err := z.r.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				z.err = err
			}
			return 0, false
		}
		z.bits |= uint32(c) << z.nbits
		z.nbits += 8
	}
	c := int(z.bits & (1<<z.width - 1))
	z.bits >>= z.width
	z.nbits -= z.width
	z.inGroup++
	return c, true
}

// skipGroup skips the rest of the current group of eight codes.
func (z *compressReader) skipGroup() bool {
	for z.inGroup%8 != 0 {
		if _, ok := z.code(); !ok {
			return false
		}
	}
	z.inGroup = 0
	return true
}

func (z *compressReader) Read(p []byte) (int, error) {
	for len(z.out) == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.step()
	}
	n := copy(p, z.out)
	z.out = z.out[n:]
	return n, nil
}

// step decodes one code into z.out, or sets z.err.
func (z *compressReader) step() {
	if z.free > z.maxCode {
		if !z.skipGroup() {
			z.end()
			return
		}
		// As compress itself reads: the largest width's last code is the
		// table's size (a table of at most 9-bit codes, -b 9, is read as
		// going on in 10-bit codes, which compress does not write: neither
		// compress nor gzip reads such a file back).
		z.width++
		z.maxCode = 1<<z.width - 1
		if z.width == z.maxWidth {
			z.maxCode = z.maxFree
		}
	}
	c, ok := z.code()
	if !ok {
		z.end()
		return
	}
	if z.old == -1 {
		if c >= 256 {
			z.err = fmt.Errorf("%w: compress stream starts with code %d", ErrCorrupt, c)
			return
		}
		z.old, z.fin = c, byte(c)
		z.out = append(z.out[:0], byte(c))
		return
	}
	if c == z.clearCode && z.block {
		z.clears++
		z.free = 256
		if !z.skipGroup() {
			z.end()
			return
		}
		z.width, z.maxCode = 9, 1<<9-1
		return
	}
	in := c
	z.stack = z.stack[:0]
	if c >= z.free {
		if c > z.free {
			z.err = fmt.Errorf("%w: compress code %d past the table's %d", ErrCorrupt, c, z.free)
			return
		}
		z.stack = append(z.stack, z.fin)
		c = z.old
	}
	for c >= 256 {
		z.stack = append(z.stack, z.suffix[c])
		c = int(z.prefix[c])
	}
	z.fin = byte(c)
	z.stack = append(z.stack, z.fin)
	z.out = z.out[:0]
	for i := len(z.stack) - 1; i >= 0; i-- {
		z.out = append(z.out, z.stack[i])
	}
	if z.free < z.maxFree {
		z.prefix[z.free] = uint16(z.old)
		z.suffix[z.free] = z.fin
		z.free++
	}
	z.old = in
}

func (z *compressReader) end() {
	if z.err == nil {
		z.err = io.EOF
	}
}
