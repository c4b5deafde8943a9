package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// Migration 0010 copies each document's type to its text's row, where a
// search filtered by type finds it: texts saved before the migration are
// found by their type after it, texts saved after it too, and a document
// whose type changes is found by its new type only.
func TestPostgresTextTypeMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, testenv.NewPostgresDatabase(t))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	s := st.(*sqlStore)
	all := s.migrations
	ids := ledgersBefore(t, s, 10)
	s.migrations = all
	require.NoError(t, s.Migrate(ctx))
	ids = append(ids, addTestText(t, s, "3", "application/pdf", "ledger 3"))
	// The extraction finds the type to be another.
	_, err = s.SetState(ctx, &SetStateParams{ID: ids[1], From: []State{StateReceived}, To: StateExtracting,
		MIMEType: "message/rfc822"})
	require.NoError(t, err)

	for _, tt := range []struct {
		mime string
		want []string
	}{
		{"application/pdf", []string{ids[3], ids[0]}},
		{"text/plain", []string{ids[2]}},
		{"message/rfc822", []string{ids[1]}},
	} {
		res, err := s.Search(ctx, &SearchParams{Query: "ledger", MIMEType: tt.mime, Sort: SortNewest, Facets: true})
		require.NoError(t, err)
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Document.ID)
		}
		require.Equal(t, tt.want, got, tt.mime)
		require.Equal(t, []FacetCount{{Value: tt.mime, Count: len(tt.want)}}, res.Facets.Type, tt.mime)
	}
	var differ int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM document_text t JOIN documents d ON d.id = t.document_id
		WHERE t.mime_type IS DISTINCT FROM d.mime_type`).Scan(&differ))
	require.Zero(t, differ)
}
