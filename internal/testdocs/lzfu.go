package testdocs

import (
	"encoding/binary"
	"hash/crc32"
)

// CompressedRTF writes RTF in Outlook's compressed RTF format ([MS-OXRTFCP],
// "LZFu"), every byte a literal: a valid stream that any reader must
// decompress, though it compresses nothing.
func CompressedRTF(rtf []byte) []byte {
	const prefixLen = 207 // the format's initial dictionary
	var body []byte
	w := prefixLen
	for i := 0; ; {
		ctl := len(body)
		body = append(body, 0)
		for bit := 0; bit < 8; bit++ {
			if i == len(rtf) {
				// The end: a reference to the write position.
				body[ctl] |= 1 << bit
				body = append(body, byte(w>>4), byte(w<<4))
				return LZFuHeader(body, len(rtf))
			}
			body = append(body, rtf[i])
			i++
			w = (w + 1) & 4095
		}
	}
}

// LZFuHeader returns a compressed RTF body with its header: its size, the
// size raw says it inflates to, the "LZFu" magic and the body's CRC.
func LZFuHeader(body []byte, raw int) []byte {
	crc := uint32(0)
	for _, c := range body {
		crc = crc32.IEEETable[byte(crc)^c] ^ crc>>8
	}
	h := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+12))
	h = binary.LittleEndian.AppendUint32(h, uint32(raw))
	h = append(h, "LZFu"...)
	h = binary.LittleEndian.AppendUint32(h, crc)
	return append(h, body...)
}
