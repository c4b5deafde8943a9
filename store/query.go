package store

import (
	"strings"
	"unicode"
)

// textQuery is a parsed search query. Both backends read the same parse, so
// a query means the same on each: PostgreSQL gets it back as a
// websearch_to_tsquery string, SQLite as an FTS5 expression. Parsing
// ourselves also keeps user input away from FTS5's own syntax, where a stray
// quote, colon or asterisk is an error.
type textQuery struct {
	// all holds the alternatives that must each match: every group must
	// match, and one term of a group is enough.
	all [][]string
	// none holds terms that must not match.
	none []string
}

// parseQuery parses words, "quoted phrases", OR between terms and -term to
// exclude a term. Terms without a letter or digit are dropped, since the
// index holds no such term.
func parseQuery(q string) textQuery {
	type item struct {
		text     string
		neg, or_ bool
	}
	var items []item
	for i := 0; i < len(q); {
		r := rune(q[i])
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' {
			i++
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
		text = strings.Join(strings.Fields(text), " ")
		if !strings.ContainsFunc(text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		items = append(items, item{text: text, neg: neg})
	}
	var tq textQuery
	joinNext := false
	for k, it := range items {
		switch {
		case it.or_:
			// OR joins the positive terms either side of it.
			joinNext = len(tq.all) > 0 && k > 0 && !items[k-1].neg && !items[k-1].or_
		case it.neg:
			tq.none = append(tq.none, it.text)
			joinNext = false
		case joinNext:
			last := len(tq.all) - 1
			tq.all[last] = append(tq.all[last], it.text)
			joinNext = false
		default:
			tq.all = append(tq.all, []string{it.text})
		}
	}
	return tq
}

// empty reports whether the query can match nothing: with no term that must
// match, a query of exclusions alone would match almost everything, which no
// one searching means.
func (q textQuery) empty() bool { return len(q.all) == 0 }

// websearch renders the query for PostgreSQL's websearch_to_tsquery.
func (q textQuery) websearch() string {
	var b strings.Builder
	for _, group := range q.all {
		for k, t := range group {
			if k > 0 {
				b.WriteString(" or ")
			} else if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(`"` + t + `"`)
		}
	}
	for _, t := range q.none {
		b.WriteString(` -"` + t + `"`)
	}
	return b.String()
}

// fts5 renders the query as an FTS5 MATCH expression. Every term is a quoted
// string, which FTS5 splits with the table's tokenizer into a phrase.
func (q textQuery) fts5() string {
	quote := func(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"` }
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
		s += " NOT " + quote(t)
	}
	return s
}
