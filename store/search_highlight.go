package store

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MatchSpans returns the byte ranges of the words of text that a search
// query looks for, in order and not overlapping, for highlighting a whole
// text where the index made no snippet (a document opened from a result).
// Words are split as the index splits them (runs of letters, digits and
// marks) and compared case-insensitively; a prefix* term marks every word
// it begins, and each word of a phrase is marked wherever it occurs.
func MatchSpans(text, query string) [][2]int {
	m := newWordMatcher(parseQuery(query))
	if m.empty() {
		return nil
	}
	var spans [][2]int
	eachWord(text, func(start, end int) {
		if m.match(text[start:end]) {
			spans = append(spans, [2]int{start, end})
		}
	})
	return spans
}

// wordMatcher tells the words of a text that a query's terms look for.
type wordMatcher struct {
	exact, prefixes []string
}

func newWordMatcher(q textQuery) wordMatcher {
	var m wordMatcher
	for _, t := range q.terms() {
		p, isPrefix := strings.CutSuffix(t, "*")
		words := strings.FieldsFunc(p, func(r rune) bool { return !isWordRune(r) })
		for i, w := range words {
			if isPrefix && i == len(words)-1 {
				m.prefixes = append(m.prefixes, w)
			} else {
				m.exact = append(m.exact, w)
			}
		}
	}
	return m
}

func (m wordMatcher) empty() bool { return len(m.exact) == 0 && len(m.prefixes) == 0 }

// match reports whether the word is one the terms look for.
func (m wordMatcher) match(word string) bool {
	if !isASCII(word) {
		word = strings.ToLower(word)
	}
	// EqualFold compares ASCII without the copy ToLower would make of a
	// word with capitals; the terms are lower case already.
	for _, e := range m.exact {
		if len(word) == len(e) && strings.EqualFold(word, e) {
			return true
		}
	}
	for _, p := range m.prefixes {
		if len(word) >= len(p) && strings.EqualFold(word[:len(p)], p) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// eachWord calls f with the byte range of each word of text, in order.
func eachWord(text string, f func(start, end int)) {
	for i := 0; i < len(text); {
		r, n := decodeRune(text, i)
		if !isWordRune(r) {
			i += n
			continue
		}
		end := i + n
		for end < len(text) {
			r, n := decodeRune(text, end)
			if !isWordRune(r) {
				break
			}
			end += n
		}
		f(i, end)
		i = end
	}
}

// decodeRune is utf8.DecodeRuneInString(text[i:]), without its call for
// the ASCII most text is made of.
func decodeRune(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// snippetWords is how many words a snippet made by makeSnippet holds at
// most, as ts_headline's MaxWords did.
const snippetWords = 35

// makeSnippet returns the passage of at most snippetWords words of text
// that holds the most of the words m looks for, those centred in it and
// marked; the text's first words when none match. An ellipsis stands for
// the text left out on either side; more reports that text goes on past
// the end of the text given.
func makeSnippet(text string, m wordMatcher, more bool) []SnippetPart {
	type word struct {
		start, end int
		match      bool
	}
	words := make([]word, 0, len(text)/6+1)
	eachWord(text, func(start, end int) {
		words = append(words, word{start, end, m.match(text[start:end])})
	})
	if len(words) == 0 {
		return nil
	}
	// The first window of snippetWords words with the most matches.
	best, bestAt, n := 0, 0, 0
	for i, w := range words {
		if w.match {
			n++
		}
		if i >= snippetWords && words[i-snippetWords].match {
			n--
		}
		if n > best {
			best, bestAt = n, max(0, i-snippetWords+1)
		}
	}
	start := 0
	if best > 0 {
		// Its matches, from the first to the last, in the middle of it.
		first, last := -1, 0
		for i := bestAt; i < min(len(words), bestAt+snippetWords); i++ {
			if words[i].match {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		start = first - (snippetWords-(last-first+1))/2
		start = max(0, min(start, len(words)-snippetWords))
	}
	end := min(len(words), start+snippetWords)
	// The parts are pieces of the text: a match, or what lies between two.
	parts := make([]SnippetPart, 0, 2*best+3)
	from := words[start].start
	for _, w := range words[start:end] {
		if w.match {
			if from < w.start {
				parts = append(parts, SnippetPart{Text: text[from:w.start]})
			}
			parts = append(parts, SnippetPart{Text: text[w.start:w.end], Match: true})
			from = w.end
		}
	}
	if to := words[end-1].end; from < to {
		parts = append(parts, SnippetPart{Text: text[from:to]})
	}
	if start > 0 {
		if parts[0].Match {
			parts = slices.Insert(parts, 0, SnippetPart{Text: "…"})
		} else {
			parts[0].Text = "…" + parts[0].Text
		}
	}
	if end < len(words) || more {
		if last := &parts[len(parts)-1]; !last.Match {
			last.Text += "…"
		} else {
			parts = append(parts, SnippetPart{Text: "…"})
		}
	}
	return parts
}
