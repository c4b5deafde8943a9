package extract

import (
	"bytes"
	"context"
	"fmt"
)

// OneNote ([MS-ONESTORE]): a revision store, a file of file nodes that
// point to object spaces whose objects hold properties, the text of an
// outline element among them (RichEditTextUnicode of a jcidRichTextOENode).
// Reading it means walking the file node lists, the object spaces and
// their revisions; a scan for UTF-16 runs instead would return fragments of
// old revisions, style names and GUIDs mixed with the text, and without a
// real, freely licensed notebook to test on, neither could be shown to
// give the text a person sees. So a OneNote file is named and refused:
// the failure says what it is, rather than "unsupported document type:
// application/octet-stream".

const typeOneNote = "application/onenote"

func init() {
	register(&format{name: "onenote", types: []string{typeOneNote}, extract: extractOneNote})
}

// The GUIDs a OneNote file starts with ([MS-ONESTORE] 2.3.1 guidFileType,
// and 2.8 for the packaging of the FSSHTTPB variant), in their byte order.
var (
	oneNoteSection = guidBytes(0x7B5C52E4, 0xD88C, 0x4DA7, [8]byte{0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3})
	oneNoteTOC     = guidBytes(0x43FF2FA1, 0xEFD9, 0x4C76, [8]byte{0x9E, 0xE2, 0x10, 0xEA, 0x57, 0x22, 0x76, 0x5F})
	oneNotePackage = guidBytes(0x638DE92F, 0xA6D4, 0x4BC1, [8]byte{0x9A, 0x36, 0xB3, 0xFC, 0x25, 0x11, 0xA5, 0xB7})
)

// guidBytes lays out a GUID as it is stored: its first three fields
// little-endian.
func guidBytes(a uint32, b, c uint16, d [8]byte) []byte {
	return append([]byte{byte(a), byte(a >> 8), byte(a >> 16), byte(a >> 24), byte(b), byte(b >> 8), byte(c), byte(c >> 8)}, d[:]...)
}

// oneNoteKind names the kind of OneNote file data is, "" for none.
func oneNoteKind(data []byte) string {
	switch {
	case bytes.HasPrefix(data, oneNoteSection):
		return "section (.one)"
	case bytes.HasPrefix(data, oneNoteTOC):
		return "table of contents (.onetoc2)"
	case bytes.HasPrefix(data, oneNotePackage):
		return "section in the FSSHTTPB packaging of OneNote 2016 and later"
	}
	return ""
}

func extractOneNote(_ context.Context, _ *Extractor, in *Input, _ *budget) (*Result, error) {
	kind := oneNoteKind(in.Data)
	if kind == "" {
		return nil, fmt.Errorf("%w: not a OneNote file (no OneNote file type GUID at its start)", ErrCorrupt)
	}
	return nil, fmt.Errorf("%w: OneNote %s: Microsoft OneNote notebooks (MS-ONESTORE) are not supported", ErrUnsupported, kind)
}
