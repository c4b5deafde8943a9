package ml

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/sentences"
)

// Defaults of Summary.
const (
	// SummarySentencesDefault is how many sentences a summary has at most.
	SummarySentencesDefault = 3
	// SummaryMaxBytesDefault bounds a summary's length.
	SummaryMaxBytesDefault = 600
)

// Summary returns a short extractive summary of text: its most
// representative sentences (UAX #29 sentence boundaries), in their order
// in the text. A sentence's weight is the mean frequency of its content
// words' stems in the whole text (Luhn's idea: the words a text repeats
// are its subject), a little more for the first sentences, which often
// state the point. Sentences too short or too long to stand alone are
// skipped, and so are pieces that do not end a sentence (a line ending in
// a comma, a heading) unless the text has no whole sentence: the summary
// then joins such pieces with " … ", so that two never read as one. It
// returns "" for a text with neither.
func Summary(text string, tok *Tokenizer, n, maxBytes int) string {
	return summary(text, tok.split(text), n, maxBytes)
}

// summary is Summary of a text already split into words (by
// Tokenizer.split): each sentence's terms are the words that start inside
// it, so the text is not split into words a second time.
func summary(text string, tw *textWords, n, maxBytes int) string {
	type sentence struct {
		start, end int // bytes of text
		size       int // bytes with white space collapsed
		words      []word
		pos        int
		score      float64
	}
	var ss, pieces []sentence
	// Term frequencies, by term number: a text's words are its sentences'.
	freq := make([]int32, len(tw.terms))
	toks := tw.words
	for _, w := range toks {
		if f := &tw.forms[w.form]; !f.stop {
			freq[f.term]++
		}
	}
	next := 0 // the first token not in a sentence seen
	it := sentences.FromString(text)
	for it.Next() {
		start, end := it.Start(), it.End()
		first := next
		for next < len(toks) && int(toks[next].start) < end {
			next++
		}
		terms := 0
		for _, w := range toks[first:next] {
			if !tw.forms[w.form].stop {
				terms++
			}
		}
		words, size := fields(text[start:end])
		if words < 5 || words > 60 || terms == 0 || size > maxBytes {
			continue
		}
		st := sentence{start: start, end: end, size: size, words: toks[first:next], pos: len(ss) + len(pieces)}
		if endsSentence(text[start:end]) {
			ss = append(ss, st)
		} else {
			pieces = append(pieces, st)
		}
	}
	sep := " "
	if len(ss) == 0 {
		ss, sep = pieces, " … "
	}
	if len(ss) == 0 {
		return ""
	}
	// A term's weight, log(1 + its repeats), is computed once for all its
	// occurrences.
	weight := make([]float64, len(tw.terms))
	for t, f := range freq {
		if f > 0 {
			weight[t] = math.Log1p(float64(f - 1))
		}
	}
	for i := range ss {
		var sum float64
		count := 0
		for _, w := range ss[i].words {
			if f := &tw.forms[w.form]; !f.stop {
				sum += weight[f.term]
				count++
			}
		}
		ss[i].score = sum / math.Sqrt(float64(count))
		if ss[i].pos < 3 {
			ss[i].score *= 1.2
		}
	}
	// The best first, the earlier among equals: sentences' numbers are
	// sorted rather than the sentences, which are large to move.
	best := make([]int32, len(ss))
	for i := range best {
		best[i] = int32(i)
	}
	slices.SortStableFunc(best, func(a, b int32) int {
		switch sa, sb := ss[a].score, ss[b].score; {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	var chosen []sentence
	size := 0
	for _, i := range best {
		s := ss[i]
		if len(chosen) == n {
			break
		}
		if size+s.size+len(sep) > maxBytes {
			continue
		}
		chosen = append(chosen, s)
		size += s.size + len(sep)
	}
	slices.SortFunc(chosen, func(a, b sentence) int { return a.pos - b.pos })
	var b strings.Builder
	b.Grow(size)
	for i, s := range chosen {
		if i > 0 {
			b.WriteString(sep)
		}
		for j, f := range strings.Fields(text[s.start:s.end]) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f)
		}
	}
	return b.String()
}

// fields returns the number of fields of s (as strings.Fields splits it)
// and the length of s with the white space between them collapsed to one
// space: len(strings.Join(strings.Fields(s), " ")), without building it.
func fields(s string) (n, size int) {
	in := false
	for i := 0; i < len(s); {
		c := s[i]
		var space bool
		w := 1
		if c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			var r rune
			r, w = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		switch {
		case space:
			in = false
		case !in:
			in = true
			n++
			size += w
			if n > 1 {
				size++ // the space before it
			}
		default:
			size += w
		}
		i += w
	}
	return n, size
}

// asciiSpace holds the ASCII bytes unicode.IsSpace reports.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// endsSentence reports whether s ends as a sentence does: with a full stop,
// question or exclamation mark of any script (Unicode's Sentence_Terminal),
// closing quotes and brackets aside.
func endsSentence(s string) bool {
	s = strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '"' || r == '\'' || unicode.In(r, unicode.Pe, unicode.Pf)
	})
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.Is(unicode.Sentence_Terminal, r)
}
