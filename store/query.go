package store

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textQuery is a parsed search query. Both backends read the same parse, so
// a query means the same on each: PostgreSQL gets it back as a to_tsquery
// string, SQLite as an FTS5 expression, every term of it quoted. Parsing
// ourselves keeps user input away from FTS5's and tsquery's own syntax,
// where a stray quote, colon or asterisk is an error or an operator.
type textQuery struct {
	// all holds the alternatives that must each match: every group must
	// match, and one term of a group is enough.
	all [][]queryTerm
	// none holds terms that must not match.
	none []queryTerm
}

// queryTerm is a word or a quoted phrase of a query.
type queryTerm struct {
	// text is the word or the phrase, its spaces collapsed.
	text string
	// prefix makes the term's last word match every word it begins
	// (invoi* matches invoice and invoicing).
	prefix bool
}

// parseQuery parses words, "quoted phrases", prefix* words, OR between
// terms and -term to exclude a term. Terms without a letter or digit are
// dropped, since the index holds no such term.
func parseQuery(q string) textQuery {
	type item struct {
		term     queryTerm
		neg, or_ bool
	}
	// Control characters (NUL ends an FTS5 string) and invalid UTF-8
	// (which PostgreSQL refuses) separate words, as spaces do.
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(q, " "))
	var items []item
	for i := 0; i < len(q); {
		// Every space separates words, as the scan of a word below ends at
		// one: a word cannot start at a space it would end at at once (a
		// no-break space looped here for ever).
		if r, n := utf8.DecodeRuneInString(q[i:]); unicode.IsSpace(r) {
			i += n
			continue
		}
		neg := false
		if q[i] == '-' {
			neg = true
			i++
		}
		var text string
		quoted := i < len(q) && q[i] == '"'
		if quoted {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				text, i = q[i+1:], len(q)
			} else {
				text, i = q[i+1:i+1+end], i+1+end+1
			}
		} else {
			end := strings.IndexFunc(q[i:], func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(q) - i
			}
			text, i = q[i:i+end], i+end
		}
		if !quoted && !neg && strings.EqualFold(text, "or") {
			items = append(items, item{or_: true})
			continue
		}
		// A word ending in * is a prefix; a phrase is matched as written.
		prefix := false
		if !quoted {
			trimmed := strings.TrimRight(text, "*")
			prefix = len(trimmed) < len(text)
			text = trimmed
		}
		text = strings.Join(strings.Fields(text), " ")
		if !hasWordChar(text) {
			continue
		}
		items = append(items, item{term: queryTerm{text: text, prefix: prefix}, neg: neg})
	}
	var tq textQuery
	joinNext := false
	for k, it := range items {
		switch {
		case it.or_:
			// OR joins the positive terms either side of it.
			joinNext = len(tq.all) > 0 && k > 0 && !items[k-1].neg && !items[k-1].or_
		case it.neg:
			tq.none = append(tq.none, it.term)
			joinNext = false
		case joinNext:
			last := len(tq.all) - 1
			tq.all[last] = append(tq.all[last], it.term)
			joinNext = false
		default:
			tq.all = append(tq.all, []queryTerm{it.term})
		}
	}
	return tq
}

// hasWordChar reports whether s holds a letter or a digit, without which
// the index holds no token of it.
func hasWordChar(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })
}

// onlyWordChars reports whether s holds letters and digits only: both
// indexes keep such a word in one token, folding its case as ToLower does,
// so it can be looked up by name (a lexeme's statistics, a prefix's words).
func onlyWordChars(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// empty reports whether the query can match nothing: with no term that must
// match, a query of exclusions alone would match almost everything, which no
// one searching means.
func (q textQuery) empty() bool { return len(q.all) == 0 }

// tsquery renders the query for PostgreSQL's to_tsquery('simple', …). Each
// term is a quoted value, which to_tsquery splits with the same parser as
// the index (so "thank you" becomes 'thank' <-> 'you'); inside quotes only
// the quote and the backslash are special, and both are escaped.
func (q textQuery) tsquery() string {
	s, _ := q.tsqueryOf(false)
	return s
}

// looseTsquery renders the query with each phrase as the AND of its words,
// and without excluded phrases: it matches every text the query matches,
// and more. The GIN index answers it exactly, where a phrase makes
// PostgreSQL read each candidate's tsvector to check word positions. It
// reports whether it differs from tsquery, that is whether the query holds
// a phrase.
func (q textQuery) looseTsquery() (string, bool) {
	return q.tsqueryOf(true)
}

func (q textQuery) tsqueryOf(loose bool) (string, bool) {
	differs := false
	quote := func(t queryTerm) string {
		words := []string{t.text}
		if loose {
			words = strings.Fields(t.text)
		}
		for i, w := range words {
			words[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w) + "'"
		}
		if t.prefix {
			words[len(words)-1] += ":*"
		}
		if len(words) == 1 {
			return words[0]
		}
		differs = true
		return "(" + strings.Join(words, " & ") + ")"
	}
	groups := make([]string, len(q.all))
	for i, group := range q.all {
		terms := make([]string, len(group))
		for k, t := range group {
			terms[k] = quote(t)
		}
		groups[i] = "(" + strings.Join(terms, " | ") + ")"
	}
	s := strings.Join(groups, " & ")
	for _, t := range q.none {
		if loose && strings.Contains(t.text, " ") {
			differs = true
			continue // a superset of the matches may hold the phrase
		}
		s += " & !" + quote(t)
	}
	return s, differs
}

// fts5 renders the query as an FTS5 MATCH expression. Every term is a quoted
// string, which FTS5 splits with the table's tokenizer into a phrase; a
// prefix term's phrase is followed by *, which makes its last token a
// prefix.
func (q textQuery) fts5() string {
	s, _ := q.fts5Of(false)
	return s
}

// looseFTS5 is fts5 with each phrase as the AND of its words, and without
// excluded phrases, as looseTsquery: it matches every text the query
// matches, and more. It reports whether it differs from fts5, that is
// whether the query holds a phrase.
func (q textQuery) looseFTS5() (string, bool) {
	return q.fts5Of(true)
}

func (q textQuery) fts5Of(loose bool) (string, bool) {
	differs := false
	quoteOne := func(text string, prefix bool) string {
		s := `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
		if prefix {
			s += " *"
		}
		return s
	}
	quote := func(t queryTerm) string {
		words := strings.Fields(t.text)
		if !loose || len(words) < 2 {
			return quoteOne(t.text, t.prefix)
		}
		differs = true
		// A word without a letter or digit is no token, and FTS5
		// matches nothing for an empty phrase: it is left out.
		words = slices.DeleteFunc(words, func(w string) bool { return !hasWordChar(w) })
		for i, w := range words {
			words[i] = quoteOne(w, t.prefix && i == len(words)-1)
		}
		return "(" + strings.Join(words, " AND ") + ")"
	}
	groups := make([]string, len(q.all))
	for i, group := range q.all {
		terms := make([]string, len(group))
		for k, t := range group {
			terms[k] = quote(t)
		}
		groups[i] = strings.Join(terms, " OR ")
		if len(group) > 1 {
			groups[i] = "(" + groups[i] + ")"
		}
	}
	s := "(" + strings.Join(groups, " AND ") + ")"
	for _, t := range q.none {
		if loose && strings.Contains(t.text, " ") {
			differs = true
			continue // a superset of the matches may hold the phrase
		}
		s += " NOT " + quote(t)
	}
	return s, differs
}

// terms lists the words a query looks for, for highlighting them where the
// index does not (a document's whole text in the UI): the positive terms,
// lowercased, prefixes marked with a trailing *.
func (q textQuery) terms() []string {
	var out []string
	for _, group := range q.all {
		for _, t := range group {
			s := strings.ToLower(t.text)
			if t.prefix {
				s += "*"
			}
			out = append(out, s)
		}
	}
	return out
}
