package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// On PostgreSQL a snippet is made here from the hit's text (makeSnippet),
// not by ts_headline: the server's text parser took 6-22 ms a page of
// twenty hits, the longest step of a search after its window, and work
// taken off the database is work that scales with the web processes. A
// snippet is looked for in the text's first snippetHead characters, and
// only for a text whose head holds no match up to snippetChars: the best
// passage of a long document is usually early, and a page of long texts
// is then not sent whole. FTS5 makes its snippets from its own index.
const (
	snippetHead  = 16_384
	snippetChars = 200_000
)

// searchQuery builds one statement of a search: its arguments and the
// clauses every statement shares.
type searchQuery struct {
	s    *sqlStore
	p    *SearchParams
	q    textQuery
	args []any
	// match is the argument holding the rendered query.
	match string
	// ids is the window's document IDs, found once (searchWindow) for the
	// hits and the facets.
	ids []string
}

func (b *searchQuery) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// from is the FROM and WHERE of the documents that match the query and the
// filters: t.document_id is the document's ID (t is its text on
// PostgreSQL, its row of document_text_ids on SQLite, where document_fts is
// its index row, t.id the text's row, and t.state, t.mime_type and
// t.language copies of the document's), and q the tsquery on PostgreSQL.
// d is the document, joined only when a filter or withDoc needs it: a
// window's matches need no more than their IDs.
func (b *searchQuery) from(withDoc bool) string {
	return b.fromDoc(withDoc, " JOIN documents d ON d.id = t.document_id")
}

// fromDoc is from with the join of the documents given.
func (b *searchQuery) fromDoc(withDoc bool, doc string) string {
	var sb strings.Builder
	if !withDoc && !b.p.needsDocument(b.s.pg()) {
		doc = ""
	}
	// On SQLite the filters most searches use are read from the match's
	// row (migration 0012), which the walk of the matches reads anyway; on
	// PostgreSQL the type only (migration 0010).
	if b.s.pg() {
		sb.WriteString(" FROM document_text t" + doc + ", to_tsquery('simple', " + b.match + ") q WHERE t.tsv @@ q")
		sb.WriteString(b.filters("d.", "t."))
	} else {
		sb.WriteString(" FROM document_fts JOIN document_text_ids t ON t.id = document_fts.rowid" + doc + " WHERE document_fts MATCH " + b.match)
		sb.WriteString(b.filters("t.", "t."))
	}
	return sb.String()
}

// filters is the conditions of the search's filters, each " AND ...", on
// t.document_id, the document d, the columns cols ("t." or "d.") of state
// and language, and typeCols' mime_type.
func (b *searchQuery) filters(cols, typeCols string) string {
	var sb strings.Builder
	p := b.p
	eq := func(col, v string) {
		if v != "" {
			sb.WriteString(" AND " + col + " = " + b.arg(v))
		}
	}
	eq(cols+"state", string(p.State))
	eq(typeCols+"mime_type", p.MIMEType)
	eq(cols+"language", p.Language)
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
		sb.WriteString(" AND EXISTS (SELECT 1 FROM labels l WHERE l.document_id = t.document_id AND l.label = " + b.arg(l) + ")")
	}
	for _, t := range p.Tags {
		sb.WriteString(" AND EXISTS (SELECT 1 FROM document_tags dt JOIN tags tg ON tg.id = dt.tag_id WHERE dt.document_id = t.document_id AND tg.name_key = " + b.arg(tagKey(t)) + ")")
	}
	return sb.String()
}

// window is the statement of the window's document IDs (id), which
// pgWindow found: the query is not run again.
func (b *searchQuery) window() string {
	return "SELECT unnest(" + b.arg(b.ids) + "::text[]) AS id"
}

// searchWindow is the matches a search ranks and counts: at most
// SearchWindow of them, the most recently indexed, newest first.
type searchWindow struct {
	ids []string
	// rids are, on SQLite, the matches' text rows in the index, and scores
	// their relevance (higher is better), when the window was ranked.
	rids   []int64
	scores []float64
	// cols are, on SQLite, the columns of the matches' documents that the
	// facets count.
	cols []facetColumns
	// full reports that the window was cut: older matches were left out.
	full bool
	// plan is, on PostgreSQL, how the window was read (pgWindowPlan.kind),
	// and tries how many plans were read for it.
	plan  string
	tries int
}

// facetColumns are the columns of a document that the facets count, but
// its tags.
type facetColumns struct {
	state, mimeType string
	language        sql.NullString
}

// sqliteWindow reads the window from the FTS5 index: walking it in row
// order, newest first, lets it stop at the window instead of reading every
// match, and the window is read once for the hits and the facets. Each
// match's row of document_text_ids holds its document's state, type and
// language (migration 0012), which the common filters test and the facets
// count; only the rarer filters (dates, parent) read each match's
// document.
//
// A phrase's window is that of its words (looseFTS5), as on PostgreSQL, and
// is then narrowed to the texts holding the phrase (sqlitePhrases): bm25
// counts, once per statement, the texts holding each phrase of the query
// in the whole index, which for a phrase means testing the positions in
// every text holding its words (0.4 to 1.2 seconds for two common words at
// a million texts), where walking the newest matches takes milliseconds.
func (s *sqlStore) sqliteWindow(ctx context.Context, p *SearchParams, q textQuery, ranked bool) (*searchWindow, error) {
	b := newSearchQuery(s, p, q, nil)
	loose, phrase := q.looseFTS5()
	score := "0"
	if phrase {
		b.args[0] = loose // b.match
	} else if ranked {
		// bm25 is lower for better matches; a score is higher for better.
		score = "-bm25(document_fts)"
	}
	query := "SELECT t.document_id, document_fts.rowid, " + score + ", t.state, t.mime_type, t.language" +
		b.from(false) +
		" ORDER BY document_fts.rowid DESC LIMIT " + fmt.Sprint(SearchWindow)
	rows, err := s.r.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	defer rows.Close()
	w := &searchWindow{}
	for rows.Next() {
		var (
			id    string
			rid   int64
			score float64
			c     facetColumns
		)
		if err := rows.Scan(&id, &rid, &score, &c.state, &c.mimeType, &c.language); err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		w.ids, w.rids, w.scores, w.cols = append(w.ids, id), append(w.rids, rid), append(w.scores, score), append(w.cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	w.full = len(w.ids) >= SearchWindow
	if phrase && len(w.ids) > 0 {
		if err := s.sqlitePhrases(ctx, q, loose, w, ranked); err != nil {
			return nil, fmt.Errorf("window: the phrases: %w", err)
		}
	}
	return w, nil
}

// sqlitePhrases keeps the window's texts that match the query with its
// phrases, in the window's order, and scores them (ranked) by the bm25 of
// the phrases' words (loose): the texts holding a phrase are then ranked
// by how often and how densely they say its words. FTS5 reads only the
// window's range of rows; the unary + keeps the list of rows from it, which
// it would otherwise run the query once for each of.
func (s *sqlStore) sqlitePhrases(ctx context.Context, q textQuery, loose string, w *searchWindow, ranked bool) error {
	rids, _ := json.Marshal(w.rids) // a []int64 always marshals
	lo, hi := slices.Min(w.rids), slices.Max(w.rids)
	inWindow := "document_fts.rowid BETWEEN $2 AND $3 AND +document_fts.rowid IN (SELECT value FROM json_each($4))"
	query := "SELECT document_fts.rowid, 0 FROM document_fts WHERE document_fts MATCH $1 AND " + inWindow
	args := []any{q.fts5(), lo, hi, string(rids)}
	if ranked {
		query = "SELECT document_fts.rowid, -bm25(document_fts) FROM document_fts WHERE document_fts MATCH $5" +
			" AND document_fts.rowid BETWEEN $2 AND $3 AND +document_fts.rowid IN (" +
			"SELECT document_fts.rowid FROM document_fts WHERE document_fts MATCH $1 AND " + inWindow + ")"
		args = append(args, loose)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	scores := make(map[int64]float64, len(w.rids))
	for rows.Next() {
		var (
			rid   int64
			score float64
		)
		if err := rows.Scan(&rid, &score); err != nil {
			return err
		}
		scores[rid] = score
	}
	if err := rows.Err(); err != nil {
		return err
	}
	kept := &searchWindow{full: w.full}
	for i, rid := range w.rids {
		if score, ok := scores[rid]; ok {
			kept.ids, kept.rids, kept.scores = append(kept.ids, w.ids[i]), append(kept.rids, rid), append(kept.scores, score)
			kept.cols = append(kept.cols, w.cols[i])
		}
	}
	*w = *kept
	return nil
}

// pgWindowSpans are the spans of most recent texts, in windows, that
// pgWindow looks for matches in, one after the other, before all of them,
// when the statistics cannot estimate the matches.
var pgWindowSpans = []int{16, 128}

// pgWindow returns the window on PostgreSQL: the IDs of the SearchWindow
// most recent documents that match, newest first. The planner's own choice
// was often the wrong one (it cannot know that the window stops early), so
// the search chooses: from PostgreSQL's statistics (pgEstimate) it reads
// the window by the cheapest of three plans (planPGWindow), the walk of the
// newest texts, the GIN index within a range of the newest texts, or the
// GIN index among the newest documents a filter keeps. A range or a set of
// documents that turns out to hold less than a window (the estimate was
// wrong) is read again, eight times wider, then the GIN index over all
// texts answers. Without an estimate (a tag, label, date or parent filter,
// a word the index splits, no statistics yet) the GIN index is read within
// the ranges of pgWindowSpans, then over all texts. Any range holding a
// full window holds the most recent matches, since the range is the newest
// texts. work_mem
// lets the bitmap of a common word's matches stay exact, so no row's
// tsvector is read again; JIT compiling, which the large cost estimates of
// GIN scans trigger, costs more than these queries; and each statement is
// planned for its own values (a set of documents' IDs is thousands long).
//
// A phrase is the exception the index cannot answer alone: it holds no
// word positions, so PostgreSQL would read the tsvector of every text
// holding the phrase's words, across the whole range, to test them (20
// seconds for two frequent words at a million documents). The window is
// therefore that of the looser query, each phrase's words ANDed, which the
// index answers exactly; the phrase is tested on the window's texts only.
// The window is then full when the looser query's was: the phrase's matches
// are those among the newest SearchWindow texts holding its words.
//
// A ranked window is scored (ts_rank_cd) by the statement that reads it,
// where each text's row is at hand, rather than by a statement of its own
// that would look every text up again by ID: the phrase's test, or for a
// window filtered by document columns a last statement, scores it.
func (s *sqlStore) pgWindow(ctx context.Context, p *SearchParams, q textQuery, ranked bool) (*searchWindow, error) {
	// The statistics are read before the window's transaction takes a
	// connection: never through the pool while holding one (see pgConn),
	// and a failure to read them, which only loses the shortcut, cannot
	// abort the transaction.
	var plans []pgWindowPlan
	e, ok := s.pgStats.get(ctx, s.r, time.Now()).estimate(p, q)
	if ok {
		plan := planPGWindow(e, p.needsDocument(true), p.without(e.col).needsDocument(true))
		plans = append(plans, plan)
		if plan.texts > 0 && float64(plan.texts)*8 < e.texts/2 {
			plans = append(plans, pgWindowPlan{kind: plan.kind, texts: plan.texts * 8})
		} else if plan.docs > 0 && float64(plan.docs)*8 < e.colShare*e.texts {
			plans = append(plans, pgWindowPlan{kind: plan.kind, docs: plan.docs * 8})
		}
		if plan.texts > 0 || plan.docs > 0 {
			// Not already all of them: what the plan finds may be short.
			plans = append(plans, pgWindowPlan{kind: "index"})
		}
	} else {
		for _, span := range pgWindowSpans {
			plans = append(plans, pgWindowPlan{kind: "index", texts: span * SearchWindow})
		}
		plans = append(plans, pgWindowPlan{kind: "index"})
	}
	// One snapshot for the statements of the window: a filter's documents
	// and their matches are read as of the same moment.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
		return nil, fmt.Errorf("window: %w", err)
	}
	loose, phrase := q.looseTsquery()
	for i, plan := range plans {
		pp := p
		// All texts: whatever it finds is all there is.
		complete := plan.texts == 0 && plan.docs == 0
		var cond func(b *searchQuery) string
		switch {
		case plan.texts > 0 || (plan.docs > 0 && e.col == "mime_type"):
			// The newest texts, or the newest of the type's texts, whose
			// row holds it (document_text_mime_type_id).
			n, of, where, args := plan.texts, "texts", "", []any{plan.texts}
			if plan.docs > 0 {
				n, of, where, args = plan.docs, "texts of type "+e.val, "WHERE mime_type = $2 ", []any{plan.docs, e.val}
			}
			var lo string
			err := tx.QueryRowContext(ctx, "SELECT document_id FROM document_text "+where+"ORDER BY document_id DESC OFFSET $1 LIMIT 1", args...).Scan(&lo)
			if errors.Is(err, sql.ErrNoRows) {
				if plan.texts > 0 {
					continue // fewer texts than the range: all of them
				}
				complete, cond = true, func(*searchQuery) string { return "" }
				break
			}
			if err != nil {
				return nil, fmt.Errorf("window: the range of %d %s: %w", n, of, err)
			}
			cond = func(b *searchQuery) string { return " AND t.document_id >= " + b.arg(lo) }
		case plan.docs < 0 && e.col == "mime_type":
			complete, cond = true, func(*searchQuery) string { return "" }
		case plan.docs != 0:
			// The filter's documents meet its condition.
			pp = p.without(e.col)
			limit := any(nil) // all of them
			if plan.docs > 0 {
				limit = plan.docs
			}
			ids, _, err := pgWindowRows(ctx, tx, "SELECT id FROM documents WHERE "+e.col+" = $1 ORDER BY id DESC LIMIT $2",
				[]any{e.val, limit}, "", false)
			if err != nil {
				return nil, fmt.Errorf("window: the newest %d documents of %s %s: %w", plan.docs, e.col, e.val, err)
			}
			complete = plan.docs < 0 || len(ids) < plan.docs
			// Ascending: the primary key's scan sorts the array it is
			// given before its descents, and PostgreSQL's sort returns at
			// once on sorted input, where 40,000 IDs newest first took
			// 25-65 ms to sort (each comparison a strcoll under the
			// database's collation).
			slices.Reverse(ids)
			cond = func(b *searchQuery) string { return " AND t.document_id = ANY(" + b.arg(ids) + "::text[])" }
		default:
			cond = func(*searchQuery) string { return "" }
		}
		// Only the walk reads the texts by their primary key; the other
		// plans read the GIN index's matches as a bitmap. (Left on, index
		// scans let the planner walk the range of a GIN plan testing each
		// text, even with an order the key cannot give: 0.4 s for a word in
		// 3% of the texts.)
		off := "enable_indexscan"
		if plan.kind == "walk" {
			off = "enable_bitmapscan"
		}
		statement := func(pp *SearchParams, limit int, scored bool) (string, []any) {
			b := newSearchQuery(s, pp, q, nil)
			b.args[0] = loose // b.match
			cols := "t.document_id"
			if scored {
				cols += ", t.tsv"
			}
			query := "SELECT " + cols + b.from(false) + cond(b) + " ORDER BY t.document_id DESC LIMIT " + fmt.Sprint(limit)
			if scored {
				// Scored once the window is cut, each text's tsvector
				// passed on from the row that was read.
				query = "SELECT w.document_id, ts_rank_cd(w.tsv, to_tsquery('simple', " + b.arg(q.tsquery()) + "), 1)::float8 FROM (" +
					query + ") w ORDER BY w.document_id DESC"
			}
			return query, b.args
		}
		var (
			ids    []string
			scores []float64
		)
		if plan.kind != "walk" && pp.needsDocument(true) {
			// Turned off, index scans would also turn off the index-only
			// lookups of the matches' documents (documents_search_columns):
			// a heap visit each, three times the time. So the matches in
			// the range are read first, newest first, then their documents
			// filtered. The newest pgJoinedMatchesMax matches answer when
			// a window of them passes the filters; only when fewer do are
			// the matches joined to their documents in one statement.
			query, args := statement(&SearchParams{MIMEType: pp.MIMEType}, s.pgJoinedMatchesMax+1, false)
			matches, _, err := pgWindowRows(ctx, tx, query, args, off, false)
			if err != nil {
				return nil, fmt.Errorf("window: %w", err)
			}
			cut := len(matches) > s.pgJoinedMatchesMax
			// The matches are of the type already.
			b := &searchQuery{s: s, p: pp.without("mime_type")}
			ids, _, err = pgWindowRows(ctx, tx, "SELECT t.document_id FROM unnest("+b.arg(matches[:min(len(matches), s.pgJoinedMatchesMax)])+
				"::text[]) AS t(document_id) JOIN documents d ON d.id = t.document_id WHERE true"+b.filters("d.", "d.")+
				" ORDER BY t.document_id DESC LIMIT "+fmt.Sprint(SearchWindow), b.args, "", false)
			if err != nil {
				return nil, fmt.Errorf("window: the matches' documents: %w", err)
			}
			if cut && len(ids) < SearchWindow {
				ids = nil
			}
		}
		if ids == nil {
			query, args := statement(pp, SearchWindow, ranked && !phrase)
			var err error
			if ids, scores, err = pgWindowRows(ctx, tx, query, args, off, ranked && !phrase); err != nil {
				return nil, fmt.Errorf("window: %w", err)
			}
		}
		if len(ids) < SearchWindow && !complete {
			continue
		}
		w := &searchWindow{ids: ids, scores: scores, full: len(ids) >= SearchWindow, plan: plan.kind, tries: i + 1}
		if len(ids) > 0 && (phrase || (ranked && scores == nil)) {
			// The texts are found by key, in the window's order, each
			// tested for the phrases and scored.
			query := "SELECT w.id"
			if ranked {
				// Normalisation 1 divides by 1 + log(length), so a long
				// text does not win by length alone.
				query += ", ts_rank_cd(t.tsv, q, 1)::float8"
			}
			query += " FROM unnest($1::text[]) WITH ORDINALITY w(id, n) JOIN document_text t ON t.document_id = w.id, to_tsquery('simple', $2) q"
			if phrase {
				query += " WHERE t.tsv @@ q"
			}
			if w.ids, w.scores, err = pgWindowRows(ctx, tx, query+" ORDER BY w.n", []any{ids, q.tsquery()}, "", ranked); err != nil {
				return nil, fmt.Errorf("window: the texts' phrases and scores: %w", err)
			}
		}
		return w, nil
	}
	panic("unreachable: the last plan is all texts")
}

// pgJoinedMatchesMax is how many of the newest matches of the words a
// window filtered by document columns reads before filtering their
// documents in a statement of their own.
const pgJoinedMatchesMax = 50_000

// pgWindowRows runs a statement of the window that returns IDs, and their
// scores when scored, with the plans of setting off (enable_indexscan or
// enable_bitmapscan) turned off for it, unless off is empty.
func pgWindowRows(ctx context.Context, tx *sql.Tx, query string, args []any, off string, scored bool) (ids []string, scores []float64, err error) {
	if off != "" {
		if _, err := tx.ExecContext(ctx, "SET LOCAL "+off+" = off"); err != nil {
			return nil, nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	ids = []string{}
	if scored {
		scores = []float64{}
	}
	for rows.Next() {
		var id string
		var score float64
		dest := []any{&id}
		if scored {
			dest = append(dest, &score)
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, nil, err
		}
		ids = append(ids, id)
		if scored {
			scores = append(scores, score)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if off != "" {
		_, err = tx.ExecContext(ctx, "SET LOCAL "+off+" = on")
	}
	return ids, scores, err
}

// without returns p without its filter on col (state or mime_type).
func (p *SearchParams) without(col string) *SearchParams {
	c := *p
	switch col {
	case "state":
		c.State = ""
	case "mime_type":
		c.MIMEType = ""
	}
	return &c
}

// needsDocument reports whether p keeps only some documents by fields the
// search then reads from each match's document: on SQLite, the state, type
// and language are read from the match's row instead, on PostgreSQL the
// type.
func (p *SearchParams) needsDocument(pg bool) bool {
	return (pg && (p.State != "" || p.Language != "")) || p.ParentID != "" ||
		!p.CreatedFrom.IsZero() || !p.CreatedBefore.IsZero() || !p.UpdatedFrom.IsZero() || !p.UpdatedBefore.IsZero()
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
		if q, err = s.sqliteExpandPrefixes(ctx, q); err != nil {
			return nil, err
		}
	}
	var w *searchWindow
	if p.sort() == SortRelevance || p.Facets {
		if s.pg() {
			w, err = s.pgWindow(ctx, p, q, p.sort() == SortRelevance)
		} else {
			w, err = s.sqliteWindow(ctx, p, q, p.sort() == SortRelevance)
		}
		if err != nil {
			return nil, err
		}
		res.Windowed = w.full
	}
	hits, rids, err := s.searchHits(ctx, p, q, w, after, limit+1)
	if err != nil {
		return nil, err
	}
	if len(hits) > limit {
		hits, rids = hits[:limit], rids[:limit]
		last := hits[limit-1]
		res.Next = p.encodeCursor(searchCursor{score: last.Score, id: last.Document.ID})
	}
	// The snippets and the facets read different rows; on PostgreSQL each
	// statement is a server process's work, so the two run side by side.
	var g errgroup.Group
	g.Go(func() error { return s.searchSnippets(ctx, q, hits, rids) })
	if p.Facets {
		g.Go(func() (err error) {
			if s.pg() {
				res.Facets, err = s.searchFacets(ctx, p, q, w.ids)
			} else {
				res.Facets, err = s.sqliteFacets(ctx, w)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res.Hits = hits
	return res, nil
}

// searchHits reads a page of hits (limit of them) after the cursor, without
// their snippets, and on SQLite the rows of their texts in the index. By
// relevance, the hits are the window's (w).
func (s *sqlStore) searchHits(ctx context.Context, p *SearchParams, q textQuery, w *searchWindow, after *searchCursor, limit int) (hits []SearchHit, rids []int64, err error) {
	if p.sort() == SortRelevance {
		return s.rankedHits(ctx, w, after, limit)
	}
	// By date: IDs are ULIDs, which sort by creation time.
	b := newSearchQuery(s, p, q, nil)
	op, dir := "<", "DESC"
	if p.sort() == SortOldest {
		op, dir = ">", "ASC"
	}
	rid := "0"
	if !s.pg() {
		rid = "t.id"
	}
	query := "SELECT " + docCols("d") + ", 0, " + rid + b.from(true)
	if after != nil {
		query += " AND d.id " + op + " " + b.arg(after.id)
	}
	query += " ORDER BY d.id " + dir + " LIMIT " + b.arg(limit)
	rows, err := s.r.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h   SearchHit
			rid int64
		)
		d, err := scanDocument(rows, &h.Score, &rid)
		if err != nil {
			return nil, nil, err
		}
		h.Document = *d
		hits = append(hits, h)
		rids = append(rids, rid)
	}
	return hits, rids, rows.Err()
}

// rankedHits pages through the window by relevance, which the window's
// reading scored, and reads the page's documents only: reading a window's
// documents would read thousands of wide rows for a page of them.
func (s *sqlStore) rankedHits(ctx context.Context, w *searchWindow, after *searchCursor, limit int) ([]SearchHit, []int64, error) {
	type match struct {
		id    string
		rid   int64
		score float64
	}
	var ms []match
	for i, id := range w.ids {
		m := match{id: id, score: w.scores[i]}
		if w.rids != nil {
			m.rid = w.rids[i]
		}
		if after == nil || m.score < after.score || (m.score == after.score && m.id < after.id) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b match) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	ms = ms[:min(limit, len(ms))]
	if len(ms) == 0 {
		return nil, nil, nil
	}
	args := make([]any, len(ms))
	for i, m := range ms {
		args[i] = m.id
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+docCols("d")+" FROM documents d WHERE d.id IN ("+params(1, len(ms))+")", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	docs := make(map[string]*Document, len(ms))
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, nil, err
		}
		docs[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	hits := make([]SearchHit, 0, len(ms))
	rids := make([]int64, 0, len(ms))
	for _, m := range ms {
		if d, ok := docs[m.id]; ok { // deleted since the window was read
			hits = append(hits, SearchHit{Document: *d, Score: m.score})
			rids = append(rids, m.rid)
		}
	}
	return hits, rids, nil
}

// searchSnippets makes the snippets of a page of hits: only of the page,
// since making one re-reads the text and is the costly part of a search.
func (s *sqlStore) searchSnippets(ctx context.Context, q textQuery, hits []SearchHit, rids []int64) error {
	if len(hits) == 0 {
		return nil
	}
	if s.pg() {
		return s.pgSnippets(ctx, q, hits)
	}
	// FTS5 is given the range of the page's rows, not the rows: it runs
	// the query once per value of an IN it is offered, and a prefix query
	// merges the lists of every word it begins each time (two seconds for
	// a page of twenty at a million texts). The unary + keeps the IN from
	// FTS5, which then reads the range once; SQLite drops the other rows
	// before snippet().
	args := []any{q.fts5(), markStart, markEnd, slices.Min(rids), slices.Max(rids)}
	for _, rid := range rids {
		args = append(args, rid)
	}
	query := `SELECT t.document_id, snippet(document_fts, 0, $2, $3, '…', 24)
		FROM document_fts JOIN document_text t ON t.id = document_fts.rowid
		WHERE document_fts MATCH $1 AND document_fts.rowid BETWEEN $4 AND $5
		AND +document_fts.rowid IN (` + params(6, len(rids)) + `)`
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

// pgSnippets makes the snippets of a page of hits on PostgreSQL from the
// heads of their texts, and from up to snippetChars of those whose head
// holds no match.
func (s *sqlStore) pgSnippets(ctx context.Context, q textQuery, hits []SearchHit) error {
	m := newWordMatcher(q)
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.Document.ID
	}
	for _, chars := range []int{snippetHead, snippetChars} {
		// substr reads a compressed text only as far as it needs; one
		// character more tells whether the text goes on.
		rows, err := s.r.QueryContext(ctx, "SELECT document_id, substr(text, 1, $1) FROM document_text WHERE document_id = ANY($2::text[])",
			chars+1, ids)
		if err != nil {
			return fmt.Errorf("snippets: %w", err)
		}
		var longer []string
		for rows.Next() {
			var id, text string
			if err := rows.Scan(&id, &text); err != nil {
				rows.Close()
				return fmt.Errorf("snippets: %w", err)
			}
			more := utf8.RuneCountInString(text) > chars
			if more {
				_, last := utf8.DecodeLastRuneInString(text)
				text = text[:len(text)-last]
			}
			snippet := makeSnippet(text, m, more)
			if more && chars < snippetChars && !slices.ContainsFunc(snippet, func(p SnippetPart) bool { return p.Match }) {
				longer = append(longer, id)
				continue
			}
			for i := range hits {
				if hits[i].Document.ID == id {
					hits[i].Snippet = snippet
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("snippets: %w", err)
		}
		if len(longer) == 0 {
			return nil
		}
		ids = longer
	}
	return nil
}

// sqliteFacets counts the window's documents by type, language and state,
// which the window holds, and by tag.
func (s *sqlStore) sqliteFacets(ctx context.Context, w *searchWindow) (*SearchFacets, error) {
	f := &SearchFacets{Counted: len(w.ids)}
	types, languages, states := map[string]int{}, map[string]int{}, map[string]int{}
	for _, c := range w.cols {
		types[c.mimeType]++
		states[c.state]++
		if c.language.Valid && c.language.String != "" {
			languages[c.language.String]++
		}
	}
	for _, m := range []struct {
		counts map[string]int
		facet  *[]FacetCount
	}{{types, &f.Type}, {languages, &f.Language}, {states, &f.State}} {
		for v, n := range m.counts {
			*m.facet = append(*m.facet, FacetCount{Value: v, Count: n})
		}
	}
	if len(w.ids) > 0 {
		ids, _ := json.Marshal(w.ids) // a []string always marshals
		rows, err := s.r.QueryContext(ctx, `SELECT tg.name, count(*) FROM json_each($1) w
			JOIN document_tags dt ON dt.document_id = w.value JOIN tags tg ON tg.id = dt.tag_id GROUP BY tg.name`, string(ids))
		if err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c FacetCount
			if err := rows.Scan(&c.Value, &c.Count); err != nil {
				return nil, fmt.Errorf("facets: %w", err)
			}
			f.Tag = append(f.Tag, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
	}
	f.sort()
	return f, nil
}

// searchFacets counts the window's documents by type, language, state and
// tag on PostgreSQL, in one statement that reads the window once.
func (s *sqlStore) searchFacets(ctx context.Context, p *SearchParams, q textQuery, ids []string) (*SearchFacets, error) {
	b := newSearchQuery(s, p, q, ids)
	b.args = nil // the window is its IDs: the query is not read again
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
	f.sort()
	return f, nil
}

// sort orders each facet's values by count, largest first, then value,
// and keeps the first FacetValuesMax.
func (f *SearchFacets) sort() {
	for _, l := range []*[]FacetCount{&f.Type, &f.Language, &f.State, &f.Tag} {
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
}
