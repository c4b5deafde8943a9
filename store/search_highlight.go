package store

import (
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
	var exact []string
	var prefixes []string
	for _, t := range parseQuery(query).terms() {
		p, isPrefix := strings.CutSuffix(t, "*")
		words := strings.FieldsFunc(p, func(r rune) bool { return !isWordRune(r) })
		for i, w := range words {
			if isPrefix && i == len(words)-1 {
				prefixes = append(prefixes, w)
			} else {
				exact = append(exact, w)
			}
		}
	}
	if len(exact) == 0 && len(prefixes) == 0 {
		return nil
	}
	var spans [][2]int
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		end := i + n
		for end < len(text) {
			r, n := utf8.DecodeRuneInString(text[end:])
			if !isWordRune(r) {
				break
			}
			end += n
		}
		w := strings.ToLower(text[i:end])
		match := false
		for _, e := range exact {
			match = match || w == e
		}
		for _, p := range prefixes {
			match = match || strings.HasPrefix(w, p)
		}
		if match {
			spans = append(spans, [2]int{i, end})
		}
		i = end
	}
	return spans
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }
