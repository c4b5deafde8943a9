// Package format reads and writes langid's model file, which gen writes
// and langid embeds. It is gzipped; inside, every number is a uvarint:
//
//	"quire-langid 1\n"
//	Scale
//	len(Orders), Orders...
//	len(Langs), each: len, bytes
//	len(Alphabet), Alphabet... (runes)
//	len(Keys), each: the key minus the previous one, its count of
//	    postings, each posting: Lang, Bonus (one byte each)
package format

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// Scale is how many units of a bonus make a nat.
	Scale = 12
	// LetterBits is the width of a letter's index in a key: an n-gram's
	// key is its letters' indexes (1-based, into Alphabet), first letter
	// in the highest bits, so that keys of different orders differ too.
	LetterBits = 12
	// MaxOrder is the longest n-gram a key holds.
	MaxOrder = 64 / LetterBits
)

const magic = "quire-langid 1\n"

// Model is the decoded file.
type Model struct {
	// Scale is Scale when the model was written.
	Scale int
	// Orders are the n-gram lengths the model holds.
	Orders []int
	// Langs are ISO 639-1 codes; a Posting's Lang indexes them.
	Langs []string
	// Alphabet holds the letters of the n-grams; letter i has index i+1.
	Alphabet []rune
	// Keys are the n-grams, sorted; Counts[i] of Postings, in order,
	// are those of Keys[i].
	Keys     []uint64
	Counts   []uint8
	Postings []Posting
}

// Posting is an n-gram's bonus in one language: how much likelier it is
// there than an n-gram the language lacks, in units of 1/Scale nat.
type Posting struct {
	Lang  uint8
	Bonus uint8
}

// Write writes m, uncompressed.
func (m *Model) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	var tmp [binary.MaxVarintLen64]byte
	put := func(v uint64) { bw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	put(uint64(m.Scale))
	put(uint64(len(m.Orders)))
	for _, o := range m.Orders {
		put(uint64(o))
	}
	put(uint64(len(m.Langs)))
	for _, l := range m.Langs {
		put(uint64(len(l)))
		bw.WriteString(l)
	}
	put(uint64(len(m.Alphabet)))
	for _, r := range m.Alphabet {
		put(uint64(r))
	}
	put(uint64(len(m.Keys)))
	var prev uint64
	ps := m.Postings
	for i, k := range m.Keys {
		put(k - prev)
		prev = k
		n := int(m.Counts[i])
		put(uint64(n))
		for _, p := range ps[:n] {
			bw.WriteByte(p.Lang)
			bw.WriteByte(p.Bonus)
		}
		ps = ps[n:]
	}
	return bw.Flush()
}

// Read reads a model written by Write.
func Read(r io.Reader) (*Model, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return nil, errors.New("langid model: not a model file of version 1")
	}
	var err error
	get := func() uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = binary.ReadUvarint(br)
		return v
	}
	count := func(limit uint64) int {
		n := get()
		if n > limit && err == nil {
			err = fmt.Errorf("langid model: count %d over %d", n, limit)
		}
		return int(n)
	}
	m := &Model{Scale: int(get())}
	m.Orders = make([]int, count(MaxOrder))
	for i := range m.Orders {
		m.Orders[i] = int(get())
	}
	m.Langs = make([]string, count(256))
	for i := range m.Langs {
		b := make([]byte, count(16))
		if err == nil {
			_, err = io.ReadFull(br, b)
		}
		m.Langs[i] = string(b)
	}
	m.Alphabet = make([]rune, count(1<<LetterBits-1))
	for i := range m.Alphabet {
		m.Alphabet[i] = rune(get())
	}
	m.Keys = make([]uint64, count(1<<24))
	m.Counts = make([]uint8, len(m.Keys))
	var key uint64
	for i := range m.Keys {
		key += get()
		m.Keys[i] = key
		n := count(uint64(len(m.Langs)))
		m.Counts[i] = uint8(n)
		for range n {
			var b [2]byte
			if err == nil {
				_, err = io.ReadFull(br, b[:])
			}
			if b[0] >= byte(len(m.Langs)) && err == nil {
				err = fmt.Errorf("language %d of %d", b[0], len(m.Langs))
			}
			m.Postings = append(m.Postings, Posting{Lang: b[0], Bonus: b[1]})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("langid model: %w", err)
	}
	return m, nil
}
