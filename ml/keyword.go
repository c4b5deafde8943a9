package ml

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keyword is a word or two-word phrase that stands for a text.
type Keyword struct {
	// Text is the keyword as most often written, lower case.
	Text string
	// Score is from 0 to 1, 1 for the text's best keyword.
	Score float64
}

// KeywordsMaxDefault is how many keywords Keywords returns by default.
const KeywordsMaxDefault = 10

// Keywords returns up to n keywords of a text, from its tokens (see
// Tokenizer.Tokens), best first. With no corpus
// to compare against, a word's weight is how often its stem occurs (1 +
// ln tf, so that one word repeated does not crowd out the rest); a pair of
// content words that occurs together at least twice counts as a phrase and
// outranks its words, which are then dropped.
func Keywords(toks []Token, n int) []Keyword {
	type cand struct {
		forms map[string]int
		tf    int
		words int
		first int
	}
	cands := map[string]*cand{}
	add := func(key, form string, words, pos int) {
		c := cands[key]
		if c == nil {
			c = &cand{forms: map[string]int{}, first: pos, words: words}
			cands[key] = c
		}
		c.tf++
		c.forms[form]++
	}
	var prev *Token
	for i := range toks {
		t := &toks[i]
		if t.Stop || !keywordLike(t.Text) {
			prev = nil
			continue
		}
		form := strings.ToLower(t.Text)
		add(t.Term, form, 1, i)
		if prev != nil {
			add(prev.Term+" "+t.Term, strings.ToLower(prev.Text)+" "+form, 2, i)
		}
		prev = t
	}
	type scored struct {
		key  string
		text string
		s    float64
		pos  int
	}
	var out []scored
	// phraseTF counts, for each stem, its occurrences inside kept phrases.
	phraseTF := map[string]int{}
	for key, c := range cands {
		if c.words == 2 && c.tf < 2 {
			continue
		}
		s := 1 + math.Log(float64(c.tf))
		if c.words == 2 {
			s *= 1.5
			for _, w := range strings.Fields(key) {
				phraseTF[w] += c.tf
			}
		}
		out = append(out, scored{key, mostCommon(c.forms), s, c.first})
	}
	// A word found only inside its phrases adds nothing beside them.
	out = slices.DeleteFunc(out, func(s scored) bool {
		return !strings.Contains(s.key, " ") && cands[s.key].tf <= phraseTF[s.key]
	})
	// Ties go to the earlier word: titles and first lines name the
	// subject.
	slices.SortFunc(out, func(a, b scored) int {
		if c := cmp.Compare(b.s, a.s); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	if len(out) > n {
		out = out[:n]
	}
	kws := make([]Keyword, len(out))
	for i, s := range out {
		kws[i] = Keyword{Text: s.text, Score: s.s / out[0].s}
	}
	return kws
}

// mostCommon returns the most frequent form, the first alphabetically
// among equals so that results are repeatable.
func mostCommon(forms map[string]int) string {
	best, n := "", 0
	for f, c := range forms {
		if c > n || c == n && f < best {
			best, n = f, c
		}
	}
	return best
}

// keywordLike keeps words of at least three letters that are mostly
// letters: not numbers, codes or stray symbols.
func keywordLike(s string) bool {
	letters, n := 0, 0
	for _, r := range s {
		n++
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 3 && letters*4 >= n*3 && utf8.RuneCountInString(s) <= 30
}
