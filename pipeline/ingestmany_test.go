package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

func TestIngestManyEmbedded(t *testing.T) {
	t.Parallel()
	testIngestMany(t, embedded(t, smallMaxBytes))
}

func TestIngestManyServers(t *testing.T) {
	t.Parallel()
	testIngestMany(t, serversWith(t, smallMaxBytes))
}

// smallMaxBytes lets ingest refuse a document as too large without a large
// one.
func smallMaxBytes(c *pipeline.Config, _ *jobs.Config) { c.MaxBytes = 1 << 10 }

// testIngestMany: a batch keeps every guarantee of Ingest for each of its
// documents: identical content recorded and processed once (within the
// batch and with what came before), the size limit, empty content refused,
// an error of its own for a document the store refuses (an unknown parent)
// while the others of its batch are recorded, and every recorded document
// processed.
func testIngestMany(t *testing.T, e *env) {
	ctx := context.Background()
	earlier, created, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "earlier.txt",
		Body: strings.NewReader("Ingested before the batch, and again in it."), Source: store.SourceUpload})
	require.NoError(t, err)
	require.True(t, created)

	body := func(s string) *strings.Reader { return strings.NewReader(s) }
	batch := []*pipeline.IngestParams{
		{Name: "a.txt", Body: body("The first letter of the alphabet is a vowel."), Source: store.SourceUpload},
		{Name: "empty.txt", Body: body(""), Source: store.SourceUpload},
		{Name: "b.txt", Body: body("The second letter of the alphabet is a consonant."), Source: store.SourceUpload},
		{Name: "a-again.txt", Body: body("The first letter of the alphabet is a vowel."), Source: store.SourceUpload},
		{Name: "large.txt", Body: body(strings.Repeat("too large ", 200)), Source: store.SourceUpload},
		{Name: "earlier-again.txt", Body: body("Ingested before the batch, and again in it."), Source: store.SourceUpload},
		{Name: "c.txt", Body: body("The third letter of the alphabet is c."), Source: store.SourceUpload},
	}
	res := e.p.IngestMany(ctx, batch)
	require.Len(t, res, len(batch))
	for _, i := range []int{0, 2, 6} {
		require.NoError(t, res[i].Err, batch[i].Name)
		require.True(t, res[i].Created, batch[i].Name)
		require.Equal(t, batch[i].Name, res[i].Document.Name)
	}
	require.ErrorIs(t, res[1].Err, pipeline.ErrEmpty)
	require.ErrorIs(t, res[4].Err, pipeline.ErrTooLarge)
	require.NoError(t, res[3].Err)
	require.False(t, res[3].Created, "identical content within the batch is recorded once")
	require.Equal(t, res[0].Document.ID, res[3].Document.ID)
	require.NoError(t, res[5].Err)
	require.False(t, res[5].Created, "content ingested before is recorded once")
	require.Equal(t, earlier.ID, res[5].Document.ID)

	// A document the store refuses fails alone: its batch's others are
	// recorded and processed.
	res2 := e.p.IngestMany(ctx, []*pipeline.IngestParams{
		{Name: "d.txt", Body: body("The fourth letter of the alphabet is d."), Source: store.SourceUpload},
		{Name: "orphan.txt", Body: body("An attachment of a document that does not exist."), Source: store.SourceUpload,
			ParentID: "01JZZZZZZZZZZZZZZZZZZZZZZZ"},
		{Name: "e.txt", Body: body("The fifth letter of the alphabet is e."), Source: store.SourceUpload},
	})
	require.NoError(t, res2[0].Err)
	require.True(t, res2[0].Created)
	require.ErrorIs(t, res2[1].Err, store.ErrNotFound)
	require.NoError(t, res2[2].Err)
	require.True(t, res2[2].Created)

	settle(t, e.store, 6)
	st, err := e.store.Stats(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(6), st.Documents, "earlier, a, b, c, d, e")
	require.Equal(t, int64(6), st.ByState[store.StateDone])
	for _, r := range append(res, res2...) {
		if r.Err != nil {
			continue
		}
		doc, err := e.store.GetDocument(ctx, r.Document.ID)
		require.NoError(t, err)
		require.Equal(t, store.StateDone, doc.State, doc.Name)
		events, err := e.store.ListEvents(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, "ingest", events[0].Stage, "the ingest event is written with the document")
	}
}
