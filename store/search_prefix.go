package store

import (
	"context"
	"fmt"
	"strings"
)

// prefixWordsMax is how many words of the index a prefix may begin for a
// search on SQLite to look for them by name (sqliteExpandPrefixes); a
// prefix that begins more is left to FTS5.
//
// FTS5 answers a prefix by merging the lists of every word it begins into
// one, whole, before it returns the first match, however few are asked
// for: a search does it three times (the window, the counts bm25 ranks
// with, the snippets). At a million documents "cons*" (129 words) took
// 200 ms a merge, "th*" 2.4 s. Named, the words are read lazily, newest
// match first, as any OR of words is: the window stops at its size and
// the snippets read the page's rows only. Finding the words reads each
// one's list once, to the end, which is what bounds their number: "cons"
// took 40 ms.
const prefixWordsMax = 256

// sqliteExpandPrefixes returns q with each one-word prefix term that must
// match replaced, in its group, by the words of the index it begins: the
// same matches, ranked by each word's own weight. A prefix that begins no
// word or more than prefixWordsMax, a prefix phrase ("united sta*") and
// an excluded prefix are left as they are.
func (s *sqlStore) sqliteExpandPrefixes(ctx context.Context, q textQuery) (textQuery, error) {
	out := textQuery{none: q.none, all: make([][]queryTerm, len(q.all))}
	for i, group := range q.all {
		for _, t := range group {
			words, err := s.sqlitePrefixWords(ctx, t)
			if err != nil {
				return q, fmt.Errorf("the words of %s*: %w", t.text, err)
			}
			if words == nil {
				out.all[i] = append(out.all[i], t)
				continue
			}
			for _, w := range words {
				out.all[i] = append(out.all[i], queryTerm{text: w})
			}
		}
	}
	return out, nil
}

// sqlitePrefixWords returns the words of the index that prefix term t
// begins, or nil when it is not a one-word prefix or begins none or more
// than prefixWordsMax.
func (s *sqlStore) sqlitePrefixWords(ctx context.Context, t queryTerm) ([]string, error) {
	// Anything but letters and digits may split the prefix or fold
	// otherwise, which FTS5 then answers itself.
	if !t.prefix || !onlyWordChars(t.text) {
		return nil, nil
	}
	prefix := strings.ToLower(t.text)
	// The words it begins sort from prefix up to, not including, prefix
	// with its last byte incremented (a UTF-8 string's last byte is below
	// 0xC0).
	end := []byte(prefix)
	end[len(end)-1]++
	rows, err := s.r.QueryContext(ctx, "SELECT term FROM document_fts_vocab WHERE term >= $1 AND term < $2 LIMIT $3",
		prefix, string(end), prefixWordsMax+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var words []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, err
		}
		if strings.HasPrefix(w, prefix) {
			words = append(words, w)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(words) > prefixWordsMax {
		return nil, nil
	}
	return words, nil
}
