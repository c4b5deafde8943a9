package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// Migration 0012 copies each text's document's state, type and language
// into document_text_ids, where search filters and counts them: a store
// that held documents before it must find them by those filters after it.
func TestSQLiteSearchColumnsMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestSQLite(t)
	all := s.migrations
	ids := ledgersBefore(t, s, 12)
	require.NoError(t, s.SaveAnalysis(ctx, &SaveAnalysisParams{DocumentID: ids[1], ModelVersion: "lang@1", Language: "de"}))
	_, err := s.SetState(ctx, &SetStateParams{ID: ids[2], From: []State{StateReceived}, To: StateExtracting})
	require.NoError(t, err)

	s.migrations = all
	require.NoError(t, s.Migrate(ctx))
	res, err := s.Search(ctx, &SearchParams{Query: "ledger", Facets: true})
	require.NoError(t, err)
	require.Len(t, res.Hits, 3)
	require.Equal(t, []FacetCount{{Value: "text/plain", Count: 2}, {Value: "application/pdf", Count: 1}}, res.Facets.Type)
	require.Equal(t, []FacetCount{{Value: "de", Count: 1}}, res.Facets.Language)
	require.Equal(t, []FacetCount{{Value: "received", Count: 2}, {Value: "extracting", Count: 1}}, res.Facets.State)
	for _, tt := range []struct {
		p    SearchParams
		want string
	}{
		{SearchParams{Query: "ledger", State: StateExtracting}, ids[2]},
		{SearchParams{Query: "ledger", Language: "de"}, ids[1]},
		{SearchParams{Query: "ledger", MIMEType: "application/pdf"}, ids[0]},
	} {
		res, err := s.Search(ctx, &tt.p)
		require.NoError(t, err)
		require.Len(t, res.Hits, 1, "%+v", tt.p)
		require.Equal(t, tt.want, res.Hits[0].Document.ID, "%+v", tt.p)
	}
}

// ledgersBefore migrates s to the version before version and stores three
// texts saying "ledger": a PDF and two plain texts. It returns their
// documents' IDs; s.migrations is left holding the older migrations only.
func ledgersBefore(t *testing.T, s *sqlStore, version int) []string {
	t.Helper()
	s.migrations = migrationsBefore(t, s.migrations, version)
	require.NoError(t, s.Migrate(context.Background()))
	var ids []string
	for i, mime := range []string{"application/pdf", "text/plain", "text/plain"} {
		ids = append(ids, addTestText(t, s, strconv.Itoa(i), mime, "ledger "+strconv.Itoa(i)))
	}
	return ids
}

// migrationsBefore returns the migrations of fsys older than version.
func migrationsBefore(t *testing.T, fsys fs.FS, version int) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(fsys, ".")
	require.NoError(t, err)
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		require.NoError(t, err, e.Name())
		if v >= version {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		require.NoError(t, err)
		out[e.Name()] = &fstest.MapFile{Data: b}
	}
	return out
}

// openTestSQLite opens an embedded store of the test's own, unmigrated.
func openTestSQLite(t *testing.T) *sqlStore {
	t.Helper()
	st, err := Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "quire.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st.(*sqlStore)
}

// addTestText stores a document named name with its text and returns its
// ID.
func addTestText(t *testing.T, s *sqlStore, name, mime, text string) string {
	t.Helper()
	ctx := context.Background()
	sum := sha256.Sum256([]byte(name))
	d, _, err := s.CreateDocument(ctx, &CreateDocumentParams{
		SHA256: hex.EncodeToString(sum[:]), Name: name, MIMEType: mime, Source: SourceUpload, BlobKey: "k-" + name,
	})
	require.NoError(t, err)
	require.NoError(t, s.SaveText(ctx, &SaveTextParams{DocumentID: d.ID, Text: text}))
	return d.ID
}
