package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// snippetChars is how much of a long text PostgreSQL's ts_headline reads
// for a snippet: it parses all it is given, and the best passage of a long
// document is usually early. FTS5 needs no such cap.
const snippetChars = 200_000

// searchQuery builds one statement of a search: its arguments and the
// clauses every statement shares.
type searchQuery struct {
	s    *sqlStore
	p    *SearchParams
	q    textQuery
	args []any
	// match is the argument holding the rendered query.
	match string
	// ids is, on PostgreSQL, the window's document IDs, which pgWindow
	// found once for the hits and the facets.
	ids []string
}

func (b *searchQuery) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// from is the FROM and WHERE of the documents that match the query and the
// filters: t.document_id is the document's ID (t is its text on
// PostgreSQL, its row of document_text_ids on SQLite, where document_fts is
// its index row and t.id the text's row), and q the tsquery on PostgreSQL.
// d is the document, joined only when a filter or withDoc needs it: a
// window's matches need no more than their IDs.
func (b *searchQuery) from(withDoc bool) string {
	var sb strings.Builder
	withDoc = withDoc || b.p.filtered()
	doc := ""
	if withDoc {
		doc = " JOIN documents d ON d.id = t.document_id"
	}
	if b.s.pg() {
		sb.WriteString(" FROM document_text t" + doc + ", to_tsquery('simple', " + b.match + ") q WHERE t.tsv @@ q")
	} else {
		sb.WriteString(" FROM document_fts JOIN document_text_ids t ON t.id = document_fts.rowid" + doc + " WHERE document_fts MATCH " + b.match)
	}
	p := b.p
	eq := func(col, v string) {
		if v != "" {
			sb.WriteString(" AND " + col + " = " + b.arg(v))
		}
	}
	eq("d.state", string(p.State))
	eq("d.mime_type", p.MIMEType)
	eq("d.language", p.Language)
	eq("d.parent_id", p.ParentID)
	for _, r := range []struct {
		col, op string
		t       any
	}{
		{"d.created_at", ">=", b.s.ts(p.CreatedFrom)}, {"d.created_at", "<", b.s.ts(p.CreatedBefore)},
		{"d.updated_at", ">=", b.s.ts(p.UpdatedFrom)}, {"d.updated_at", "<", b.s.ts(p.UpdatedBefore)},
	} {
		if r.t != nil {
			sb.WriteString(" AND " + r.col + " " + r.op + " " + b.arg(r.t))
		}
	}
	for _, l := range p.Labels {
		sb.WriteString(" AND EXISTS (SELECT 1 FROM labels l WHERE l.document_id = d.id AND l.label = " + b.arg(l) + ")")
	}
	for _, t := range p.Tags {
		sb.WriteString(" AND EXISTS (SELECT 1 FROM document_tags dt JOIN tags tg ON tg.id = dt.tag_id WHERE dt.document_id = d.id AND tg.name_key = " + b.arg(tagKey(t)) + ")")
	}
	return sb.String()
}

// window is the statement of the SearchWindow matches most recently
// indexed, as rows of document IDs (id) and, on SQLite, text rows (rid).
// Walking the index in row order lets it stop at the window instead of
// reading every match.
func (b *searchQuery) window() string {
	if b.s.pg() {
		return "SELECT unnest(" + b.arg(b.ids) + "::text[]) AS id"
	}
	return "SELECT t.document_id AS id, document_fts.rowid AS rid" + b.from(false) + " ORDER BY document_fts.rowid DESC LIMIT " + fmt.Sprint(SearchWindow)
}

// pgWindowSpans are the spans of most recent texts, in windows, that
// pgWindow looks for matches in, one after the other, before all of them.
var pgWindowSpans = []int{16, 128}

// pgWindow returns the IDs of the SearchWindow most recent documents that
// match on PostgreSQL, newest first. Two plans read them, and the planner
// chose the wrong one: walking the primary key backwards, testing each
// text's tsvector (read from TOAST), stops early for a common word but
// reads the whole table for a rare one; reading the matches through the
// GIN index is fast for a rare word but visits every one of a common
// word's (half of a million rows). So the matches are read through the GIN
// index (plain index scans, the backward walk, are turned off), ANDed with
// a range of the most recent texts' IDs, 16 windows' worth first, then 128,
// then all: a word in one text of 16 fills the window from the first
// range, a rarer one has few matches to visit. Any range holding a full
// window holds the most recent matches, since the range is the newest
// texts. work_mem lets the bitmap of a common word's matches stay exact,
// so no row's tsvector is read again; JIT compiling, which the large cost
// estimates of GIN scans trigger, costs more than these queries.
func (s *sqlStore) pgWindow(ctx context.Context, p *SearchParams, q textQuery) ([]string, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"); err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	for _, span := range append(slices.Clone(pgWindowSpans), 0) {
		b := newSearchQuery(s, p, q, nil)
		query := "SELECT t.document_id" + b.from(false)
		if span > 0 {
			var lo string
			err := tx.QueryRowContext(ctx, "SELECT document_id FROM document_text ORDER BY document_id DESC OFFSET $1 LIMIT 1", span*SearchWindow).Scan(&lo)
			if errors.Is(err, sql.ErrNoRows) {
				continue // fewer texts than the span: all of them
			}
			if err != nil {
				return nil, fmt.Errorf("window: the range of %d texts: %w", span*SearchWindow, err)
			}
			query += " AND t.document_id >= " + b.arg(lo)
		}
		query += " ORDER BY t.document_id DESC LIMIT " + fmt.Sprint(SearchWindow)
		ids, err := pgWindowIDs(ctx, tx, query, b.args)
		if err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		if len(ids) >= SearchWindow || span == 0 {
			return ids, nil
		}
	}
	panic("unreachable: the last span is all texts")
}

func pgWindowIDs(ctx context.Context, tx *sql.Tx, query string, args []any) ([]string, error) {
	if _, err := tx.ExecContext(ctx, "SET LOCAL enable_indexscan = off"); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, "SET LOCAL enable_indexscan = on")
	return ids, err
}

// filtered reports whether p keeps only some documents by their fields,
// which the search then reads for each match.
func (p *SearchParams) filtered() bool {
	return p.State != "" || p.MIMEType != "" || p.Language != "" || p.ParentID != "" ||
		!p.CreatedFrom.IsZero() || !p.CreatedBefore.IsZero() || !p.UpdatedFrom.IsZero() || !p.UpdatedBefore.IsZero() ||
		len(p.Labels) > 0 || len(p.Tags) > 0
}

func newSearchQuery(s *sqlStore, p *SearchParams, q textQuery, ids []string) *searchQuery {
	b := &searchQuery{s: s, p: p, q: q, ids: ids}
	if s.pg() {
		b.match = b.arg(q.tsquery())
	} else {
		b.match = b.arg(q.fts5())
	}
	return b
}

func (s *sqlStore) Search(ctx context.Context, p *SearchParams) (*SearchResult, error) {
	res, err := s.search(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", p.Query, err)
	}
	return res, nil
}

func (s *sqlStore) search(ctx context.Context, p *SearchParams) (*SearchResult, error) {
	limit, err := p.validate()
	if err != nil {
		return nil, err
	}
	var after *searchCursor
	if p.Cursor != "" {
		c, err := p.decodeCursor(p.Cursor)
		if err != nil {
			return nil, err
		}
		after = &c
	}
	q := parseQuery(p.Query)
	res := &SearchResult{}
	if q.empty() {
		if p.Facets {
			res.Facets = &SearchFacets{}
		}
		return res, nil
	}
	if s.fts != nil {
		if err := s.fts.flush(ctx); err != nil {
			return nil, err
		}
	}
	var ids []string
	if s.pg() && (p.sort() == SortRelevance || p.Facets) {
		if ids, err = s.pgWindow(ctx, p, q); err != nil {
			return nil, err
		}
	}
	hits, rids, windowed, err := s.searchHits(ctx, p, q, ids, after, limit+1)
	if err != nil {
		return nil, err
	}
	res.Windowed = windowed
	if len(hits) > limit {
		hits, rids = hits[:limit], rids[:limit]
		last := hits[limit-1]
		res.Next = p.encodeCursor(searchCursor{score: last.Score, id: last.Document.ID})
	}
	if err := s.searchSnippets(ctx, q, hits, rids); err != nil {
		return nil, err
	}
	res.Hits = hits
	if p.Facets {
		res.Facets, err = s.searchFacets(ctx, p, q, ids)
		if err != nil {
			return nil, err
		}
		res.Windowed = res.Facets.Counted >= SearchWindow
	}
	return res, nil
}

// searchHits reads a page of hits (limit of them) after the cursor, without
// their snippets, and on SQLite the rows of their texts in the index; and
// whether relevance ranked a full window.
func (s *sqlStore) searchHits(ctx context.Context, p *SearchParams, q textQuery, ids []string, after *searchCursor, limit int) (hits []SearchHit, rids []int64, windowed bool, err error) {
	b := newSearchQuery(s, p, q, ids)
	var query string
	// The window is ranked and cut to the page before the page's documents
	// are read: reading a window's documents would read thousands of wide
	// rows for a page of them.
	var ranked string
	switch sort := p.sort(); {
	case sort == SortRelevance && s.pg():
		// ts_rank_cd reads each match's tsvector: only the window's.
		// Normalisation 1 divides by 1 + log(length), so a long text
		// does not win by length alone.
		ranked = `
				SELECT w.id, ts_rank_cd(t.tsv, q, 1)::float8 AS score, 0::bigint AS rid, count(*) OVER () AS n
				FROM (` + b.window() + `) w
				JOIN document_text t ON t.document_id = w.id, to_tsquery('simple', ` + b.match + `) q`
	case sort == SortRelevance:
		// bm25 is lower for better matches; Score is higher for better.
		ranked = `
				SELECT w.id, w.rid, w.score, count(*) OVER () AS n FROM (
					SELECT t.document_id AS id, document_fts.rowid AS rid, -bm25(document_fts) AS score` + b.from(false) + `
					ORDER BY document_fts.rowid DESC LIMIT ` + fmt.Sprint(SearchWindow) + `
				) w`
	}
	switch sort := p.sort(); {
	case sort == SortRelevance:
		page := "SELECT id, score, rid, n FROM (" + ranked + ") r"
		if after != nil {
			page += " WHERE (r.score < " + b.arg(after.score) + " OR (r.score = " + b.arg(after.score) + " AND r.id < " + b.arg(after.id) + "))"
		}
		page += " ORDER BY r.score DESC, r.id DESC LIMIT " + b.arg(limit)
		query = `SELECT ` + docCols("d") + `, p.score, p.rid, p.n FROM (` + page + `) p JOIN documents d ON d.id = p.id ORDER BY p.score DESC, p.id DESC`
	default:
		// By date: IDs are ULIDs, which sort by creation time.
		op, dir := "<", "DESC"
		if sort == SortOldest {
			op, dir = ">", "ASC"
		}
		rid := "0"
		if !s.pg() {
			rid = "t.id"
		}
		query = "SELECT " + docCols("d") + ", 0, " + rid + ", 0" + b.from(true)
		if after != nil {
			query += " AND d.id " + op + " " + b.arg(after.id)
		}
		query += " ORDER BY d.id " + dir + " LIMIT " + b.arg(limit)
	}
	rows, err := s.r.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h      SearchHit
			rid, n int64
		)
		d, err := scanDocument(rows, &h.Score, &rid, &n)
		if err != nil {
			return nil, nil, false, err
		}
		h.Document = *d
		hits = append(hits, h)
		rids = append(rids, rid)
		windowed = n >= SearchWindow
	}
	return hits, rids, windowed, rows.Err()
}

// searchSnippets makes the snippets of a page of hits: only of the page,
// since making one re-reads the text and is the costly part of a search.
func (s *sqlStore) searchSnippets(ctx context.Context, q textQuery, hits []SearchHit, rids []int64) error {
	if len(hits) == 0 {
		return nil
	}
	var (
		query string
		args  []any
	)
	if s.pg() {
		args = []any{q.tsquery(), "StartSel=" + markStart + ", StopSel=" + markEnd + ", MinWords=15, MaxWords=35"}
		for _, h := range hits {
			args = append(args, h.Document.ID)
		}
		query = `SELECT t.document_id, ts_headline('simple', left(t.text, ` + fmt.Sprint(snippetChars) + `), to_tsquery('simple', $1), $2)
			FROM document_text t WHERE t.document_id IN (` + params(3, len(hits)) + `)`
	} else {
		args = []any{q.fts5(), markStart, markEnd}
		for _, rid := range rids {
			args = append(args, rid)
		}
		query = `SELECT t.document_id, snippet(document_fts, 0, $2, $3, '…', 24)
			FROM document_fts JOIN document_text t ON t.id = document_fts.rowid
			WHERE document_fts MATCH $1 AND document_fts.rowid IN (` + params(4, len(rids)) + `)`
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("snippets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, snippet string
		if err := rows.Scan(&id, &snippet); err != nil {
			return fmt.Errorf("snippets: %w", err)
		}
		for i := range hits {
			if hits[i].Document.ID == id {
				hits[i].Snippet = parseSnippet(strings.TrimSpace(snippet))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snippets: %w", err)
	}
	return nil
}

// searchFacets counts the window's documents by type, language, state and tag,
// in one statement that reads the window once.
func (s *sqlStore) searchFacets(ctx context.Context, p *SearchParams, q textQuery, ids []string) (*SearchFacets, error) {
	b := newSearchQuery(s, p, q, ids)
	if s.pg() {
		b.args = nil // the window is its IDs: the query is not read again
	}
	query := `
		WITH w AS MATERIALIZED (SELECT d.id, d.mime_type, d.language, d.state FROM documents d WHERE d.id IN (SELECT id FROM (` + b.window() + `) x))
		SELECT 'total', '', count(*) FROM w
		UNION ALL SELECT 'type', mime_type, count(*) FROM w GROUP BY mime_type
		UNION ALL SELECT 'language', language, count(*) FROM w WHERE language IS NOT NULL AND language <> '' GROUP BY language
		UNION ALL SELECT 'state', state, count(*) FROM w GROUP BY state
		UNION ALL SELECT 'tag', tg.name, count(*) FROM w JOIN document_tags dt ON dt.document_id = w.id JOIN tags tg ON tg.id = dt.tag_id GROUP BY tg.name`
	rows, err := s.r.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	f := &SearchFacets{}
	for rows.Next() {
		var (
			facet, value string
			n            int
		)
		if err := rows.Scan(&facet, &value, &n); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
		c := FacetCount{Value: value, Count: n}
		switch facet {
		case "total":
			f.Counted = n
		case "type":
			f.Type = append(f.Type, c)
		case "language":
			f.Language = append(f.Language, c)
		case "state":
			f.State = append(f.State, c)
		case "tag":
			f.Tag = append(f.Tag, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	for _, l := range []*[]FacetCount{&f.Type, &f.Language, &f.State, &f.Tag} {
		sortFacet(l)
	}
	return f, nil
}

// sortFacet orders a facet's values by count, largest first, then value,
// and keeps the first FacetValuesMax.
func sortFacet(l *[]FacetCount) {
	slices.SortFunc(*l, func(a, b FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(*l) > FacetValuesMax {
		*l = (*l)[:FacetValuesMax]
	}
}
