package extract

import (
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// One memory budget per document. Every extractor writes its text through a
// textSink, and every sink of a document draws on the document's one
// budget: past Limits.MaxText the document is done, its text truncated,
// whatever the format and however it is nested. The readers that feed the
// parsers (zip entries, XML parts) stop as soon as the budget is spent, so a
// decompression bomb is read no further than the text it may yield; and a
// parser that buffers one token whole (encoding/xml does) is given no token
// longer than the budget. What a worker holds for one document is then the
// document itself, a few copies of at most MaxText of text, and the fixed
// working sets of the engines (a PDF instance's memory limit), whatever it is
// fed: docs/operations.md adds it up.

// metaFieldMax bounds a metadata field gathered from a document's content
// (a title, an author): a line, not a text, and not drawn on the budget.
const metaFieldMax = 4 << 10

// errTextFull ends a reader or a walk whose document has spent its text
// budget. It never reaches the caller: the document is done, truncated.
var errTextFull = errors.New("text limit reached")

// budget is one document's allowance. A document's sinks may be written from
// several goroutines (OCR reads a PDF's scanned pages side by side), so the
// counters are guarded.
type budget struct {
	lim Limits

	mu        sync.Mutex
	text      int64 // bytes of text granted
	truncated bool
}

func newBudget(lim Limits) *budget { return &budget{lim: lim} }

// take grants up to n more bytes of text, fewer once the budget runs out; a
// request cut short marks the document truncated.
func (b *budget) take(n int) int {
	if b == nil || b.lim.MaxText < 0 {
		return n
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	left := b.lim.MaxText - b.text
	if int64(n) > left {
		n = int(max(left, 0))
		b.truncated = true
	}
	b.text += int64(n)
	return n
}

// left is what remains of the text budget, -1 when there is no limit.
func (b *budget) left() int64 {
	if b == nil || b.lim.MaxText < 0 {
		return -1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.lim.MaxText-b.text, 0)
}

// full reports that the text budget is spent and some text was refused:
// the document is truncated, and readers stop there.
func (b *budget) full() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.truncated
}

// markTruncated records that a reader stopped before the end of its input
// because of the budget (a token longer than the text limit).
func (b *budget) markTruncated() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.truncated = true
	b.mu.Unlock()
}

// textSink collects text within a document's budget: what does not fit is
// dropped, cut on a character boundary, and the document marked truncated.
// The zero value has no limit.
type textSink struct {
	b   strings.Builder
	bud *budget
	// scratch sinks hold text that another sink will take in turn (a
	// spreadsheet cell before its row is written): bounded by what is left
	// of the budget, they do not spend it, so the text is not counted
	// twice.
	scratch bool
}

// grant returns how many of n bytes may be written.
func (s *textSink) grant(n int) int {
	if s.bud == nil {
		return n
	}
	if s.scratch {
		left := s.bud.left()
		if left < 0 {
			return n
		}
		if room := left - int64(s.b.Len()); int64(n) > room {
			s.bud.markTruncated()
			return int(max(room, 0))
		}
		return n
	}
	return s.bud.take(n)
}

// writeString writes as much of str as the budget allows and reports
// whether all of it fitted.
func (s *textSink) writeString(str string) bool {
	n := s.grant(len(str))
	if n < len(str) {
		str = cutUTF8(str, n)
		s.b.WriteString(str)
		return false
	}
	s.b.WriteString(str)
	return true
}

func (s *textSink) write(p []byte) bool {
	n := s.grant(len(p))
	if n < len(p) {
		for n > 0 && !utf8.RuneStart(p[n]) {
			n--
		}
		s.b.Write(p[:n])
		return false
	}
	s.b.Write(p)
	return true
}

func (s *textSink) writeByte(c byte) bool {
	if s.grant(1) < 1 {
		return false
	}
	s.b.WriteByte(c)
	return true
}

func (s *textSink) Len() int { return s.b.Len() }

func (s *textSink) String() string { return s.b.String() }

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// end inside a character.
func cutUTF8(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clip returns as much of s as the budget allows, charging it: for text a
// parser hands over whole (a PDF page, an OCR result). A cut prefix is
// copied, so that the rest can be freed.
func (b *budget) clip(s string) string {
	n := b.take(len(s))
	if n < len(s) {
		return strings.Clone(cutUTF8(s, n))
	}
	return s
}
