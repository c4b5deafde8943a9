//go:build ignore

// gen writes the archives the archive tests read, each of the same three
// files of the repository's own testdata (see README.md). Run it from this
// directory with `go run gen.go`; it needs bzip2, zip, 7zz, compress, lzma,
// lz4 and brotli (Debian's bzip2, zip, 7zip, ncompress, xz-utils, lz4 and
// brotli packages). Everything but the encrypted archives,
// whose salts are random, comes out byte for byte the same.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// mtime is every member's modification time: the UDHR's fiftieth anniversary.
var mtime = time.Date(1998, 12, 10, 12, 0, 0, 0, time.UTC)

type file struct {
	name string // in the archive
	src  string // under testdata/
	data []byte
}

var files = []file{
	{name: "udhr/udhr-fra.cp1252.txt", src: "text/udhr-fra.cp1252.txt"},
	{name: "udhr/udhr.odp", src: "office/udhr.odp"},
	{name: "sotu/sotu-1932-hoover.txt", src: "text/sotu-1932-hoover.txt"},
}

func main() {
	for i := range files {
		data, err := os.ReadFile(filepath.Join("..", "..", files[i].src))
		check(err)
		files[i].data = data
	}
	hoover := files[2].data

	write("docs.zip", zipOf(files))
	tarball := tarOf(files)
	write("docs.tar", tarball)
	write("docs.tar.gz", gzipOf(tarball, ""))
	write("docs.tar.xz", xzOf(tarball))
	write("docs.tar.zst", zstdOf(tarball))
	write("docs.tar.bz2", run(tarball, "bzip2", "-9", "-c"))
	write("docs.cpio", cpioOf(files))
	write("docs.a", arOf(files))
	write("docs.rar", rarOf(files))
	write("sotu-1932-hoover.txt.gz", gzipOf(hoover, "hoover-1932.txt"))
	write("sotu-1932-hoover.txt.bz2", run(hoover, "bzip2", "-9", "-c"))
	write("sotu-1932-hoover.txt.xz", xzOf(hoover))
	write("sotu-1932-hoover.txt.zst", zstdOf(hoover))
	// The compressors of compress.go, by their own tools.
	write("docs.tar.Z", run(tarball, "compress", "-c"))
	write("sotu-1932-hoover.txt.Z", run(hoover, "compress", "-c"))
	write("sotu-1932-hoover.txt.lzma", run(hoover, "lzma", "-9", "-c"))
	write("sotu-1932-hoover.txt.lz4", run(hoover, "lz4", "-9", "-c"))
	write("sotu-1932-hoover.txt.br", run(hoover, "brotli", "-c"))

	// The archivers' own files, from a directory of the members.
	dir, err := os.MkdirTemp("", "quire-archive-gen")
	check(err)
	defer os.RemoveAll(dir)
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		check(os.MkdirAll(filepath.Dir(p), 0o755))
		check(os.WriteFile(p, f.data, 0o644))
		check(os.Chtimes(p, mtime, mtime))
	}
	for _, d := range []string{"udhr", "sotu"} {
		check(os.Chtimes(filepath.Join(dir, d), mtime, mtime))
	}
	// archiver runs an archiver's command (args) on out and the members
	// (names) in dir.
	archiver := func(out string, args []string, names ...string) {
		abs, err := filepath.Abs(out)
		check(err)
		cmd := exec.Command(args[0], append(append(args[1:], abs), names...)...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("%v: %v\n%s", args, err, b)
		}
	}
	for _, out := range []string{"docs.7z", "encrypted.7z", "partly-encrypted.zip"} {
		os.Remove(out)
	}
	archiver("docs.7z", []string{"7zz", "a", "-bd", "-mx=9", "-mtm=on", "-mtc=off", "-mta=off"}, "udhr", "sotu")
	// Every member encrypted: the archive fails as encrypted. 7z's list
	// of members stays readable (no -mhe).
	archiver("encrypted.7z", []string{"7zz", "a", "-bd", "-pquire"}, "udhr", "sotu")
	// The first member encrypted, the others not: they are read, and the
	// encrypted one is named in a warning.
	archiver("partly-encrypted.zip", []string{"zip", "-X", "-q", "-P", "quire"}, "udhr/udhr-fra.cp1252.txt")
	archiver("partly-encrypted.zip", []string{"zip", "-X", "-q"}, "udhr/udhr.odp", "sotu/sotu-1932-hoover.txt")
}

func zipOf(fs []file) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, d := range []string{"udhr/", "sotu/"} {
		_, err := zw.CreateHeader(&zip.FileHeader{Name: d, Modified: mtime})
		check(err)
	}
	for _, f := range fs {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime})
		check(err)
		_, err = w.Write(f.data)
		check(err)
	}
	check(zw.Close())
	return buf.Bytes()
}

func tarOf(fs []file) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"udhr/", "sotu/"} {
		check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR}))
	}
	for _, f := range fs {
		check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: mtime, Format: tar.FormatUSTAR}))
		_, err := tw.Write(f.data)
		check(err)
	}
	// A link is skipped: it holds no content of its own.
	check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "latest.txt", Linkname: fs[2].name, Mode: 0o777, ModTime: mtime, Format: tar.FormatUSTAR}))
	check(tw.Close())
	return buf.Bytes()
}

func gzipOf(data []byte, name string) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	check(err)
	zw.Name, zw.ModTime = name, mtime
	_, err = zw.Write(data)
	check(err)
	check(zw.Close())
	return buf.Bytes()
}

func xzOf(data []byte) []byte {
	var buf bytes.Buffer
	xw, err := xz.NewWriter(&buf)
	check(err)
	_, err = xw.Write(data)
	check(err)
	check(xw.Close())
	return buf.Bytes()
}

func zstdOf(data []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	check(err)
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// cpioOf writes the new ASCII (newc) format that rpm and the Linux
// initramfs use.
func cpioOf(fs []file) []byte {
	var buf bytes.Buffer
	entry := func(ino int, name string, mode int, data []byte) {
		fmt.Fprintf(&buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, mtime.Unix()&0xffffffff, len(data), 0, 0, 0, 0, len(name)+1, 0)
		buf.WriteString(name + "\x00")
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
		buf.Write(data)
		for buf.Len()%4 != 0 {
			buf.WriteByte(0)
		}
	}
	entry(1, "udhr", 0o040755, nil)
	entry(2, "sotu", 0o040755, nil)
	for i, f := range fs {
		entry(3+i, f.name, 0o100644, f.data)
	}
	entry(0, "TRAILER!!!", 0, nil)
	return buf.Bytes()
}

// arOf writes a GNU ar archive; the names longer than 15 bytes go to its
// table of long names, as GNU ar puts them.
func arOf(fs []file) []byte {
	var names bytes.Buffer
	offsets := map[string]int{}
	for _, f := range fs {
		offsets[f.name] = names.Len()
		names.WriteString(filepath.Base(f.name) + "/\n")
	}
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	member := func(name string, data []byte) {
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name, mtime.Unix(), 0, 0, 0o644, len(data))
		buf.Write(data)
		if len(data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	member("//", names.Bytes())
	for _, f := range fs {
		member(fmt.Sprintf("/%d", offsets[f.name]), f.data)
	}
	return buf.Bytes()
}

// rarOf writes a RAR 5 archive of stored (uncompressed) files, which is
// what a writer of the format may make without RAR's compressor: the
// format is documented, the compressor is not free software.
func rarOf(fs []file) []byte {
	var out bytes.Buffer
	out.WriteString("Rar!\x1a\x07\x01\x00")
	block := func(body, data []byte) {
		var h bytes.Buffer
		h.Write(vint(uint64(len(body))))
		h.Write(body)
		check(binary.Write(&out, binary.LittleEndian, crc32.ChecksumIEEE(h.Bytes())))
		out.Write(h.Bytes())
		out.Write(data)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	// Main archive header: type 1, no flags, no archive flags.
	block(cat(vint(1), vint(0), vint(0)), nil)
	for _, f := range fs {
		block(cat(
			vint(2),                   // file header
			vint(0x2),                 // a data area follows
			vint(uint64(len(f.data))), // its size
			vint(0x2|0x4),             // Unix modification time and CRC32 present
			vint(uint64(len(f.data))), // unpacked size
			vint(0o100644),            // attributes
			u32(uint32(mtime.Unix())),
			u32(crc32.ChecksumIEEE(f.data)),
			vint(0), // version 0, method 0: stored
			vint(1), // Unix
			vint(uint64(len(f.name))), []byte(f.name),
		), f.data)
	}
	// End of archive: type 5, no flags, last volume.
	block(cat(vint(5), vint(0), vint(0)), nil)
	return out.Bytes()
}

func vint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func run(stdin []byte, args ...string) []byte {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	check(err)
	return out
}

func write(name string, data []byte) { check(os.WriteFile(name, data, 0o644)) }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
