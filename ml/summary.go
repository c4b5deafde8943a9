package ml

import (
	"math"
	"slices"
	"strings"

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
// skipped. It returns "" for a text with no such sentence.
func Summary(text string, tok *Tokenizer, n, maxBytes int) string {
	type sentence struct {
		s     string
		terms []string
		pos   int
		score float64
	}
	var ss []sentence
	freq := map[string]int{}
	it := sentences.FromString(text)
	for it.Next() {
		s := strings.Join(strings.Fields(it.Value()), " ")
		terms := tok.Terms(s)
		for _, t := range terms {
			freq[t]++
		}
		words := len(strings.Fields(s))
		if words < 5 || words > 60 || len(terms) == 0 || len(s) > maxBytes {
			continue
		}
		ss = append(ss, sentence{s: s, terms: terms, pos: len(ss)})
	}
	if len(ss) == 0 {
		return ""
	}
	for i := range ss {
		var sum float64
		for _, t := range ss[i].terms {
			sum += math.Log1p(float64(freq[t] - 1))
		}
		ss[i].score = sum / math.Sqrt(float64(len(ss[i].terms)))
		if ss[i].pos < 3 {
			ss[i].score *= 1.2
		}
	}
	best := slices.Clone(ss)
	slices.SortStableFunc(best, func(a, b sentence) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	var chosen []sentence
	size := 0
	for _, s := range best {
		if len(chosen) == n {
			break
		}
		if size+len(s.s)+1 > maxBytes {
			continue
		}
		chosen = append(chosen, s)
		size += len(s.s) + 1
	}
	slices.SortFunc(chosen, func(a, b sentence) int { return a.pos - b.pos })
	parts := make([]string, len(chosen))
	for i, s := range chosen {
		parts[i] = s.s
	}
	return strings.Join(parts, " ")
}
