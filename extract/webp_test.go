package extract

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/webp"
)

// webpHeader builds the start of a WebP file whose first chunk is fourcc
// with payload.
func webpHeader(fourcc string, payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)))
	b.WriteString("WEBP" + fourcc)
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	return b.Bytes()
}

// TestWebPConfig reads the dimensions of each kind of WebP header as
// x/image does, and a lossless one as large as the format allows fails the
// size check before anything is decoded.
func TestWebPConfig(t *testing.T) {
	w, h := 16384, 9000
	lossless := make([]byte, 5)
	lossless[0] = 0x2f
	binary.LittleEndian.PutUint32(lossless[1:], uint32(w-1)|uint32(h-1)<<14)
	extended := make([]byte, 10)
	extended[4], extended[5], extended[6] = byte(w-1), byte((w-1)>>8), byte((w-1)>>16)
	extended[7], extended[8], extended[9] = byte(h-1), byte((h-1)>>8), byte((h-1)>>16)
	lossy := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(lossy[6:], 3000)
	binary.LittleEndian.PutUint16(lossy[8:], 2000)
	for name, data := range map[string][]byte{
		"lossless": webpHeader("VP8L", lossless),
		"extended": webpHeader("VP8X", extended),
		"lossy":    webpHeader("VP8 ", lossy),
	} {
		got, err := webpConfig(bytes.NewReader(data))
		require.NoError(t, err, name)
		want, err := webp.DecodeConfig(bytes.NewReader(data))
		require.NoError(t, err, name)
		require.Equal(t, want.Width, got.Width, name)
		require.Equal(t, want.Height, got.Height, name)
	}
	_, err := checkImage(webpHeader("VP8L", lossless), Limits{}.WithDefaults())
	requireLimit(t, err, "decompressed size")
}
