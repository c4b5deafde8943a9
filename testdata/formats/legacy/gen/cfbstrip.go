// Command cfbstrip rewrites a Compound File Binary container (a legacy
// Office document) without the thumbnail of its SummaryInformation property
// set: LibreOffice's PowerPoint export always embeds a 440 KB bitmap there,
// which would make the test files too large to commit. Every other stream is
// copied unchanged, into a fresh version 3 container (testdocs.CFB). Only containers whose
// streams all sit in the root storage are handled (as LibreOffice writes
// PowerPoint files).
//
//	go run testdata/formats/legacy/gen/cfbstrip.go IN OUT
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/richardlehane/mscfb"

	"github.com/quirehq/quire/internal/testdocs"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cfbstrip IN OUT")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	check(err)
	r, err := mscfb.New(bytes.NewReader(in))
	check(err)
	var streams []*testdocs.CFBNode
	for f, err := r.Next(); err == nil; f, err = r.Next() {
		if len(f.Path) > 0 {
			check(fmt.Errorf("%s/%s: only root streams are handled", strings.Join(f.Path, "/"), f.Name))
		}
		if f.Size == 0 && f.Name == "" {
			continue
		}
		data := make([]byte, f.Size)
		if _, err := io.ReadFull(f, data); err != nil && f.Size > 0 {
			check(err)
		}
		name := f.Name
		if !unicode.IsPrint(rune(f.Initial)) {
			name = string(rune(f.Initial)) + name // mscfb keeps a leading control character apart
		}
		if name == "\x05SummaryInformation" {
			data = dropProperty(data, 17) // PIDSI_THUMBNAIL
		}
		streams = append(streams, testdocs.CFBStream(name, data))
	}
	// The root's class id, from the first directory entry.
	shift := binary.LittleEndian.Uint16(in[30:])
	dir := (int(binary.LittleEndian.Uint32(in[48:])) + 1) << shift
	root := testdocs.CFBStorage("Root Entry", streams...)
	copy(root.CLSID[:], in[dir+80:dir+96])
	check(os.WriteFile(os.Args[2], testdocs.CFB(root), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cfbstrip:", err)
		os.Exit(1)
	}
}

// dropProperty removes property id from the first property set of a
// property set stream, and the bytes of its value when it is the last.
func dropProperty(b []byte, id uint32) []byte {
	le := binary.LittleEndian
	base := le.Uint32(b[44:])
	ps := b[base:]
	n := le.Uint32(ps[4:])
	type prop struct{ id, off uint32 }
	var props []prop
	drop := uint32(0)
	for i := uint32(0); i < n; i++ {
		p := prop{le.Uint32(ps[8+8*i:]), le.Uint32(ps[12+8*i:])}
		if p.id == id {
			drop = p.off
			continue
		}
		props = append(props, p)
	}
	if drop == 0 {
		return b
	}
	for _, p := range props {
		if p.off > drop {
			return b // not the last value: leave the stream alone
		}
	}
	out := append([]byte{}, b[:int(base)+int(drop)]...)
	ps = out[base:]
	le.PutUint32(ps, drop)
	le.PutUint32(ps[4:], uint32(len(props)))
	// The table shrinks by one entry: move the values up by 8 bytes.
	table := 8 + 8*len(props)
	body := append([]byte{}, ps[8+8*int(n):]...)
	for i, p := range props {
		le.PutUint32(ps[8+8*i:], p.id)
		le.PutUint32(ps[12+8*i:], p.off-8)
	}
	copy(ps[table:], body)
	out = out[:int(base)+table+len(body)]
	le.PutUint32(out[base:], uint32(table+len(body)))
	return out
}
