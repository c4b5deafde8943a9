package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// TestPGSearchStatsRead reads the shares of lexemes and of column values
// from PostgreSQL's statistics, as ANALYZE leaves them, on tables shaped as
// the store's.
func TestPGSearchStatsRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	// Before any ANALYZE there is nothing to estimate from.
	_, err = db.ExecContext(ctx, `
		CREATE TABLE document_text (document_id text PRIMARY KEY, tsv tsvector);
		CREATE TABLE documents (id text PRIMARY KEY, state text, mime_type text, language text)`)
	require.NoError(t, err)
	var c pgStatsCache
	st := c.get(ctx, db, time.Now())
	_, ok := st.estimate(&SearchParams{}, parseQuery("alpha"))
	require.False(t, ok, "no statistics yet")

	_, err = db.ExecContext(ctx, `
		INSERT INTO document_text SELECT lpad(i::text, 8, '0'),
			to_tsvector('simple', 'alpha ' || CASE WHEN i % 4 = 0 THEN 'beta ' ELSE '' END || 'word' || i)
		FROM generate_series(1, 4000) i;
		INSERT INTO documents SELECT lpad(i::text, 8, '0'), CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'done' END,
			'text/plain', 'en' FROM generate_series(1, 4000) i;
		ANALYZE document_text; ANALYZE documents`)
	require.NoError(t, err)
	st, err = readPGSearchStats(ctx, db)
	require.NoError(t, err)
	require.InDelta(t, 1, st.lexemes["alpha"], 0.01)
	require.InDelta(t, 0.25, st.lexemes["beta"], 0.02)
	require.InDelta(t, 0.1, st.cols["state"]["failed"], 0.02)

	require.InDelta(t, 4000, st.texts, 1)
	e, ok := st.estimate(&SearchParams{State: StateFailed}, parseQuery("beta"))
	require.True(t, ok)
	require.InDelta(t, 0.025, e.share(), 0.005)
	// A cached read is reused within its TTL.
	c.stats = st
	require.Same(t, st, c.get(ctx, db, st.at.Add(time.Minute)))
}

// testPGStats returns statistics of a million texts, the least common
// listed word in lexemeMin of them.
func testPGStats(lexemeMin float64) *pgSearchStats {
	return &pgSearchStats{
		lexemes:   map[string]float64{"the": 0.9, "report": 0.1, "annual": 0.05, "paramount": 0.007, "income": 0.1, "increase": 0.05},
		lexemeMin: lexemeMin,
		cols:      map[string]map[string]float64{"state": {"done": 0.9, "failed": 0.02}},
		colMin:    map[string]float64{"state": 0.02},
		texts:     1_000_000,
	}
}

// TestPGSearchStatsShare estimates the share of matches from the
// statistics, and declines what it cannot estimate.
func TestPGSearchStatsShare(t *testing.T) {
	t.Parallel()
	st := testPGStats(0.04)
	tests := []struct {
		name  string
		p     SearchParams
		q     string
		share float64
		ok    bool
	}{
		{"CommonWord", SearchParams{}, "the", 0.9, true},
		{"WordsAnded", SearchParams{}, "annual report", 0.005, true},
		{"Alternatives", SearchParams{}, "annual OR report", 0.15, true},
		{"PhraseAsItsWords", SearchParams{}, `"annual report"`, 0.005, true},
		{"RareWord", SearchParams{}, "zeppelin", 0.01, true},
		{"Filter", SearchParams{State: StateFailed}, "report", 0.002, true},
		{"UnlistedFilterValue", SearchParams{State: StateIndexed}, "report", 0.0005, true},
		{"Prefix", SearchParams{}, "rep*", 0.1, true},
		{"PrefixOfCommonWords", SearchParams{}, "re*", 0.1, true},
		{"PrefixOfNone", SearchParams{}, "zz*", 0.01, true},
		{"SplitPrefix", SearchParams{}, "e-ma*", 0, false},
		{"SplitWord", SearchParams{}, "e-mail", 0, false},
		{"TagFilter", SearchParams{Tags: []string{"tax"}}, "report", 0, false},
		{"NoColumnStats", SearchParams{Language: "de"}, "report", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := st.estimate(&tc.p, parseQuery(tc.q))
			require.Equal(t, tc.ok, ok)
			if ok {
				require.InDelta(t, tc.share, e.share(), 1e-9)
			}
		})
	}
	var none *pgSearchStats
	_, ok := none.estimate(&SearchParams{}, parseQuery("the"))
	require.False(t, ok)
}

// TestPGWindowPlan chooses, at a million texts, the walk for a common word
// or prefix, the GIN index within a range for a rarer one and over all
// texts for a rare one, and a filter's documents when the filter keeps few.
func TestPGWindowPlan(t *testing.T) {
	t.Parallel()
	st := testPGStats(0.004)
	tests := []struct {
		name string
		p    SearchParams
		q    string
		kind string
		// n is the plan's range of texts, or its filtered documents.
		n int
	}{
		{"CommonWord", SearchParams{}, "the", "walk", 6667},
		{"RarerWord", SearchParams{}, "report", "index", 30000},
		// A prefix's lists cost the index more than a word's: one of
		// common words is walked, where a word as common is not.
		{"CommonPrefix", SearchParams{}, "inc*", "walk", 40000},
		{"WordAsCommon", SearchParams{}, "income OR increase", "index", 20000},
		{"RareWord", SearchParams{}, "zeppelin", "index", 0},
		// A range of 430,000 texts costs more to find and read than
		// visiting the word's 7,000 matches in all of them.
		{"ScarceWord", SearchParams{}, "paramount", "index", 0},
		{"FilterKeepsMost", SearchParams{State: StateDone}, "report", "index", 33334},
		{"FilterKeepsFew", SearchParams{State: StateFailed}, "the", "filter", 3334},
		{"FilterKeepsFewAllOfThem", SearchParams{State: StateFailed}, "annual", "filter", -1},
		{"FilterKeepsFewRareWord", SearchParams{State: StateFailed}, "zeppelin", "index", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := st.estimate(&tc.p, parseQuery(tc.q))
			require.True(t, ok)
			plan := planPGWindow(e, tc.p.needsDocument(true), tc.p.without(e.col).needsDocument(true))
			require.Equal(t, tc.kind, plan.kind, "%+v", plan)
			if tc.kind == "filter" {
				require.Equal(t, tc.n, plan.docs, "%+v", plan)
			} else {
				require.Equal(t, tc.n, plan.texts, "%+v", plan)
			}
		})
	}
}
