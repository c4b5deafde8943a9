package extract

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// TestCompressLZW decodes what Unix compress (Debian's ncompress) writes at
// a small, a middle and the largest code width: with 10 bits the table
// fills early and compress empties it with CLEAR codes, the padding of
// whose groups must be skipped; the width grows as the table does. (At 9
// bits compress writes what neither it nor gzip can read back.)
func TestCompressLZW(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("compress")
	testenv.RequireService(t, "compress (apt-get install ncompress)", err)
	var text []byte
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "html", "udhr-*.html"))
	require.NoError(t, err)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		text = append(text, b...)
	}
	for _, width := range []int{10, 12, 16} {
		cmd := exec.Command("compress", "-b", strconv.Itoa(width), "-c")
		cmd.Stdin = bytes.NewReader(text)
		z, err := cmd.Output()
		require.NoError(t, err)
		require.Equal(t, Detect("", z), typeCompress)

		r, err := newCompressReader(bytes.NewReader(z))
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		require.NoError(t, err, "width %d", width)
		require.True(t, bytes.Equal(text, got), "width %d: %d bytes decoded of %d", width, len(got), len(text))
		if width == 10 {
			require.Positive(t, r.(*compressReader).clears, "no CLEAR code met: the test does not test them")
		}
	}
}

// TestCompressedKinds: each compressor of compress.go is named by its
// content, and a file named .br that is no Brotli stream is not taken for
// one.
func TestCompressedKinds(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"sotu-1932-hoover.txt.Z":    typeCompress,
		"sotu-1932-hoover.txt.lzma": typeLzma,
		"sotu-1932-hoover.txt.lz4":  typeLz4,
		"sotu-1932-hoover.txt.br":   typeBrotli,
	} {
		data := testdataFile(t, "formats/archive/"+name)
		require.Equal(t, want, Detect(name, data), name)
		if want != typeBrotli { // Brotli is told by its name only
			require.Equal(t, want, Detect("document", data), name)
		}
		res, err := New(Config{}).Extract(t.Context(), &Input{Name: name, Data: data})
		require.NoError(t, err, name)
		require.Len(t, res.Children, 1, name)
		require.Equal(t, testdataFile(t, "text/sotu-1932-hoover.txt"), res.Children[0].Data, name)
	}
	require.Equal(t, typeText, Detect("notes.br", []byte("Plain text that happens to be named .br.\n")))
	_, err := newCompressReader(bytes.NewReader([]byte{0x1F, 0x9D, 0x90, 0xFF, 0xFF}))
	require.NoError(t, err)
}
