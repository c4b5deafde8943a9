package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// settle waits until every document of the store is in a final state.
func settle(t *testing.T, st store.Store, want int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := st.Stats(context.Background())
		return err == nil && s.Documents >= want && s.ByState[store.StateDone]+s.ByState[store.StateFailed] == s.Documents
	}, 2*time.Minute, 50*time.Millisecond)
}

// children lists the documents ingested from parent, by name.
func children(t *testing.T, st store.Store, parent string) map[string]*store.Document {
	t.Helper()
	page, err := st.ListDocuments(context.Background(), &store.ListDocumentsParams{ParentID: parent, Limit: store.ListLimitMax})
	require.NoError(t, err)
	out := map[string]*store.Document{}
	for i := range page.Documents {
		d := page.Documents[i]
		out[d.Name] = &d
	}
	return out
}

// TestArchiveMembers: an archive's members become documents of their own,
// its children, each in a final state; the archive's text lists them.
func TestArchiveMembers(t *testing.T) {
	t.Parallel()
	for name, e := range map[string]func(*testing.T) *env{"embedded": func(t *testing.T) *env { return embedded(t) }, "servers": servers} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := e(t)
			ctx := context.Background()
			data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "archive", "docs.tar.gz"))
			require.NoError(t, err)
			doc, created, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "docs.tar.gz", Body: bytes.NewReader(data), Source: store.SourceUpload})
			require.NoError(t, err)
			require.True(t, created)
			settle(t, e.store, 4)

			got, err := e.store.GetDocument(ctx, doc.ID)
			require.NoError(t, err)
			require.Equal(t, store.StateDone, got.State, got.FailureReason)
			text, err := e.store.GetText(ctx, doc.ID)
			require.NoError(t, err)
			require.Equal(t, "udhr/udhr-fra.cp1252.txt\nudhr/udhr.odp\nsotu/sotu-1932-hoover.txt", text)

			kids := children(t, e.store, doc.ID)
			names := make([]string, 0, len(kids))
			for n, k := range kids {
				names = append(names, n)
				require.Equal(t, store.StateDone, k.State, "%s: %s", n, k.FailureReason)
			}
			sort.Strings(names)
			require.Equal(t, []string{"sotu-1932-hoover.txt", "udhr-fra.cp1252.txt", "udhr.odp"}, names)
			require.Equal(t, "application/vnd.oasis.opendocument.presentation", kids["udhr.odp"].MIMEType)
			hoover, err := e.store.GetText(ctx, kids["sotu-1932-hoover.txt"].ID)
			require.NoError(t, err)
			require.Contains(t, hoover, "Congress")
		})
	}
}

// nested returns a zip nested depth levels deep: level i holds
// level-i.txt and the zip of level i+1.
func nested(t *testing.T, depth int) []byte {
	var inner []byte
	for i := depth; i >= 0; i-- {
		members := []any{fmt.Sprintf("level-%d.txt", i), fmt.Sprintf("This is level %d of the nest.", i)}
		if inner != nil {
			members = append(members, fmt.Sprintf("level-%d.zip", i+1), inner)
		}
		inner = testdocs.Zip(members...)
	}
	return inner
}

// TestArchiveDepth: archives nested past pipeline.MaxDepth end: the
// documents inside the deepest allowed one are left out, its timeline says
// why, and every document ingested ends in a final state.
func TestArchiveDepth(t *testing.T) {
	t.Parallel()
	for name, e := range map[string]func(*testing.T) *env{"embedded": func(t *testing.T) *env { return embedded(t) }, "servers": servers} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := e(t)
			ctx := context.Background()
			const levels = pipeline.MaxDepth + 3
			doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "level-0.zip", Body: bytes.NewReader(nested(t, levels)), Source: store.SourceUpload})
			require.NoError(t, err)
			// Levels 0 to MaxDepth are archives with a text each, but the
			// last archive's members are left out.
			settle(t, e.store, 2*pipeline.MaxDepth+1)

			id := doc.ID
			for depth := 0; depth <= pipeline.MaxDepth; depth++ {
				d, err := e.store.GetDocument(ctx, id)
				require.NoError(t, err)
				require.Equal(t, store.StateDone, d.State, "depth %d: %s", depth, d.FailureReason)
				require.Equal(t, fmt.Sprintf("level-%d.zip", depth), d.Name)
				kids := children(t, e.store, id)
				if depth == pipeline.MaxDepth {
					require.Empty(t, kids)
					events, err := e.store.ListEvents(ctx, id)
					require.NoError(t, err)
					var notes []string
					for _, ev := range events {
						notes = append(notes, ev.Message)
					}
					require.Contains(t, strings.Join(notes, "\n"), fmt.Sprintf("2 documents inside this one left out: it is nested %d deep, the depth limit", pipeline.MaxDepth))
					break
				}
				require.Len(t, kids, 2, "depth %d", depth)
				require.Equal(t, store.StateDone, kids[fmt.Sprintf("level-%d.txt", depth)].State)
				id = kids[fmt.Sprintf("level-%d.zip", depth+1)].ID
			}
			stats, err := e.store.Stats(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(2*pipeline.MaxDepth+1), stats.Documents)
		})
	}
}

// TestArchiveDuplicateMembers: members of the same content are one
// document, and an archive holding a copy of itself's sibling ends.
func TestArchiveDuplicateMembers(t *testing.T) {
	t.Parallel()
	e := embedded(t)
	ctx := context.Background()
	inner := testdocs.Zip("a.txt", "the same text")
	outer := testdocs.Zip("one.txt", "the same text", "two.txt", "the same text", "inner.zip", inner, "copy.zip", inner)
	doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "outer.zip", Body: bytes.NewReader(outer), Source: store.SourceUpload})
	require.NoError(t, err)
	// outer.zip, one.txt (two.txt and a.txt are the same content), and
	// inner.zip (copy.zip is the same).
	settle(t, e.store, 3)
	kids := children(t, e.store, doc.ID)
	require.Len(t, kids, 2)
	stats, err := e.store.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), stats.Documents)
	require.Equal(t, int64(3), stats.ByState[store.StateDone])
}
