package extract

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bodgit/sevenzip"
	"github.com/klauspost/compress/zstd"
	"github.com/nwaples/rardecode/v2"
	"github.com/ulikunitz/xz"
	"golang.org/x/text/encoding/charmap"

	"github.com/quirehq/quire/internal/bytesize"
)

// Archives and compressed files. Their members become documents of their
// own (Result.Children), as an email's attachments do: the pipeline ingests
// each with the archive as its parent, deduplicated by content, and each
// ends done or failed on its own. The archive's own text is the list of its
// members' names, one a line, so that a search for a file name finds the
// archive that holds it. An archive inside an archive is a member like any
// other, unpacked in turn when the pipeline processes it; the pipeline
// bounds how deep they nest (pipeline.Config.MaxDepth).
//
// The limits come from the document's one budget:
//
//   - Every byte decompressed, whether a member is kept, left out or
//     skipped over in a compressed stream, counts against
//     Limits.MaxDecompressed. Past it the archive fails with a LimitError
//     ("decompressed size"): a bomb (a gzip of zeros, 42.zip, a member
//     whose declared size lies) is read no further.
//   - The members kept add up to at most Limits.MaxBytes, the size of one
//     document: they are held in memory until the pipeline has ingested
//     them, so an archive costs a worker itself and at most one document's
//     worth of members (within the 8 × text limit docs/operations.md
//     allows a job at the defaults: an archive's text is only its listing).
//     A member that does not fit in what is left is left out with a
//     warning and the next ones are tried; one larger than MaxBytes is
//     left out too, since no document may be that large.
//   - The first Limits.MaxChildren members become children; the others
//     are listed in the text and left out, with a warning and the count in
//     Meta["members_left_out"]. A person who uploads an archive of 500
//     reports wants the first 100 read rather than none.
//   - A single compressed file (a gzip of one file) is one document
//     compressed: when it expands past MaxBytes it fails with a LimitError
//     ("bytes").
//
// A member that is corrupt, or compressed with a method Quire does not read,
// costs that member only (a warning); an archive damaged part-way keeps the
// members before the damage. Encrypted members are named in a warning, and
// an archive whose every member is encrypted fails with ErrEncrypted.
// Directories, links and devices are skipped. Member names are cleaned (no
// absolute paths, no "..") and serve only as display names.

func init() {
	register(&format{name: "zip", types: []string{typeZip, typeJar}, extract: extractZip})
	register(&format{name: "tar", types: []string{typeTar}, extract: extractTar})
	register(&format{name: "compressed", types: []string{typeGzip, typeBzip2, typeXz, typeZstd, typeLzma, typeLz4, typeCompress, typeBrotli}, extract: extractCompressed})
	register(&format{name: "7z", types: []string{type7z}, extract: extract7z})
	register(&format{name: "rar", types: []string{typeRar}, extract: extractRar})
	register(&format{name: "cpio", types: []string{typeCpio}, extract: extractCpio})
	register(&format{name: "ar", types: []string{typeAr, typeDeb}, extract: extractAr})
}

// MIME types of archives and compressed files, as the detector names them.
const (
	typeJar   = "application/java-archive"
	typeTar   = "application/x-tar"
	typeGzip  = "application/gzip"
	typeBzip2 = "application/x-bzip2"
	typeXz    = "application/x-xz"
	typeZstd  = "application/zstd"
	type7z    = "application/x-7z-compressed"
	typeRar   = "application/vnd.rar"
	typeCpio  = "application/x-cpio"
	typeAr    = "application/x-archive"
	typeDeb   = "application/vnd.debian.binary-package"
)

// archiveWindowMax bounds the history a compressed stream may ask the
// reader to keep (zstd's window, xz's and RAR's dictionary): memory held
// while the stream is read, which the stream's header may declare as large
// as it likes. The largest presets of xz (64 MiB) and zstd's long mode
// (128 MiB) fit.
const archiveWindowMax = 128 << 20

// Reasons a member is left out, for the warnings.
const (
	leftChildren  = "children"
	leftTooLarge  = "too large"
	leftHeld      = "held"
	leftEncrypted = "encrypted"
)

// warningNamesMax is how many names a warning lists before "and N more".
const warningNamesMax = 5

// unpacker collects the members of one archive as children, within the
// document's limits, and lists their names as the archive's text.
type unpacker struct {
	ctx  context.Context
	bud  *budget
	lim  Limits
	res  *Result
	list textSink
	// held is the bytes of the children kept; read the bytes
	// decompressed.
	held, read int64
	// files counts the regular files met, encrypted those of them that
	// could not be read for a password.
	files, encrypted int
	leftOut          map[string][]string
	// err is the first error that ends the archive (a limit, the
	// context), kept because a reader above the counting one (a tar
	// reader) may report its own error instead.
	err error
}

func newUnpacker(ctx context.Context, b *budget) *unpacker {
	return &unpacker{ctx: ctx, bud: b, lim: b.lim, res: &Result{Meta: map[string]string{}},
		list: textSink{bud: b}, leftOut: map[string][]string{}}
}

// member is one file of an archive.
type member struct {
	name string // as the archive spells it
	size int64  // declared uncompressed size; negative when unknown
	// encrypted: the archive says so before it is read.
	encrypted bool
	open      func() (io.ReadCloser, error)
}

// add lists a member and keeps it as a child when the limits allow. Its
// error ends the archive: a limit, the context, or the text budget spent
// (errTextFull).
func (u *unpacker) add(m member) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	u.files++
	name := cleanMemberName(m.name, u.files)
	if !u.list.writeString(name+"\n") || u.bud.full() {
		return errTextFull
	}
	maxBytes := u.lim.MaxBytes
	room := int64(-1)
	if maxBytes >= 0 {
		room = maxBytes - u.held
	}
	switch {
	case m.encrypted:
		u.encrypted++
		u.leave(leftEncrypted, name)
		return nil
	case m.size == 0:
		return nil // empty: listed, nothing to read
	case u.lim.MaxChildren >= 0 && len(u.res.Children) >= u.lim.MaxChildren:
		u.leave(leftChildren, name)
		return nil
	case maxBytes >= 0 && m.size > maxBytes:
		u.leave(leftTooLarge, name)
		return nil
	case room >= 0 && m.size > room:
		u.leave(leftHeld, name)
		return nil
	}
	rc, err := m.open()
	if err != nil {
		return u.memberFailed(name, err)
	}
	data, err := u.readMember(rc, room, m.size)
	rc.Close()
	if u.err != nil {
		return u.err
	}
	if err != nil {
		return u.memberFailed(name, err)
	}
	switch {
	case room >= 0 && int64(len(data)) > room:
		if int64(len(data)) > maxBytes {
			u.leave(leftTooLarge, name)
		} else {
			u.leave(leftHeld, name)
		}
		return nil
	case len(data) == 0:
		return nil
	}
	u.held += int64(len(data))
	u.res.Children = append(u.res.Children, Child{Name: name, Type: Detect(name, data), Data: data})
	return nil
}

// readMember reads a member whole, or up to one byte past room (negative:
// no bound), so that a member that does not fit is known not to.
func (u *unpacker) readMember(r io.Reader, room, declared int64) ([]byte, error) {
	hint := int64(32 << 10)
	if declared > 0 && declared < 64<<20 && (room < 0 || declared <= room) {
		hint = declared + 1 // +1: the read that finds the end
	}
	if room >= 0 {
		r = io.LimitReader(r, room+1)
		hint = min(hint, room+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// memberFailed records a member that could not be read; the archive goes on
// unless the error is one that ends it.
func (u *unpacker) memberFailed(name string, err error) error {
	if u.err != nil {
		return u.err
	}
	if fatal(err) {
		return err
	}
	if encryptedErr(err) {
		u.encrypted++
		u.leave(leftEncrypted, name)
		return nil
	}
	if errors.Is(err, zip.ErrAlgorithm) {
		u.res.Warnings = append(u.res.Warnings, fmt.Sprintf("member %q left out: compressed with a method Quire does not read", name))
		return nil
	}
	u.res.Warnings = append(u.res.Warnings, fmt.Sprintf("member %q left out: it is corrupt: %v", name, err))
	return nil
}

// leave records a member left out.
func (u *unpacker) leave(reason, name string) { u.leftOut[reason] = append(u.leftOut[reason], name) }

// fatal reports an error that ends the whole archive.
func fatal(err error) bool {
	var le *LimitError
	return errors.As(err, &le) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, errTextFull)
}

// encryptedErr reports an error that says a member needs a password.
func encryptedErr(err error) bool {
	var re *sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
		return true
	}
	var rev sevenzip.ReadError
	if errors.As(err, &rev) && rev.Encrypted {
		return true
	}
	return errors.Is(err, rardecode.ErrArchivedFileEncrypted) || errors.Is(err, rardecode.ErrArchiveEncrypted) ||
		errors.Is(err, rardecode.ErrBadPassword)
}

// count returns r counting what it yields against MaxDecompressed, and
// checking the context every MiB.
func (u *unpacker) count(r io.Reader) io.Reader { return &countReader{u: u, r: r} }

type countReader struct {
	u     *unpacker
	r     io.Reader
	since int64
}

func (c *countReader) Read(p []byte) (int, error) {
	u := c.u
	if u.err != nil {
		return 0, u.err
	}
	n, err := c.r.Read(p)
	u.read += int64(n)
	c.since += int64(n)
	if max := u.lim.MaxDecompressed; max >= 0 && u.read > max {
		u.err = &LimitError{Limit: "decompressed size", Max: max, Got: u.read}
		return n, u.err
	}
	if c.since >= 1<<20 {
		c.since = 0
		if cerr := u.ctx.Err(); cerr != nil {
			u.err = cerr
			return n, cerr
		}
	}
	return n, err
}

// countCloser counts a member's reader and closes it.
type countCloser struct {
	io.Reader
	c io.Closer
}

func (c countCloser) Close() error { return c.c.Close() }

// finish ends the walk of an archive: walkErr is what stopped it (nil at
// its end).
func (u *unpacker) finish(walkErr error) (*Result, error) {
	if u.err != nil {
		walkErr = u.err
	}
	switch {
	case walkErr == nil, errors.Is(walkErr, errTextFull):
		// At its end, or at the text limit: the document is done.
	case fatal(walkErr):
		return nil, walkErr
	case u.files == 0:
		if errors.Is(walkErr, ErrCorrupt) || errors.Is(walkErr, ErrEncrypted) || errors.Is(walkErr, ErrUnsupported) {
			return nil, walkErr
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, walkErr)
	default:
		u.res.Warnings = append(u.res.Warnings, fmt.Sprintf("the archive is damaged after its first %d members, which are kept: %v", u.files, walkErr))
	}
	if len(u.res.Children) == 0 && u.encrypted > 0 && len(u.leftOut) == 1 {
		return nil, fmt.Errorf("%w: every member of the archive needs a password (%s)", ErrEncrypted, nameList(u.leftOut[leftEncrypted]))
	}
	res := u.res
	res.Text = strings.TrimSuffix(u.list.String(), "\n")
	res.Meta["members"] = fmt.Sprint(u.files)
	left := 0
	for _, reason := range []string{leftChildren, leftTooLarge, leftHeld, leftEncrypted} {
		names := u.leftOut[reason]
		if len(names) == 0 {
			continue
		}
		left += len(names)
		var w string
		switch reason {
		case leftChildren:
			w = fmt.Sprintf("%d members left out: the archive holds more than the children limit of %d; they are listed in its text (%s)",
				len(names), u.lim.MaxChildren, nameList(names))
		case leftTooLarge:
			w = fmt.Sprintf("%d members left out: each is larger than the bytes limit of %s (%s)",
				len(names), bytesize.Format(u.lim.MaxBytes), nameList(names))
		case leftHeld:
			w = fmt.Sprintf("%d members left out: with them the archive's members would add up to more than the bytes limit of %s (%s)",
				len(names), bytesize.Format(u.lim.MaxBytes), nameList(names))
		case leftEncrypted:
			w = fmt.Sprintf("%d members left out: they need a password (%s)", len(names), nameList(names))
		}
		res.Warnings = append(res.Warnings, w)
	}
	if left > 0 {
		res.Meta["members_left_out"] = fmt.Sprint(left)
	}
	return res, nil
}

// nameList quotes the first few names and counts the rest.
func nameList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == warningNamesMax {
			fmt.Fprintf(&b, " and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", n)
	}
	return b.String()
}

// cleanMemberName turns a member's name into a display name: slashes
// forward, no drive, no absolute or ".." parts, no control characters,
// valid UTF-8. An empty name becomes "member-n".
func cleanMemberName(name string, n int) string {
	name = strings.ToValidUTF8(strings.ReplaceAll(name, `\`, "/"), "\uFFFD")
	if len(name) >= 2 && name[1] == ':' {
		name = name[2:]
	}
	parts := strings.Split(name, "/")
	kept := parts[:0]
	for _, p := range parts {
		p = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, p)
		if p != "" && p != "." && p != ".." {
			kept = append(kept, p)
		}
	}
	name = strings.Join(kept, "/")
	if name == "" {
		name = fmt.Sprintf("member-%d", n)
	}
	return name
}

// ---- zip

func extractZip(ctx context.Context, x *Extractor, in *Input, b *budget) (*Result, error) {
	// A container detected from its first bytes only (the pipeline detects
	// from the head of an upload) may still be an office document or an
	// EPUB, which its central directory tells.
	if zt := zipContentType(in.Data); zt != "" {
		if f := formatOf(zt); f != nil {
			in2 := *in
			in2.Type = zt
			res, err := f.extract(ctx, x, &in2, b)
			if res != nil && res.Type == "" {
				res.Type = zt
			}
			return res, err
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(in.Data), int64(len(in.Data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: reading ZIP archive: %v", ErrCorrupt, err)
	}
	registerZipMethods(zr)
	u := newUnpacker(ctx, b)
	var walkErr error
	for _, f := range zr.File {
		if !f.Mode().IsRegular() || strings.HasSuffix(f.Name, "/") {
			continue // directories, links, devices
		}
		name := f.Name
		if f.NonUTF8 && !utf8.ValidString(name) {
			// Before the UTF-8 flag, zip tools wrote names in the DOS
			// code page.
			if s, err := charmap.CodePage437.NewDecoder().String(name); err == nil {
				name = s
			}
		}
		size := int64(math.MaxInt64)
		if f.UncompressedSize64 < math.MaxInt64 {
			size = int64(f.UncompressedSize64)
		}
		if walkErr = u.add(member{name: name, size: size, encrypted: f.Flags&0x1 != 0, open: func() (io.ReadCloser, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			return countCloser{u.count(rc), rc}, nil
		}}); walkErr != nil {
			break
		}
	}
	return u.finish(walkErr)
}

// registerZipMethods lets zr read the methods beside deflate that zip
// tools write: bzip2 (12), zstd (93) and xz (95).
func registerZipMethods(zr *zip.Reader) {
	zr.RegisterDecompressor(12, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	zr.RegisterDecompressor(93, func(r io.Reader) io.ReadCloser {
		d, err := newZstdReader(r)
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return d.IOReadCloser()
	})
	zr.RegisterDecompressor(95, func(r io.Reader) io.ReadCloser {
		xr, err := newXzReader(bufio.NewReader(r))
		if err != nil {
			return io.NopCloser(errReader{err})
		}
		return io.NopCloser(xr)
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// formatOf returns the format registered for typ.
func formatOf(typ string) *format {
	formatsMu.Lock()
	defer formatsMu.Unlock()
	return formats[typ]
}

// ---- tar, cpio and ar: streams of members

func extractTar(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	u := newUnpacker(ctx, b)
	return u.finish(u.tar(bytes.NewReader(in.Data)))
}

func (u *unpacker) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !h.FileInfo().Mode().IsRegular() {
			continue // directories, links, devices
		}
		if err := u.add(member{name: h.Name, size: h.Size, open: func() (io.ReadCloser, error) {
			return io.NopCloser(tr), nil
		}}); err != nil {
			return err
		}
	}
}

// isTar reports whether a stream starts with a tar header: the POSIX
// magic, or the checksum of an old (v7) header.
func isTar(b []byte) bool {
	if len(b) < 512 || b[0] == 0 {
		return false
	}
	if bytes.HasPrefix(b[257:], []byte("ustar")) {
		return true
	}
	want, ok := parseOctal(b[148:156])
	if !ok {
		return false
	}
	var sum int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum == want
}

func parseOctal(b []byte) (int64, bool) {
	s := strings.Trim(string(b), " \x00")
	if s == "" {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '7' || n > math.MaxInt64>>3 {
			return 0, false
		}
		n = n<<3 | int64(c-'0')
	}
	return n, true
}

func extractCpio(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	u := newUnpacker(ctx, b)
	return u.finish(u.cpio(bufio.NewReader(bytes.NewReader(in.Data))))
}

// isCpio reports whether a stream starts with a cpio header: portable
// ASCII (odc), new ASCII (newc, crc) or old binary.
func isCpio(b []byte) bool {
	return bytes.HasPrefix(b, []byte("070707")) || bytes.HasPrefix(b, []byte("070701")) ||
		bytes.HasPrefix(b, []byte("070702")) || bytes.HasPrefix(b, []byte{0xc7, 0x71}) || bytes.HasPrefix(b, []byte{0x71, 0xc7})
}

// cpioASCII is the layout of one of cpio's ASCII headers: its length, the
// byte ranges of the fields read, their base, and the alignment of names
// and data.
type cpioASCII struct {
	size                     int
	mode, fileSize, nameSize [2]int
	parse                    func([]byte) (int64, bool)
	digits                   string
	align                    int64
}

var (
	// cpioNewc is the new ASCII format (newc, and crc): hexadecimal fields,
	// names and data aligned to 4 bytes.
	cpioNewc = cpioASCII{size: 110, mode: [2]int{14, 22}, fileSize: [2]int{54, 62}, nameSize: [2]int{94, 102},
		parse: parseHex, digits: "hexadecimal", align: 4}
	// cpioODC is the portable ASCII format: octal fields, no alignment.
	cpioODC = cpioASCII{size: 76, mode: [2]int{18, 24}, fileSize: [2]int{65, 76}, nameSize: [2]int{59, 65},
		parse: parseOctal, digits: "octal", align: 1}
)

// cpioNameMax bounds a cpio member's name.
const cpioNameMax = 64 << 10

// cpio reads the members of a cpio archive, in any of its four header
// formats, up to its trailer.
func (u *unpacker) cpio(r *bufio.Reader) error {
	var off int64 // bytes read, for the alignment of newc
	skip := func(n int64) error {
		m, err := io.CopyN(io.Discard, r, n)
		off += m
		return err
	}
	for {
		magic, err := r.Peek(6)
		if err != nil {
			if err == io.EOF && len(magic) == 0 {
				return nil // no trailer: what was there is read
			}
			return fmt.Errorf("%w: cpio header: %v", ErrCorrupt, err)
		}
		var mode, nameSize, size int64
		var align int64
		switch {
		case bytes.HasPrefix(magic, []byte("0707")):
			l := cpioNewc
			if bytes.HasPrefix(magic, []byte("070707")) {
				l = cpioODC
			} else if !bytes.HasPrefix(magic, []byte("070701")) && !bytes.HasPrefix(magic, []byte("070702")) {
				return fmt.Errorf("%w: cpio header %q", ErrCorrupt, magic)
			}
			h := make([]byte, l.size)
			if _, err := io.ReadFull(r, h); err != nil {
				return fmt.Errorf("%w: cpio header: %v", ErrCorrupt, err)
			}
			off += int64(l.size)
			var ok [3]bool
			mode, ok[0] = l.parse(h[l.mode[0]:l.mode[1]])
			size, ok[1] = l.parse(h[l.fileSize[0]:l.fileSize[1]])
			nameSize, ok[2] = l.parse(h[l.nameSize[0]:l.nameSize[1]])
			if ok != [3]bool{true, true, true} {
				return fmt.Errorf("%w: cpio header is not %s", ErrCorrupt, l.digits)
			}
			align = l.align
		case magic[0] == 0xc7 && magic[1] == 0x71, magic[0] == 0x71 && magic[1] == 0xc7:
			h := make([]byte, 26)
			if _, err := io.ReadFull(r, h); err != nil {
				return fmt.Errorf("%w: cpio header: %v", ErrCorrupt, err)
			}
			off += 26
			le := magic[0] == 0xc7
			word := func(i int) int64 {
				if le {
					return int64(h[i]) | int64(h[i+1])<<8
				}
				return int64(h[i])<<8 | int64(h[i+1])
			}
			mode = word(6)
			nameSize = word(20)
			size = word(22)<<16 | word(24)
			align = 2
		default:
			return fmt.Errorf("%w: no cpio header at byte %d", ErrCorrupt, off)
		}
		if nameSize <= 0 || nameSize > cpioNameMax {
			return fmt.Errorf("%w: cpio member name of %d bytes", ErrCorrupt, nameSize)
		}
		nb := make([]byte, nameSize)
		if _, err := io.ReadFull(r, nb); err != nil {
			return fmt.Errorf("%w: cpio member name: %v", ErrCorrupt, err)
		}
		off += nameSize
		if err := skip(pad(off, align)); err != nil {
			return fmt.Errorf("%w: cpio member name: %v", ErrCorrupt, err)
		}
		name := string(bytes.TrimRight(nb, "\x00"))
		if name == "TRAILER!!!" {
			return nil
		}
		lr := &io.LimitedReader{R: r, N: size}
		if mode&0o170000 == 0o100000 {
			if err := u.add(member{name: name, size: size, open: func() (io.ReadCloser, error) {
				return io.NopCloser(lr), nil
			}}); err != nil {
				return err
			}
		}
		off += size - lr.N
		if err := skip(lr.N + pad(off+lr.N, align)); err != nil {
			return fmt.Errorf("%w: cpio member %q: %v", ErrCorrupt, name, err)
		}
	}
}

// pad is what brings off to a multiple of align.
func pad(off, align int64) int64 { return (align - off%align) % align }

func parseHex(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int64(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// arMagic starts a Unix ar archive (static libraries, Debian packages).
var arMagic = []byte("!<arch>\n")

// arNamesMax bounds the GNU table of long member names.
const arNamesMax = 1 << 20

func extractAr(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	u := newUnpacker(ctx, b)
	return u.finish(u.ar(bufio.NewReader(bytes.NewReader(in.Data))))
}

// ar reads the members of an ar archive, GNU and BSD long names included;
// the symbol tables of libraries are skipped.
func (u *unpacker) ar(r *bufio.Reader) error {
	if _, err := io.ReadFull(r, make([]byte, len(arMagic))); err != nil {
		return fmt.Errorf("%w: ar header: %v", ErrCorrupt, err)
	}
	var longNames []byte
	h := make([]byte, 60)
	for {
		if _, err := io.ReadFull(r, h); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("%w: ar header: %v", ErrCorrupt, err)
		}
		if h[58] != '`' || h[59] != '\n' {
			return fmt.Errorf("%w: ar header without its terminator", ErrCorrupt)
		}
		size, ok := parseDecimal(h[48:58])
		if !ok {
			return fmt.Errorf("%w: ar member size %q", ErrCorrupt, h[48:58])
		}
		name := strings.TrimRight(string(h[:16]), " ")
		lr := &io.LimitedReader{R: r, N: size}
		switch {
		case name == "/" || name == "/SYM64/" || strings.HasPrefix(name, "__.SYMDEF"):
			name = "" // a symbol table
		case name == "//":
			if size > arNamesMax {
				return fmt.Errorf("%w: ar table of names of %d bytes", ErrCorrupt, size)
			}
			longNames = make([]byte, size)
			if _, err := io.ReadFull(lr, longNames); err != nil {
				return fmt.Errorf("%w: ar table of names: %v", ErrCorrupt, err)
			}
			name = ""
		case strings.HasPrefix(name, "#1/"):
			n, ok := parseDecimal([]byte(name[3:]))
			if !ok || n > size || n > cpioNameMax {
				return fmt.Errorf("%w: ar member name %q", ErrCorrupt, name)
			}
			nb := make([]byte, n)
			if _, err := io.ReadFull(lr, nb); err != nil {
				return fmt.Errorf("%w: ar member name: %v", ErrCorrupt, err)
			}
			name = string(bytes.TrimRight(nb, "\x00"))
		case len(name) > 1 && name[0] == '/':
			i, ok := parseDecimal([]byte(name[1:]))
			if !ok || i >= int64(len(longNames)) {
				return fmt.Errorf("%w: ar member name %q", ErrCorrupt, name)
			}
			s := longNames[i:]
			if j := bytes.Index(s, []byte("/\n")); j >= 0 {
				s = s[:j]
			} else if j := bytes.IndexByte(s, '\n'); j >= 0 {
				s = s[:j]
			}
			name = string(s)
		default:
			name = strings.TrimSuffix(name, "/")
		}
		if name != "" {
			if err := u.add(member{name: name, size: lr.N, open: func() (io.ReadCloser, error) {
				return io.NopCloser(lr), nil
			}}); err != nil {
				return err
			}
		}
		if _, err := io.CopyN(io.Discard, r, lr.N+size%2); err != nil && !(err == io.EOF && lr.N == 0) {
			return fmt.Errorf("%w: ar member %q: %v", ErrCorrupt, name, err)
		}
	}
}

func parseDecimal(b []byte) (int64, bool) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' || n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// ---- single compressed files: gzip, bzip2, xz, zstd, and compress.go's

func extractCompressed(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	u := newUnpacker(ctx, b)
	src := bytes.NewReader(in.Data)
	var (
		r     io.Reader
		inner string // the name the stream records, gzip's
	)
	switch in.Type {
	case typeGzip:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrCorrupt, err)
		}
		inner, r = zr.Name, zr
	case typeBzip2:
		r = bzip2.NewReader(src)
	case typeXz:
		xr, err := newXzReader(src)
		if err != nil {
			return nil, err
		}
		r = xr
	case typeZstd:
		d, err := newZstdReader(src)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		r = d
	default:
		d, err := decompressor(in.Type, src)
		if err != nil {
			return nil, err
		}
		r = d
	}
	br := bufio.NewReaderSize(u.count(r), 64<<10)
	head, _ := br.Peek(3072) // an error is met again by the reads below
	switch {
	case isTar(head):
		return u.finish(u.tar(br))
	case isCpio(head):
		return u.finish(u.cpio(br))
	case bytes.HasPrefix(head, arMagic):
		return u.finish(u.ar(br))
	}
	return u.single(compressedMemberName(in.Name, inner), br)
}

// single makes the one file of a compressed stream the child.
func (u *unpacker) single(name string, r io.Reader) (*Result, error) {
	u.files = 1
	u.list.writeString(name)
	max := u.lim.MaxBytes
	data, err := u.readMember(r, max, -1)
	if u.err != nil {
		return nil, u.err
	}
	if fatal(err) {
		return nil, err
	}
	if max >= 0 && int64(len(data)) > max {
		return nil, &LimitError{Limit: "bytes", Max: max}
	}
	if err != nil {
		if len(data) == 0 {
			return nil, fmt.Errorf("%w: decompressing: %v", ErrCorrupt, err)
		}
		u.res.Warnings = append(u.res.Warnings, fmt.Sprintf("the compressed stream is damaged after %d bytes, which are kept: %v", len(data), err))
	}
	res := u.res
	res.Text = u.list.String()
	res.Meta["members"] = "1"
	if len(data) > 0 {
		res.Children = []Child{{Name: name, Type: Detect(name, data), Data: data}}
	}
	return res, nil
}

// compressedSuffixes map the extensions of compressed files to what is
// left of the name once decompressed.
var compressedSuffixes = map[string]string{
	".gz": "", ".gzip": "", ".z": "", ".bz2": "", ".bz": "", ".xz": "", ".zst": "", ".zstd": "",
	".lzma": "", ".lz4": "", ".br": "",
	".tgz": ".tar", ".taz": ".tar", ".tbz": ".tar", ".tbz2": ".tar", ".txz": ".tar", ".tzst": ".tar",
	".tlz": ".tar", ".tz": ".tar",
}

// compressedMemberName names the file inside a compressed one: the name
// the stream records (gzip's), or the archive's name without its
// compression extension.
func compressedMemberName(archive, recorded string) string {
	if recorded = path.Base(cleanMemberName(recorded, 1)); recorded != "member-1" {
		return recorded
	}
	base := path.Base(cleanMemberName(archive, 1))
	if base == "member-1" {
		return "document"
	}
	ext := extOf(base)
	if repl, ok := compressedSuffixes[ext]; ok && len(base) > len(ext) {
		return base[:len(base)-len(ext)] + repl
	}
	return base
}

func newZstdReader(r io.Reader) (*zstd.Decoder, error) {
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(archiveWindowMax))
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	return d, nil
}

// newXzReader reads an xz stream, refusing one whose first block asks for
// a dictionary larger than archiveWindowMax: the reader allocates the
// dictionary its header declares, up to 4 GiB.
func newXzReader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(12 + 1024)
	if dict, ok := xzDictSize(head); ok && dict > archiveWindowMax {
		return nil, fmt.Errorf("%w: xz stream with a dictionary of %s, more than the %s Quire reads",
			ErrUnsupported, bytesize.Format(dict), bytesize.Format(archiveWindowMax))
	}
	xr, err := xz.ReaderConfig{DictCap: 8 << 20}.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: xz: %v", ErrCorrupt, err)
	}
	return xr, nil
}

// xzDictSize reads the LZMA2 dictionary size from the first block header
// of an xz stream.
func xzDictSize(b []byte) (int64, bool) {
	if len(b) < 13 || !bytes.HasPrefix(b, []byte{0xFD, '7', 'z', 'X', 'Z', 0}) {
		return 0, false
	}
	b = b[12:]
	hsize := (int(b[0]) + 1) * 4
	if b[0] == 0 || len(b) < hsize {
		return 0, false
	}
	h := b[1:hsize]
	flags := h[0]
	h = h[1:]
	uvarint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && len(h) > 0; i++ {
			c := h[0]
			h = h[1:]
			v |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if _, ok := uvarint(); !ok {
				return 0, false
			}
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := uvarint()
		n, ok2 := uvarint()
		if !ok1 || !ok2 || n > uint64(len(h)) {
			return 0, false
		}
		props := h[:n]
		h = h[n:]
		if id == 0x21 && n == 1 {
			p := props[0] & 0x3f
			switch {
			case p > 40:
				return 0, false
			case p == 40:
				return 1<<32 - 1, true
			}
			return int64(2|p&1) << (p/2 + 11), true
		}
	}
	return 0, false
}

// ---- 7z and RAR

func extract7z(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	zr, err := sevenzip.NewReader(bytes.NewReader(in.Data), int64(len(in.Data)))
	if err != nil {
		if encryptedErr(err) {
			return nil, fmt.Errorf("%w: the 7z archive's list of members needs a password", ErrEncrypted)
		}
		return nil, fmt.Errorf("%w: reading 7z archive: %v", ErrCorrupt, err)
	}
	u := newUnpacker(ctx, b)
	var walkErr error
	for _, f := range zr.File {
		if !f.FileInfo().Mode().IsRegular() {
			continue
		}
		size := int64(math.MaxInt64)
		if f.UncompressedSize < math.MaxInt64 {
			size = int64(f.UncompressedSize)
		}
		if walkErr = u.add(member{name: f.Name, size: size, open: func() (io.ReadCloser, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			return countCloser{u.count(rc), rc}, nil
		}}); walkErr != nil {
			break
		}
	}
	return u.finish(walkErr)
}

func extractRar(ctx context.Context, _ *Extractor, in *Input, b *budget) (*Result, error) {
	rr, err := rardecode.NewReader(bytes.NewReader(in.Data), rardecode.MaxDictionarySize(archiveWindowMax))
	if err != nil {
		if encryptedErr(err) {
			return nil, fmt.Errorf("%w: the RAR archive's list of members needs a password", ErrEncrypted)
		}
		return nil, fmt.Errorf("%w: reading RAR archive: %v", ErrCorrupt, err)
	}
	u := newUnpacker(ctx, b)
	return u.finish(u.rar(rr))
}

func (u *unpacker) rar(rr *rardecode.Reader) error {
	for {
		h, err := rr.Next()
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, rardecode.ErrArchiveEncrypted) && u.files == 0:
			return fmt.Errorf("%w: the RAR archive's list of members needs a password", ErrEncrypted)
		case errors.Is(err, rardecode.ErrMultiVolume):
			u.res.Warnings = append(u.res.Warnings, "the RAR archive continues in another volume, which was not uploaded with it")
			return nil
		case errors.Is(err, rardecode.ErrDictionaryTooLarge):
			return fmt.Errorf("%w: a RAR archive whose dictionary is larger than the %s Quire reads", ErrUnsupported, bytesize.Format(archiveWindowMax))
		case err != nil:
			return err
		}
		if h.IsDir || h.LinkType != 0 || !h.Mode().IsRegular() {
			continue
		}
		size := h.UnPackedSize
		if h.UnKnownSize {
			size = -1
		}
		if err := u.add(member{name: h.Name, size: size, encrypted: h.Encrypted, open: func() (io.ReadCloser, error) {
			return io.NopCloser(u.count(rr)), nil
		}}); err != nil {
			return err
		}
	}
}
