package extract

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
	"github.com/ulikunitz/xz"
)

// archiveMembers are the files every archive of testdata/formats/archive
// holds (see its README.md), by name in the archive.
var archiveMembers = map[string]struct{ src, typ string }{
	"udhr/udhr-fra.cp1252.txt":  {"text/udhr-fra.cp1252.txt", "text/plain"},
	"udhr/udhr.odp":             {"office/udhr.odp", typeODP},
	"sotu/sotu-1932-hoover.txt": {"text/sotu-1932-hoover.txt", "text/plain"},
}

func archiveFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "archive", name))
	require.NoError(t, err)
	return data
}

// archiveX extracts with the given limits; zero limits are the defaults.
func archiveX(t testing.TB, lim Limits, name string, data []byte) (*Result, error) {
	t.Helper()
	return New(Config{Limits: lim}).Extract(context.Background(), &Input{Name: name, Data: data})
}

func TestArchives(t *testing.T) {
	t.Parallel()
	all := []string{"sotu/sotu-1932-hoover.txt", "udhr/udhr-fra.cp1252.txt", "udhr/udhr.odp"}
	tests := []struct {
		file     string
		typ      string
		children []string // sorted
		warning  string
	}{
		{file: "docs.zip", typ: typeZip, children: all},
		{file: "docs.tar", typ: typeTar, children: all},
		{file: "docs.tar.gz", typ: typeGzip, children: all},
		{file: "docs.tar.bz2", typ: typeBzip2, children: all},
		{file: "docs.tar.xz", typ: typeXz, children: all},
		{file: "docs.tar.zst", typ: typeZstd, children: all},
		{file: "docs.7z", typ: type7z, children: all},
		{file: "docs.rar", typ: typeRar, children: all},
		{file: "docs.cpio", typ: typeCpio, children: all},
		{file: "docs.a", typ: typeAr, children: []string{"sotu-1932-hoover.txt", "udhr-fra.cp1252.txt", "udhr.odp"}},
		{file: "partly-encrypted.zip", typ: typeZip, children: []string{"sotu/sotu-1932-hoover.txt", "udhr/udhr.odp"},
			warning: `1 members left out: they need a password ("udhr/udhr-fra.cp1252.txt")`},
		// A single compressed file: its one member, named from the gzip
		// header, or from the file's name without its extension.
		{file: "sotu-1932-hoover.txt.gz", typ: typeGzip, children: []string{"hoover-1932.txt"}},
		{file: "sotu-1932-hoover.txt.bz2", typ: typeBzip2, children: []string{"sotu-1932-hoover.txt"}},
		{file: "sotu-1932-hoover.txt.xz", typ: typeXz, children: []string{"sotu-1932-hoover.txt"}},
		{file: "sotu-1932-hoover.txt.zst", typ: typeZstd, children: []string{"sotu-1932-hoover.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := archiveFile(t, tt.file)
			require.Equal(t, tt.typ, Detect(tt.file, data))
			res, err := archiveX(t, Limits{}, tt.file, data)
			require.NoError(t, err)
			require.Equal(t, tt.typ, res.Type)
			var names []string
			for _, c := range res.Children {
				names = append(names, c.Name)
				// The archive's text lists its members, so that a search for
				// a file name finds it.
				require.Contains(t, res.Text, c.Name)
				src := archiveMembers[c.Name].src
				if src == "" { // ar keeps base names; a single file, its own name
					for n, m := range archiveMembers {
						if filepath.Base(n) == c.Name || (strings.Contains(c.Name, "hoover") && strings.Contains(n, "hoover")) {
							src = m.src
						}
					}
				}
				require.Equal(t, testdataFile(t, src), c.Data, c.Name)
				if want := archiveMembers[c.Name].typ; want != "" {
					require.Equal(t, want, c.Type, c.Name)
				}
			}
			sort.Strings(names)
			require.Equal(t, tt.children, names)
			if tt.warning != "" {
				require.Contains(t, strings.Join(res.Warnings, "\n"), tt.warning)
			} else {
				require.Empty(t, res.Warnings)
			}
			require.False(t, res.Truncated)
		})
	}
}

func TestArchiveEncrypted(t *testing.T) {
	t.Parallel()
	_, err := archiveX(t, Limits{}, "encrypted.7z", archiveFile(t, "encrypted.7z"))
	require.ErrorIs(t, err, ErrEncrypted)
	require.Contains(t, err.Error(), "sotu/sotu-1932-hoover.txt")
}

// tarOf builds a tar archive of n members of size bytes of zeros each.
func tarOfZeros(t testing.TB, n, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	zeros := make([]byte, size)
	for i := range n {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("zeros-%d.txt", i), Mode: 0o644, Size: int64(size)}))
		_, err := tw.Write(zeros)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// zerosGzip streams n bytes of zeros through gzip without holding them.
func zerosGzip(t testing.TB, n int64) []byte {
	t.Helper()
	// A gzip file may hold members one after the other, read as one
	// stream: one compressed mebibyte of zeros, repeated, costs nothing to
	// make, where compressing a gibibyte took seconds of a loaded CI
	// machine.
	member := func(k int64) []byte {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		require.NoError(t, err)
		_, err = zw.Write(make([]byte, k))
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		return buf.Bytes()
	}
	const block = 1 << 20
	mib := member(block)
	out := bytes.Repeat(mib, int(n/block))
	if n%block != 0 {
		out = append(out, member(n%block)...)
	}
	return out
}

func TestArchiveLimits(t *testing.T) {
	t.Parallel()
	small := Limits{MaxBytes: 1 << 20, MaxDecompressed: 8 << 20, MaxChildren: 10, MaxText: 64 << 10}
	many := make([]any, 0, 30)
	for i := range 15 {
		many = append(many, fmt.Sprintf("notes/note-%02d.txt", i), fmt.Sprintf("note number %d", i))
	}
	big := bytes.Repeat([]byte("Four hundred KiB of prose. "), 400<<10/27)
	tests := []struct {
		name string
		lim  Limits
		file string
		data func(t testing.TB) []byte
		// limit names the LimitError expected; empty: done.
		limit    string
		children int
		warning  string
		check    func(t *testing.T, res *Result)
	}{
		// A gzip of 1 GiB of zeros is one document too large: read to one
		// byte past the bytes limit, no further.
		{name: "gzip of zeros", lim: small, file: "zeros.gz", data: func(t testing.TB) []byte { return zerosGzip(t, 1<<30) }, limit: "bytes"},
		// With no bytes limit, the decompressed size limit stops it.
		{name: "gzip of zeros without a bytes limit", lim: Limits{MaxBytes: -1, MaxDecompressed: 8 << 20},
			file: "zeros.gz", data: func(t testing.TB) []byte { return zerosGzip(t, 1<<30) }, limit: "decompressed size"},
		// Skipping members of a compressed stream decompresses them too:
		// 64 MiB of zeros in members each too large to keep.
		{name: "tar.gz of large members", lim: small, file: "zeros.tar.gz",
			data: func(t testing.TB) []byte { return gzipOf(t, tarOfZeros(t, 32, 2<<20)) }, limit: "decompressed size"},
		// Members that fit one by one, 42.zip-style: kept until their sum
		// passes the decompressed size limit.
		{name: "zip of many zero members", lim: Limits{MaxBytes: 64 << 20, MaxDecompressed: 8 << 20},
			file: "zeros.zip", data: func(t testing.TB) []byte {
				members := []any{}
				for i := range 8 {
					members = append(members, fmt.Sprintf("zeros-%d", i), make([]byte, 2<<20))
				}
				return testdocs.Zip(members...)
			}, limit: "decompressed size"},
		// A member whose header understates its size is corrupt, and
		// read no further than its declared size.
		{name: "zip whose sizes lie", lim: small, file: "lying.zip", data: func(t testing.TB) []byte {
			return lieSizes(t, testdocs.Zip("zeros.txt", make([]byte, 4<<20), "good.txt", "a good member"), "zeros.txt", 100)
		}, children: 1, warning: `member "zeros.txt" left out: it is corrupt`},
		{name: "member larger than the bytes limit", lim: small, file: "large.zip", data: func(t testing.TB) []byte {
			return testdocs.Zip("large.bin", make([]byte, 2<<20), "small.txt", "small")
		}, children: 1, warning: `1 members left out: each is larger than the bytes limit of 1 MiB ("large.bin")`},
		{name: "members adding up past the bytes limit", lim: small, file: "sum.zip", data: func(t testing.TB) []byte {
			return testdocs.Zip("a.txt", big, "b.txt", big, "c.txt", big, "d.txt", "small")
		}, children: 3, warning: `1 members left out: with them the archive's members would add up to more than the bytes limit of 1 MiB ("c.txt")`},
		{name: "more members than the children limit", lim: small, file: "many.zip", data: func(t testing.TB) []byte { return testdocs.Zip(many...) },
			children: 10, warning: "5 members left out: the archive holds more than the children limit of 10",
			check: func(t *testing.T, res *Result) {
				require.Equal(t, "5", res.Meta["members_left_out"])
				require.Equal(t, "15", res.Meta["members"])
				require.Contains(t, res.Text, "notes/note-14.txt")
			}},
		// A listing longer than the text limit: done, truncated.
		{name: "listing past the text limit", lim: Limits{MaxText: 100, MaxChildren: 10}, file: "many.zip",
			data: func(t testing.TB) []byte { return testdocs.Zip(many...) }, children: 5,
			check: func(t *testing.T, res *Result) {
				require.True(t, res.Truncated)
				require.LessOrEqual(t, len(res.Text), 100)
			}},
		{name: "corrupt member", lim: small, file: "corrupt.zip", data: func(t testing.TB) []byte {
			return corruptMember(t, testdocs.Zip("bad.txt", strings.Repeat("some text to compress ", 200), "good.txt", "a good member"), "bad.txt")
		}, children: 1, warning: `member "bad.txt" left out: it is corrupt`},
		{name: "tar.gz cut short", lim: small, file: "cut.tar.gz", data: func(t testing.TB) []byte {
			tgz := archiveFile(t, "docs.tar.gz")
			return tgz[:len(tgz)*2/3]
		}, children: 2, warning: "the archive is damaged after its first"},
		{name: "names with paths", lim: small, file: "paths.zip", data: func(t testing.TB) []byte {
			return testdocs.Zip("/etc/passwd", "abs", "../../up.txt", "up", `C:\Users\me\win.txt`, "win", "dir/", "")
		}, children: 3, check: func(t *testing.T, res *Result) {
			var names []string
			for _, c := range res.Children {
				names = append(names, c.Name)
			}
			require.Equal(t, []string{"etc/passwd", "up.txt", "Users/me/win.txt"}, names)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := archiveX(t, tt.lim, tt.file, tt.data(t))
			if tt.limit != "" {
				requireLimit(t, err, tt.limit)
				require.Less(t, time.Since(start), 30*time.Second)
				return
			}
			require.NoError(t, err)
			require.Len(t, res.Children, tt.children)
			if tt.warning != "" {
				require.Contains(t, strings.Join(res.Warnings, "\n"), tt.warning)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// lieSizes rewrites the uncompressed size a zip records for name, in its
// local header and its central directory.
func lieSizes(t testing.TB, data []byte, name string, size uint32) []byte {
	t.Helper()
	return patchDeclaredSize(t, data, name, size)
}

// corruptMember flips bytes in the middle of name's compressed data.
func corruptMember(t testing.TB, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			require.NoError(t, err)
			out := bytes.Clone(data)
			for i := off + 2; i < off+int64(f.CompressedSize64)-2; i++ {
				out[i] ^= 0x55
			}
			return out
		}
	}
	t.Fatalf("no member %s", name)
	return nil
}

// TestArchiveOfficeDetectedAsZip: a DOCX whose first entries do not say
// what it is is detected from its head as a ZIP; the ZIP extractor reads
// its central directory and extracts it as the DOCX it is.
func TestArchiveOfficeDetectedAsZip(t *testing.T) {
	t.Parallel()
	res, err := New(Config{}).Extract(context.Background(), &Input{Name: "udhr", Data: testdataFile(t, "office/udhr.docx"), Type: typeZip})
	require.NoError(t, err)
	require.Equal(t, typeDOCX, res.Type)
	require.Contains(t, res.Text, "Universal Declaration of Human Rights")
	require.Empty(t, res.Children)
}

func TestCompressedStreams(t *testing.T) {
	t.Parallel()
	text := testdataFile(t, "text/sotu-1932-hoover.txt")
	var xzBuf bytes.Buffer
	xw, err := xz.NewWriter(&xzBuf)
	require.NoError(t, err)
	_, err = xw.Write(text)
	require.NoError(t, err)
	require.NoError(t, xw.Close())
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	zst := enc.EncodeAll(text, nil)
	require.NoError(t, enc.Close())
	tests := []struct {
		name string
		data []byte
		want string // the child's name
		err  error
	}{
		{name: "report.txt.xz", data: xzBuf.Bytes(), want: "report.txt"},
		{name: "report.tzst", data: zst, want: "report.tar"},
		{name: "noext", data: gzipOf(t, text), want: "noext"},
		{name: "empty.gz", data: gzipOf(t, nil)},
		{name: "bad.xz", data: xzBuf.Bytes()[:40], err: ErrCorrupt},
		{name: "header.gz", data: []byte{0x1f, 0x8b, 8, 0, 0, 0}, err: ErrCorrupt},
		// An xz stream that asks for a 1.5 GiB dictionary is refused
		// before it is allocated.
		{name: "dict.xz", data: xzWithDict(t, xzBuf.Bytes(), 39), err: ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := archiveX(t, Limits{}, tt.name, tt.data)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if tt.want == "" {
				require.Empty(t, res.Children)
				return
			}
			require.Len(t, res.Children, 1)
			require.Equal(t, tt.want, res.Children[0].Name)
			require.Equal(t, text, res.Children[0].Data)
		})
	}
}

// xzWithDict sets the dictionary size byte of an xz stream's first block.
func xzWithDict(t testing.TB, data []byte, prop byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	h := out[12:]
	// Block header: size, flags, [sizes], filter id 0x21, props size 1,
	// dictionary byte.
	i := bytes.Index(h[:int(h[0]+1)*4], []byte{0x21, 0x01})
	require.GreaterOrEqual(t, i, 0)
	h[i+2] = prop
	d, ok := xzDictSize(out)
	require.True(t, ok)
	require.Greater(t, d, int64(archiveWindowMax))
	return out
}

func TestCleanMemberName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a/b.txt", "a/b.txt"},
		{"/etc/passwd", "etc/passwd"},
		{"../../x", "x"},
		{`C:\a\..\b.txt`, "a/b.txt"},
		{"./a//b", "a/b"},
		{"a\x00b\x1b.txt", "ab.txt"},
		{"\xff.txt", "\uFFFD.txt"},
		{"..", "member-7"},
		{"", "member-7"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, cleanMemberName(tt.in, 7), "%q", tt.in)
	}
}

// FuzzArchive feeds every archive reader arbitrary bytes, seeded with the
// committed archives.
func FuzzArchive(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("..", "testdata", "formats", "archive"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		addSeeds(f, "formats/archive/"+e.Name())
	}
	types := []string{typeZip, typeTar, typeGzip, typeBzip2, typeXz, typeZstd, type7z, typeRar, typeCpio, typeAr,
		typeLzma, typeLz4, typeCompress, typeBrotli}
	f.Fuzz(func(t *testing.T, data []byte) {
		// As each archive type: a header of one kind before the body of
		// another. (FuzzExtract covers detection.)
		for _, typ := range types {
			checkExtract(t, typ, data)
		}
	})
}

func TestArchiveErrorsClassified(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{typeZip, typeTar, typeGzip, typeBzip2, typeXz, typeZstd, type7z, typeRar, typeCpio, typeAr,
		typeLzma, typeLz4, typeCompress, typeBrotli} {
		_, err := New(Config{}).Extract(context.Background(), &Input{Name: "x", Data: []byte("not an archive at all, just text"), Type: typ})
		if err == nil {
			continue // tar and ar read nothing from it and list nothing
		}
		require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported), "%s: %v", typ, err)
	}
}
