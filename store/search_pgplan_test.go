package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// Each of the window's plans (planPGWindow) reads the newest SearchWindow
// matches, on a store past the first range of texts: the walk for a common
// word, the GIN index for rarer ones, a filter's documents (a state's by
// ID, a type's as a range of its texts) for a filter that keeps few, and,
// when the estimate was wrong (words and filter that never meet), the GIN
// index over all texts after the filter's documents; a filter that keeps
// most documents is met by the matches' documents, read after the matches.
func TestPostgresWindowPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	s := st.(*sqlStore)

	// Every text says "alpha", one in four "beta", one in fifty "gamma",
	// those numbered 1 modulo 3 "delta"; one document in three is done,
	// never one saying "delta"; one in ten is a PDF, those numbered 0
	// modulo 4 and 1 modulo 10 (none of them done) a message. IDs sort as
	// they are numbered.
	n := pgWindowSpans[0]*SearchWindow + 5000
	for _, stmt := range []string{`
		INSERT INTO documents (id, sha256, name, mime_type, size, state, source, blob_key, created_at, updated_at)
		SELECT lpad(i::text, 26, '0'), encode(sha256(i::text::bytea), 'hex'), 'd' || i,
			CASE WHEN i % 10 = 0 THEN 'application/pdf' WHEN i % 20 = 1 THEN 'message/rfc822' ELSE 'text/plain' END, 1,
			CASE WHEN i % 3 = 0 THEN 'done' ELSE 'received' END, 'upload', 'k' || i, now(), now()
		FROM generate_series(1, $1) i`, `
		INSERT INTO document_text (document_id, text)
		SELECT lpad(i::text, 26, '0'), 'alpha ' || CASE WHEN i % 4 = 0 THEN 'beta ' ELSE '' END ||
			CASE WHEN i % 50 = 0 THEN 'gamma ' ELSE '' END || CASE WHEN i % 3 = 1 THEN 'delta ' ELSE '' END || 'word' || i
		FROM generate_series(1, $1) i`} {
		_, err = s.w.ExecContext(ctx, stmt, n)
		require.NoError(t, err)
	}
	_, err = s.w.ExecContext(ctx, "ANALYZE document_text; ANALYZE documents")
	require.NoError(t, err)

	for _, tt := range []struct {
		q     string
		state State
		mime  string
		match func(i int) bool
		// phrase, for a phrase, keeps the window's texts holding it: the
		// window is that of the phrase's words (match).
		phrase func(i int) bool
		plan   string
		// tries is how many plans are read: more than one only when the
		// estimate was wrong.
		tries int
	}{
		{"alpha", "", "", func(int) bool { return true }, nil, "walk", 1},
		{"beta", "", "", func(i int) bool { return i%4 == 0 }, nil, "index", 1},
		{"alpha beta", "", "", func(i int) bool { return i%4 == 0 }, nil, "index", 1},
		{`"alpha beta"`, "", "", func(i int) bool { return i%4 == 0 }, nil, "index", 1},
		{`"alpha delta"`, "", "", func(i int) bool { return i%3 == 1 }, func(i int) bool { return i%4 != 0 && i%50 != 0 }, "index", 1},
		{"gamma", "", "", func(i int) bool { return i%50 == 0 }, nil, "index", 1},
		{"alph*", "", "", func(int) bool { return true }, nil, "walk", 1},
		{"gam*", "", "", func(i int) bool { return i%50 == 0 }, nil, "index", 1},
		{"alpha", StateDone, "", func(i int) bool { return i%3 == 0 }, nil, "filter", 1},
		{"beta", StateDone, "", func(i int) bool { return i%12 == 0 }, nil, "filter", 1},
		{"delta", StateDone, "", func(int) bool { return false }, nil, "index", 2},
		{"beta", StateReceived, "", func(i int) bool { return i%4 == 0 && i%3 != 0 }, nil, "index", 1},
		{"beta", "", "text/plain", func(i int) bool { return i%4 == 0 && i%10 != 0 }, nil, "filter", 1},
		{"alpha", "", "application/pdf", func(i int) bool { return i%10 == 0 }, nil, "filter", 1},
		{"beta", "", "application/pdf", func(i int) bool { return i%20 == 0 }, nil, "filter", 1},
		{"alpha", "", "message/rfc822", func(i int) bool { return i%20 == 1 }, nil, "filter", 1},
		{"beta", "", "message/rfc822", func(int) bool { return false }, nil, "filter", 1},
		{"gamma", StateDone, "application/pdf", func(i int) bool { return i%150 == 0 }, nil, "filter", 1},
		{"alpha", StateReceived, "application/pdf", func(i int) bool { return i%10 == 0 && i%3 != 0 }, nil, "filter", 1},
	} {
		p := &SearchParams{State: tt.state, MIMEType: tt.mime}
		e, ok := s.pgStats.get(ctx, s.r, time.Now()).estimate(p, parseQuery(tt.q))
		require.True(t, ok, tt.q)
		t.Logf("%s (state %q, type %q): estimated share %.3f, %+v", tt.q, tt.state, tt.mime, e.share(),
			planPGWindow(e, p.needsDocument(true), p.without(e.col).needsDocument(true)))
		w, err := s.pgWindow(ctx, p, parseQuery(tt.q), true)
		require.NoError(t, err, tt.q)
		// Each plan scores the window as ranking each text alone does.
		rows, err := s.r.QueryContext(ctx, `SELECT document_id, ts_rank_cd(tsv, to_tsquery('simple', $1), 1)::float8
			FROM document_text WHERE document_id = ANY($2::text[])`, parseQuery(tt.q).tsquery(), w.ids)
		require.NoError(t, err)
		scores := map[string]float64{}
		for rows.Next() {
			var id string
			var score float64
			require.NoError(t, rows.Scan(&id, &score))
			scores[id] = score
		}
		require.NoError(t, rows.Err())
		require.Len(t, w.scores, len(w.ids), tt.q)
		for i, id := range w.ids {
			require.Equal(t, scores[id], w.scores[i], "%s: %s", tt.q, id)
		}
		want, matched := []string{}, 0
		for i := n; i > 0 && matched < SearchWindow; i-- {
			if tt.match(i) {
				matched++
				if tt.phrase == nil || tt.phrase(i) {
					want = append(want, fmt.Sprintf("%026d", i))
				}
			}
		}
		require.Equal(t, want, w.ids, tt.q)
		require.Equal(t, matched >= SearchWindow, w.full, tt.q)
		require.Equal(t, tt.plan, w.plan, tt.q)
		require.Equal(t, tt.tries, w.tries, tt.q)
	}

	// A joined window whose matches run past pgJoinedMatchesMax: the
	// newest of them hold a window that passes the filter (3,500), or do
	// not (100) and the matches are joined to their documents instead.
	p := &SearchParams{State: StateReceived}
	want := []string{}
	for i := n; len(want) < SearchWindow; i-- {
		if i%4 == 0 && i%3 != 0 {
			want = append(want, fmt.Sprintf("%026d", i))
		}
	}
	for _, max := range []int{3500, 100} {
		s.pgJoinedMatchesMax = max
		w, err := s.pgWindow(ctx, p, parseQuery("beta"), false)
		require.NoError(t, err, max)
		require.Equal(t, want, w.ids, max)
		require.Nil(t, w.scores, max)
	}
}
