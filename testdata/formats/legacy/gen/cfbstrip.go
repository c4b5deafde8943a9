// Command cfbstrip rewrites a Compound File Binary container (a legacy
// Office document) without the thumbnail of its SummaryInformation property
// set: LibreOffice's PowerPoint export always embeds a 440 KB bitmap there,
// which would make the test files too large to commit. Every other stream is
// copied unchanged, into a fresh version 3 container. Only containers whose
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
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
)

type stream struct {
	name  string
	data  []byte
	start uint32
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cfbstrip IN OUT")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	check(err)
	r, err := mscfb.New(bytes.NewReader(in))
	check(err)
	var streams []*stream
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
		streams = append(streams, &stream{name: name, data: data})
	}
	// The root's class id, from the first directory entry.
	shift := binary.LittleEndian.Uint16(in[30:])
	dir := (int(binary.LittleEndian.Uint32(in[48:])) + 1) << shift
	check(os.WriteFile(os.Args[2], write(streams, in[dir+80:dir+96]), 0o644))
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

const (
	endOfChain = 0xFFFFFFFE
	freeSect   = 0xFFFFFFFF
	fatSect    = 0xFFFFFFFD
	noStream   = 0xFFFFFFFF
)

func sectors(n, size int) int { return (n + size - 1) / size }

// write lays out a version 3 container: FAT, directory, mini FAT, mini
// stream, then the large streams, each in contiguous sectors.
func write(streams []*stream, clsid []byte) []byte {
	le := binary.LittleEndian
	sort.Slice(streams, func(i, j int) bool { return less(streams[i].name, streams[j].name) })
	var mini []byte
	var miniFAT []uint32
	var big []*stream
	for _, s := range streams {
		if len(s.data) >= 4096 {
			big = append(big, s)
			continue
		}
		if len(s.data) == 0 {
			s.start = endOfChain
			continue
		}
		s.start = uint32(len(mini) / 64)
		n := sectors(len(s.data), 64)
		for i := 0; i < n; i++ {
			next := uint32(len(miniFAT) + 1)
			if i == n-1 {
				next = endOfChain
			}
			miniFAT = append(miniFAT, next)
		}
		mini = append(mini, s.data...)
		mini = append(mini, make([]byte, n*64-len(s.data))...)
	}
	nDir := sectors(len(streams)+1, 4)
	nMiniFAT := sectors(len(miniFAT)*4, 512)
	nMini := sectors(len(mini), 512)
	nBig := 0
	for _, s := range big {
		nBig += sectors(len(s.data), 512)
	}
	nFAT := 1
	for sectors(nFAT+nDir+nMiniFAT+nMini+nBig, 128) > nFAT {
		nFAT++
	}
	if nFAT > 109 {
		check(fmt.Errorf("too large for a container without DIFAT sectors"))
	}
	total := nFAT + nDir + nMiniFAT + nMini + nBig
	fat := make([]uint32, nFAT*128)
	for i := range fat {
		fat[i] = freeSect
	}
	next := 0
	run := func(n int) uint32 {
		if n == 0 {
			return endOfChain
		}
		start := next
		for i := 0; i < n; i++ {
			fat[next] = uint32(next + 1)
			next++
		}
		fat[next-1] = endOfChain
		return uint32(start)
	}
	for i := 0; i < nFAT; i++ {
		fat[next] = fatSect
		next++
	}
	dirStart := run(nDir)
	miniFATStart := run(nMiniFAT)
	miniStart := run(nMini)
	for _, s := range big {
		s.start = run(sectors(len(s.data), 512))
	}

	out := make([]byte, 512*(total+1))
	h := out[:512]
	copy(h, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le.PutUint16(h[24:], 0x3E)
	le.PutUint16(h[26:], 3)
	le.PutUint16(h[28:], 0xFFFE)
	le.PutUint16(h[30:], 9)
	le.PutUint16(h[32:], 6)
	le.PutUint32(h[44:], uint32(nFAT))
	le.PutUint32(h[48:], dirStart)
	le.PutUint32(h[56:], 4096)
	le.PutUint32(h[60:], miniFATStart)
	le.PutUint32(h[64:], uint32(nMiniFAT))
	le.PutUint32(h[68:], endOfChain)
	for i := 0; i < 109; i++ {
		v := uint32(freeSect)
		if i < nFAT {
			v = uint32(i)
		}
		le.PutUint32(h[76+4*i:], v)
	}
	sec := func(n uint32) []byte { return out[512*(int(n)+1):] }
	for i, v := range fat {
		le.PutUint32(sec(uint32(i / 128))[4*(i%128):], v)
	}
	dir := sec(dirStart)[:nDir*512]
	entry := func(i int, name string, typ byte, start uint32, size int, child, right uint32) {
		e := dir[128*i : 128*i+128]
		u := utf16.Encode([]rune(name))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = typ
		e[67] = 1 // black
		le.PutUint32(e[68:], noStream)
		le.PutUint32(e[72:], right)
		le.PutUint32(e[76:], child)
		le.PutUint32(e[116:], start)
		le.PutUint32(e[120:], uint32(size))
	}
	for i := range nDir * 4 {
		le.PutUint32(dir[128*i+68:], noStream)
		le.PutUint32(dir[128*i+72:], noStream)
		le.PutUint32(dir[128*i+76:], noStream)
	}
	rootStart := miniStart
	if len(mini) == 0 {
		rootStart = endOfChain
	}
	entry(0, "Root Entry", 5, rootStart, len(mini), 1, noStream)
	copy(dir[80:96], clsid)
	for i, s := range streams {
		right := uint32(noStream)
		if i+1 < len(streams) {
			right = uint32(i + 2)
		}
		entry(i+1, s.name, 2, s.start, len(s.data), noStream, right)
	}
	for i, v := range miniFAT {
		le.PutUint32(sec(miniFATStart + uint32(i/128))[4*(i%128):], v)
	}
	if len(mini) > 0 {
		copy(sec(miniStart), mini)
	}
	for _, s := range big {
		copy(sec(s.start), s.data)
	}
	return out
}

// less orders directory entries as the format does: shorter names first,
// then by upper-cased UTF-16.
func less(a, b string) bool {
	ua, ub := utf16.Encode([]rune(strings.ToUpper(a))), utf16.Encode([]rune(strings.ToUpper(b)))
	if len(ua) != len(ub) {
		return len(ua) < len(ub)
	}
	for i := range ua {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return false
}
