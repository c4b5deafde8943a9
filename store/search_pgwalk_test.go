package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// A common word's window is read by walking the newest texts (pgWalkShare)
// and a rarer one's through the GIN index: both are the newest
// SearchWindow matches, on a store past the first range of texts.
func TestPostgresWindowWalked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	s := st.(*sqlStore)

	// More texts than the first range; every one says "alpha", one in
	// four "beta", one in fifty "gamma". IDs sort as they are numbered.
	n := pgWindowSpans[0]*SearchWindow + 5000
	for _, stmt := range []string{`
		INSERT INTO documents (id, sha256, name, mime_type, size, state, source, blob_key, created_at, updated_at)
		SELECT lpad(i::text, 26, '0'), encode(sha256(i::text::bytea), 'hex'), 'd' || i, 'text/plain', 1,
			CASE WHEN i % 3 = 0 THEN 'done' ELSE 'received' END, 'upload', 'k' || i, now(), now()
		FROM generate_series(1, $1) i`, `
		INSERT INTO document_text (document_id, text)
		SELECT lpad(i::text, 26, '0'), 'alpha ' || CASE WHEN i % 4 = 0 THEN 'beta ' ELSE '' END ||
			CASE WHEN i % 50 = 0 THEN 'gamma ' ELSE '' END || 'word' || i
		FROM generate_series(1, $1) i`} {
		_, err = s.w.ExecContext(ctx, stmt, n)
		require.NoError(t, err)
	}
	_, err = s.w.ExecContext(ctx, "ANALYZE document_text; ANALYZE documents")
	require.NoError(t, err)

	for _, tt := range []struct {
		q     string
		state State
		every int // the matches are the texts numbered by a multiple of it
	}{
		{"alpha", "", 1},
		{"beta", "", 4},
		{"alpha beta", "", 4},
		{"gamma", "", 50},
		{"beta", StateDone, 12},
	} {
		share, ok := s.pgStats.get(ctx, s.r, time.Now()).share(&SearchParams{State: tt.state}, parseQuery(tt.q))
		require.True(t, ok, tt.q)
		t.Logf("%s (state %q): estimated share %.3f, walked: %v", tt.q, tt.state, share, share >= pgWalkShare)
		w, err := s.pgWindow(ctx, &SearchParams{State: tt.state}, parseQuery(tt.q))
		require.NoError(t, err, tt.q)
		var want []string
		for i := n; i > 0 && len(want) < SearchWindow; i-- {
			if i%tt.every == 0 {
				want = append(want, fmt.Sprintf("%026d", i))
			}
		}
		require.Equal(t, want, w.ids, tt.q)
		require.Equal(t, n/tt.every >= SearchWindow, w.full, tt.q)
	}
}
