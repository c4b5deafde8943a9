//go:build ignore

// gen writes header-only.one (see README.md): the 1,024-byte header that
// starts every OneNote section, as [MS-ONESTORE] 2.3.1 lays it out, and no
// notebook after it. Run it from this directory with `go run gen.go`.
package main

import (
	"encoding/binary"
	"log"
	"os"
)

// guid lays out a GUID as it is stored: its first three fields
// little-endian.
func guid(a uint32, b, c uint16, d ...byte) []byte {
	out := binary.LittleEndian.AppendUint32(nil, a)
	out = binary.LittleEndian.AppendUint16(out, b)
	out = binary.LittleEndian.AppendUint16(out, c)
	return append(out, d...)
}

func main() {
	h := guid(0x7B5C52E4, 0xD88C, 0x4DA7, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3)              // guidFileType: a section (.one)
	h = append(h, guid(0x2C8BB2A4, 0x4F3E, 0x4F1A, 0x9D, 0x1B, 0x41, 0x6C, 0x25, 0x7A, 0x1E, 0x10)...) // guidFile: this file's own
	h = append(h, make([]byte, 16)...)                                                                 // guidLegacyFileVersion: zero
	h = append(h, guid(0x109ADD3F, 0x911B, 0x49F5, 0xA5, 0xD0, 0x17, 0x91, 0xED, 0xC8, 0xAE, 0xD8)...) // guidFileFormat
	h = binary.LittleEndian.AppendUint32(h, 0x2A)                                                      // ffvLastCodeThatWroteToThisFile: OneNote 2010
	h = binary.LittleEndian.AppendUint32(h, 0x2A)
	h = binary.LittleEndian.AppendUint32(h, 0x2A)
	h = binary.LittleEndian.AppendUint32(h, 0x2A)
	h = append(h, make([]byte, 1024-len(h))...)
	if err := os.WriteFile("header-only.one", h, 0o644); err != nil {
		log.Fatal(err)
	}
}
