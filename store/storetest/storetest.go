// Package storetest holds the store's behaviour suite, written once and run
// against every backend: a backend's test connects it with a Harness and
// calls Exercise. The suite branches on nothing but what the Harness gives,
// never on the backend's name. Only _test.go files import this package.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
)

// Harness connects one backend to the suite.
type Harness struct {
	// NewURL returns the URL of a new, empty database of the backend,
	// dropped or removed with t.Cleanup. It skips the test (or fails it,
	// with QUIRE_TEST_REQUIRE_SERVICES=1) when the backend's server is
	// unreachable.
	NewURL func(t testing.TB) string
	// OpenSQL opens the database at url with database/sql, for the checks
	// that read the tables the way another application would.
	OpenSQL func(t testing.TB, url string) *sql.DB
}

// Exercise runs the behaviour suite against the harness's backend.
func Exercise(t *testing.T, h Harness) {
	t.Run("Migrate", func(t *testing.T) { t.Parallel(); exerciseMigrate(t, h) })
	t.Run("Documents", func(t *testing.T) { t.Parallel(); exerciseDocuments(t, h) })
	t.Run("State", func(t *testing.T) { t.Parallel(); exerciseState(t, h) })
	t.Run("Text", func(t *testing.T) { t.Parallel(); exerciseText(t, h) })
	t.Run("Search", func(t *testing.T) { t.Parallel(); exerciseSearch(t, h) })
	t.Run("Analysis", func(t *testing.T) { t.Parallel(); exerciseAnalysis(t, h) })
	t.Run("Audit", func(t *testing.T) { t.Parallel(); exerciseAudit(t, h) })
	t.Run("ModelVersions", func(t *testing.T) { t.Parallel(); exerciseModelVersions(t, h) })
	t.Run("Tags", func(t *testing.T) { t.Parallel(); exerciseTags(t, h) })
	t.Run("Webhooks", func(t *testing.T) { t.Parallel(); exerciseWebhooks(t, h) })
	t.Run("Access", func(t *testing.T) { t.Parallel(); exerciseAccess(t, h) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); exerciseDelete(t, h) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); exerciseConcurrency(t, h) })
	t.Run("Previews", func(t *testing.T) { t.Parallel(); exercisePreviews(t, h) })
}

// RequireService skips a test whose service is missing, or fails it when
// QUIRE_TEST_REQUIRE_SERVICES=1 (as in CI).
func RequireService(t testing.TB, name string, err error) {
	t.Helper()
	testenv.RequireService(t, name, err)
}

// bundle is what most tests need: a migrated store on its own database, and
// the database's URL.
type bundle struct {
	st  store.Store
	url string
	h   Harness
	db  *sql.DB // opened by the first count
}

func setup(t *testing.T, h Harness) *bundle {
	t.Helper()
	url := h.NewURL(t)
	return &bundle{st: Open(t, url), url: url, h: h}
}

// Open opens and migrates the store at url, closed at cleanup.
func Open(t testing.TB, url string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(context.Background()))
	return st
}

// count runs a counting query on the raw database.
func (b *bundle) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	if b.db == nil {
		b.db = b.h.OpenSQL(t, b.url)
	}
	var n int
	require.NoError(t, b.db.QueryRow(query, args...).Scan(&n), query)
	return n
}

// content returns random bytes' SHA-256, a new document's identity.
func content() (sum, key string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	s := sha256.Sum256(b)
	sum = hex.EncodeToString(s[:])
	return sum, "sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum
}

// newDocument creates a document with random content, changed by opts.
func newDocument(t testing.TB, st store.Store, opts ...func(*store.CreateDocumentParams)) *store.Document {
	t.Helper()
	sum, key := content()
	p := &store.CreateDocumentParams{
		SHA256: sum, Name: "report.pdf", MIMEType: "application/pdf", Size: 1234,
		Source: store.SourceUpload, BlobKey: key,
	}
	for _, o := range opts {
		o(p)
	}
	doc, created, err := st.CreateDocument(context.Background(), p)
	require.NoError(t, err)
	require.True(t, created)
	return doc
}

// moveTo walks a document along the happy path to state.
func moveTo(t testing.TB, st store.Store, id string, state store.State) *store.Document {
	t.Helper()
	path := []store.State{store.StateReceived, store.StateExtracting, store.StateAnalyzing, store.StateIndexed, store.StateDone}
	doc, err := st.GetDocument(context.Background(), id)
	require.NoError(t, err)
	for i := 1; i < len(path) && doc.State != state; i++ {
		if doc.State != path[i-1] {
			continue
		}
		doc, err = st.SetState(context.Background(), &store.SetStateParams{ID: id, From: []store.State{path[i-1]}, To: path[i]})
		require.NoError(t, err)
	}
	require.Equal(t, state, doc.State, "moving %s", id)
	return doc
}

func name(i int) string { return fmt.Sprintf("doc-%03d.txt", i) }
