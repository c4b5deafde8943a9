package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// A search's window on PostgreSQL is read by one of several plans (see
// planPGWindow), and which is fastest depends on how many texts the words
// are in and how many documents the filters keep. PostgreSQL's own
// statistics say so: how common a word is (pg_stats.most_common_elems of
// document_text.tsv, the most common lexemes of ANALYZE's sample), how many
// documents a state, type or language keeps (most_common_vals of
// documents) and how many texts there are (pg_class.reltuples).

// pgStatsTTL is how long the statistics read from pg_stats are used: they
// change when ANALYZE runs (autovacuum's), seldom.
const pgStatsTTL = 5 * time.Minute

// pgSearchStats are the shares (0 to 1) of the texts that hold a lexeme and
// of the documents with a column's value, as last read.
type pgSearchStats struct {
	at time.Time
	// lexemes are the most common lexemes' shares; lexemeMin the smallest
	// of them, above the share of any lexeme not listed. Empty before the
	// table was first analysed: nothing is then estimated.
	lexemes   map[string]float64
	lexemeMin float64
	// cols holds, for state, mime_type and language, the shares of their
	// most common values, and colMin the smallest of each.
	cols   map[string]map[string]float64
	colMin map[string]float64
	// texts is how many texts document_text holds (pg_class.reltuples),
	// 0 before it was first analysed.
	texts float64
}

// pgStatsCache holds the statistics of one store.
type pgStatsCache struct {
	mu    sync.Mutex
	stats *pgSearchStats
}

// get returns the statistics, read again once older than pgStatsTTL. nil
// when they cannot be read: the search then tries every range.
func (c *pgStatsCache) get(ctx context.Context, db *sql.DB, now time.Time) *pgSearchStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats != nil && now.Sub(c.stats.at) < pgStatsTTL {
		return c.stats
	}
	st, err := readPGSearchStats(ctx, db)
	if err != nil {
		// Not a failure of the search: it only loses the shortcut.
		st = &pgSearchStats{}
	}
	st.at = now
	c.stats = st
	return st
}

func readPGSearchStats(ctx context.Context, db *sql.DB) (*pgSearchStats, error) {
	st := &pgSearchStats{lexemes: map[string]float64{}, cols: map[string]map[string]float64{}, colMin: map[string]float64{}}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(reltuples), 0) FROM pg_class
		WHERE oid = to_regclass(quote_ident(current_schema()) || '.document_text')`).Scan(&st.texts); err != nil {
		return nil, fmt.Errorf("text count: %w", err)
	}
	rows, err := db.QueryContext(ctx, `
		SELECT e, f FROM pg_stats, unnest(most_common_elems::text::text[], most_common_elem_freqs) AS u(e, f)
		WHERE schemaname = current_schema() AND tablename = 'document_text' AND attname = 'tsv' AND e IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("lexeme statistics: %w", err)
	}
	for rows.Next() {
		var (
			e string
			f float64
		)
		if err := rows.Scan(&e, &f); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lexeme statistics: %w", err)
		}
		st.lexemes[e] = f
		if st.lexemeMin == 0 || f < st.lexemeMin {
			st.lexemeMin = f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lexeme statistics: %w", err)
	}
	rows, err = db.QueryContext(ctx, `
		SELECT attname, v, f FROM pg_stats, unnest(most_common_vals::text::text[], most_common_freqs) AS u(v, f)
		WHERE schemaname = current_schema() AND tablename = 'documents' AND attname IN ('state', 'mime_type', 'language')`)
	if err != nil {
		return nil, fmt.Errorf("column statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			col, v string
			f      float64
		)
		if err := rows.Scan(&col, &v, &f); err != nil {
			return nil, fmt.Errorf("column statistics: %w", err)
		}
		if st.cols[col] == nil {
			st.cols[col] = map[string]float64{}
		}
		st.cols[col][v] = f
		if m, ok := st.colMin[col]; !ok || f < m {
			st.colMin[col] = f
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("column statistics: %w", err)
	}
	return st, nil
}

// pgEstimate is what the statistics say of a search's matches.
type pgEstimate struct {
	// words is the share of the texts that match the window's query (each
	// phrase's words ANDed, as looseTsquery) and filters the share of the
	// documents the filters keep: the matches are words*filters of the
	// texts, words and filters taken as independent.
	words, filters float64
	// postings is the GIN index's work for the query, in entries of a
	// word's list, as a share of the texts: every word's whole list, each
	// entry of a prefix's lists counted pgCostPrefixPosting times.
	postings float64
	// col and val are the filter on an indexed column of documents (state
	// or type) that keeps the fewest documents, colShare its share; col is
	// empty without such a filter.
	col, val string
	colShare float64
	// texts is how many texts the table holds.
	texts float64
}

// prefix estimates the share of the texts holding a word that w begins:
// the sum of the most common such words' shares, which counts a text
// holding several of them more than once (a range sized on it may come up
// short, and is then widened), or a guess below the least common word's
// share when none is among them.
func (st *pgSearchStats) prefix(w string) (float64, bool) {
	if !onlyWordChars(w) {
		return 0, false
	}
	w = strings.ToLower(w)
	sum := 0.0
	for l, f := range st.lexemes {
		if strings.HasPrefix(l, w) {
			sum += f
		}
	}
	if sum == 0 {
		return st.lexemeMin / 4, true
	}
	return min(sum, 1), true
}

// share is the estimated share of the texts that are matches.
func (e *pgEstimate) share() float64 { return e.words * e.filters }

// estimate estimates the window's matches, or returns false when it
// cannot: no statistics yet, a word or prefix the index splits or changes
// (the estimate would look up the wrong lexeme), or a filter the
// statistics do not cover.
func (st *pgSearchStats) estimate(p *SearchParams, q textQuery) (*pgEstimate, bool) {
	if st == nil || len(st.lexemes) == 0 || st.texts <= 0 {
		return nil, false
	}
	word := func(w string) (float64, bool) {
		if !onlyWordChars(w) {
			return 0, false
		}
		if f, ok := st.lexemes[strings.ToLower(w)]; ok {
			return f, true
		}
		// Not among the most common: rarer than the least common of them.
		// A quarter of that is a guess; a wrong one costs a wider range.
		return st.lexemeMin / 4, true
	}
	e := &pgEstimate{words: 1, filters: 1, texts: st.texts}
	for _, group := range q.all {
		g := 0.0
		for _, t := range group {
			words := strings.Fields(t.text)
			if t.prefix && len(words) != 1 {
				return nil, false
			}
			s := 1.0
			for _, w := range words {
				f, ok := word(w)
				if t.prefix {
					f, ok = st.prefix(w)
				}
				if !ok {
					return nil, false
				}
				s *= f
				if t.prefix {
					e.postings += f * pgCostPrefixPosting
				} else {
					e.postings += f
				}
			}
			g += s
		}
		e.words *= min(g, 1)
	}
	if p.ParentID != "" || !p.CreatedFrom.IsZero() || !p.CreatedBefore.IsZero() || !p.UpdatedFrom.IsZero() ||
		!p.UpdatedBefore.IsZero() || len(p.Labels) > 0 || len(p.Tags) > 0 {
		return nil, false
	}
	for _, f := range []struct {
		col, v  string
		indexed bool
	}{{"state", string(p.State), true}, {"mime_type", p.MIMEType, true}, {"language", p.Language, false}} {
		if f.v == "" {
			continue
		}
		vals, ok := st.cols[f.col]
		if !ok {
			return nil, false
		}
		s, ok := vals[f.v]
		if !ok {
			s = st.colMin[f.col] / 4
		}
		e.filters *= s
		if f.indexed && (e.col == "" || s < e.colShare) {
			e.col, e.val, e.colShare = f.col, f.v, s
		}
	}
	return e, true
}
