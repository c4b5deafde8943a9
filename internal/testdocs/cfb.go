package testdocs

import (
	"encoding/binary"
	"sort"
	"strings"
	"unicode/utf16"
)

// A small writer of compound files ([MS-CFB] version 3, 512-byte sectors),
// the container of Outlook messages, legacy Office and the formats built on
// them, enough for test files of a few streams: streams under 4 KiB in the
// mini stream, the others in sectors of their own, the FAT in at most 109
// sectors (files up to about 7 MB).

// CFBNode is a stream (Data) or a storage (Kids) of a compound file.
type CFBNode struct {
	Name    string
	Data    []byte
	Kids    []*CFBNode
	Storage bool
	// CLSID is the class of a storage (or of the root): some readers
	// recognise a format by it.
	CLSID [16]byte
}

// CFBStream returns a stream named name holding data.
func CFBStream(name string, data []byte) *CFBNode { return &CFBNode{Name: name, Data: data} }

// CFBStorage returns a storage named name holding kids.
func CFBStorage(name string, kids ...*CFBNode) *CFBNode {
	return &CFBNode{Name: name, Kids: kids, Storage: true}
}

// cfbLess orders siblings as the format does: shorter names first, then
// by upper-cased name.
func cfbLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return strings.ToUpper(a) < strings.ToUpper(b)
}

// CFB returns the compound file whose root storage is root (its name is
// written as "Root Entry" whatever it is). It panics when the file would
// need more than 109 FAT sectors.
func CFB(root *CFBNode) []byte {
	const sec, free, end, fatSect, noStream = 512, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
	type ent struct {
		n                  *CFBNode
		left, right, child uint32
		start              uint32
		size               uint32
	}
	ents := []*ent{{n: root, left: noStream, right: noStream, child: noStream}}
	var walk func(e *ent)
	walk = func(e *ent) {
		kids := append([]*CFBNode(nil), e.n.Kids...)
		sort.Slice(kids, func(i, j int) bool { return cfbLess(kids[i].Name, kids[j].Name) })
		var prev *ent
		for _, k := range kids {
			ke := &ent{n: k, left: noStream, right: noStream, child: noStream}
			id := uint32(len(ents))
			ents = append(ents, ke)
			// A degenerate tree, every sibling the right child of the
			// one before: readers only walk it.
			if prev == nil {
				e.child = id
			} else {
				prev.right = id
			}
			prev = ke
			if k.Storage {
				walk(ke)
			}
		}
	}
	walk(ents[0])
	// The mini stream, and the regular streams' sectors.
	var mini []byte
	var miniFAT []uint32
	var big [][]byte
	var bigEnts []*ent
	for _, e := range ents[1:] {
		if e.n.Storage {
			continue
		}
		e.size = uint32(len(e.n.Data))
		if len(e.n.Data) == 0 {
			e.start = end
			continue
		}
		if len(e.n.Data) < 4096 {
			e.start = uint32(len(mini) / 64)
			n := (len(e.n.Data) + 63) / 64
			for i := range n {
				if i == n-1 {
					miniFAT = append(miniFAT, end)
				} else {
					miniFAT = append(miniFAT, uint32(len(miniFAT)+1))
				}
			}
			mini = append(mini, e.n.Data...)
			mini = append(mini, make([]byte, n*64-len(e.n.Data))...)
			continue
		}
		big = append(big, e.n.Data)
		bigEnts = append(bigEnts, e)
	}
	sectors := func(n int) int { return (n + sec - 1) / sec }
	nDir := sectors(len(ents) * 128)
	nMiniFAT := sectors(len(miniFAT) * 4)
	nMini := sectors(len(mini))
	other := nDir + nMiniFAT + nMini
	for _, b := range big {
		other += sectors(len(b))
	}
	nFAT := 1
	for nFAT*128 < other+nFAT {
		nFAT++
	}
	if nFAT > 109 {
		panic("testdocs.CFB: file too large")
	}
	fat := make([]uint32, nFAT*128)
	for i := range fat {
		fat[i] = free
	}
	next := 0
	alloc := func(n int) uint32 {
		if n == 0 {
			return end
		}
		start := next
		for i := range n {
			fat[start+i] = uint32(start + i + 1)
		}
		fat[start+n-1] = end
		next += n
		return uint32(start)
	}
	for i := range nFAT {
		fat[i] = fatSect
	}
	next = nFAT
	dirStart := alloc(nDir)
	miniFATStart := alloc(nMiniFAT)
	miniStart := alloc(nMini)
	for i, b := range big {
		bigEnts[i].start = alloc(sectors(len(b)))
	}
	ents[0].start, ents[0].size = miniStart, uint32(len(mini))
	if len(mini) == 0 {
		ents[0].start = end
	}

	out := make([]byte, sec*(1+next))
	le := binary.LittleEndian
	h := out[:sec]
	copy(h, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")
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
	le.PutUint32(h[68:], end)
	for i := range 109 {
		v := uint32(free)
		if i < nFAT {
			v = uint32(i)
		}
		le.PutUint32(h[76+4*i:], v)
	}
	at := func(s uint32) []byte { return out[sec*(int(s)+1):] }
	for i, v := range fat {
		le.PutUint32(out[sec+4*i:], v)
	}
	for i, e := range ents {
		d := at(dirStart)[128*i : 128*i+128]
		name := utf16.Encode([]rune(e.n.Name))
		if i == 0 {
			name = utf16.Encode([]rune("Root Entry"))
		}
		for j, c := range name {
			le.PutUint16(d[2*j:], c)
		}
		le.PutUint16(d[64:], uint16(2*len(name)+2))
		switch {
		case i == 0:
			d[66] = 5
		case e.n.Storage:
			d[66] = 1
		default:
			d[66] = 2
		}
		d[67] = 1
		le.PutUint32(d[68:], e.left)
		le.PutUint32(d[72:], e.right)
		le.PutUint32(d[76:], e.child)
		copy(d[80:96], e.n.CLSID[:])
		le.PutUint32(d[116:], e.start)
		le.PutUint32(d[120:], e.size)
	}
	for i := len(ents); i < nDir*4; i++ { // unused entries
		d := at(dirStart)[128*i:]
		le.PutUint32(d[68:], noStream)
		le.PutUint32(d[72:], noStream)
		le.PutUint32(d[76:], noStream)
	}
	if nMiniFAT > 0 {
		mf := at(miniFATStart)
		for i := range nMiniFAT * 128 {
			v := uint32(free)
			if i < len(miniFAT) {
				v = miniFAT[i]
			}
			le.PutUint32(mf[4*i:], v)
		}
	}
	if nMini > 0 {
		copy(at(miniStart), mini)
	}
	for i, b := range big {
		copy(at(bigEnts[i].start), b)
	}
	return out
}
