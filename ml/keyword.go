package ml

import (
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
	return keywords(wordsOf(toks), n)
}

// keywords is Keywords of a text's words as split numbers them: the
// candidates are counted in slices indexed by those numbers, and a small
// map of pairs.
func keywords(tw *textWords, n int) []Keyword {
	// A candidate's forms as written are a list in forms, linked by
	// next: candidates and forms hold no pointers, so a long text's
	// thousands of them are not scanned by the collector.
	type form struct {
		a, b int32 // forms' numbers; b is -1 for a word
		n    int32
		next int32 // the candidate's next form, -1 for none
	}
	type cand struct {
		a, b  int32 // terms' numbers; b is -1 for a word
		forms int32 // its first form seen
		tf    int32
		first int32
	}
	var (
		// like caches keywordLike of each form: 0 not yet asked, 1 yes, -1 no.
		like = make([]int8, len(tw.forms))
		// candOf is the index in cands of each term's word, -1 for none yet.
		candOf = make([]int32, len(tw.terms))
		cands  = make([]cand, 0, 64+len(tw.words)/2)        // words and pairs, in order of first sight
		forms  = make([]form, 0, 64+len(tw.words)/2)        // their forms
		pairs  = make(map[uint64]int32, 32+len(tw.words)/3) // terms' numbers -> index in cands
	)
	for i := range candOf {
		candOf[i] = -1
	}
	newCand := func(a, b, fa, fb int32, first int) int32 {
		forms = append(forms, form{fa, fb, 0, -1})
		cands = append(cands, cand{a: a, b: b, forms: int32(len(forms) - 1), first: int32(first)})
		return int32(len(cands) - 1)
	}
	add := func(ci int32, fa, fb int32) {
		c := &cands[ci]
		c.tf++
		k := c.forms
		for {
			f := &forms[k]
			if f.a == fa && f.b == fb {
				f.n++
				return
			}
			if f.next < 0 {
				break
			}
			k = f.next
		}
		forms[k].next = int32(len(forms))
		forms = append(forms, form{fa, fb, 1, -1})
	}
	prevTerm, prevForm := int32(-1), int32(-1)
	for i := range tw.words {
		f := tw.words[i].form
		fm := &tw.forms[f]
		if like[f] == 0 {
			like[f] = -1
			if !fm.stop && keywordLike(fm.text) {
				like[f] = 1
			}
		}
		if like[f] < 0 {
			prevTerm = -1
			continue
		}
		term := fm.term
		if candOf[term] < 0 {
			candOf[term] = newCand(term, -1, f, -1, i)
		}
		add(candOf[term], f, -1)
		if prevTerm >= 0 {
			key := uint64(prevTerm)<<32 | uint64(term)
			ci, ok := pairs[key]
			if !ok {
				ci = newCand(prevTerm, term, prevForm, f, i)
				pairs[key] = ci
			}
			add(ci, prevForm, f)
		}
		prevTerm, prevForm = term, f
	}
	type scored struct {
		cand int32
		s    float64
		pos  int32
	}
	var out []scored
	// phraseTF counts, for each term, its occurrences inside kept phrases.
	phraseTF := make([]int32, len(tw.terms))
	for ci := range cands {
		c := &cands[ci]
		if c.b >= 0 && c.tf < 2 {
			continue
		}
		s := 1 + math.Log(float64(c.tf))
		if c.b >= 0 {
			s *= 1.5
			phraseTF[c.a] += c.tf
			phraseTF[c.b] += c.tf
		}
		out = append(out, scored{int32(ci), s, c.first})
	}
	// A word found only inside its phrases adds nothing beside them.
	out = slices.DeleteFunc(out, func(s scored) bool {
		c := &cands[s.cand]
		return c.b < 0 && c.tf <= phraseTF[c.a]
	})
	// Ties go to the earlier word: titles and first lines name the
	// subject. No two candidates tie on both, so keeping the best n as
	// they come gives the order a sort of all of them would.
	better := func(a, b scored) bool { return a.s > b.s || a.s == b.s && a.pos < b.pos }
	top := make([]scored, 0, n+1)
	for _, s := range out {
		if len(top) == n && (n == 0 || !better(s, top[n-1])) {
			continue
		}
		k := len(top)
		for k > 0 && better(s, top[k-1]) {
			k--
		}
		top = slices.Insert(top, k, s)
		if len(top) > n {
			top = top[:n]
		}
	}
	out = top
	// Forms are counted as written ("The", "the"); only the keywords'
	// are lower-cased and added up.
	type lowerForm struct {
		text string
		n    int
	}
	var lowers []lowerForm
	kws := make([]Keyword, len(out))
	for i, s := range out {
		c := &cands[s.cand]
		lowers = lowers[:0]
		for k := c.forms; k >= 0; k = forms[k].next {
			f := &forms[k]
			text := strings.ToLower(tw.forms[f.a].text)
			if f.b >= 0 {
				text += " " + strings.ToLower(tw.forms[f.b].text)
			}
			k := slices.IndexFunc(lowers, func(l lowerForm) bool { return l.text == text })
			if k < 0 {
				lowers = append(lowers, lowerForm{text, 0})
				k = len(lowers) - 1
			}
			lowers[k].n += int(f.n)
		}
		// The most frequent form, the first alphabetically among equals
		// so that results are repeatable.
		best := lowers[0]
		for _, l := range lowers[1:] {
			if l.n > best.n || l.n == best.n && l.text < best.text {
				best = l
			}
		}
		kws[i] = Keyword{Text: best.text, Score: s.s / out[0].s}
	}
	return kws
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
