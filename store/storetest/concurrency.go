package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseConcurrency(t *testing.T, h Harness) {
	ctx := context.Background()

	// Two processes (two stores on one database), each with many
	// goroutines, run whole pipelines at once. On SQLite that is two
	// writers on one file: none may see "database is locked".
	t.Run("Writers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		stores := []store.Store{b.st, Open(t, b.url)}
		const workers, docs = 8, 12
		var wg sync.WaitGroup
		for w := range workers {
			st := stores[w%len(stores)]
			wg.Go(func() {
				for i := range docs {
					if err := pipeline(ctx, st, fmt.Sprintf("w%d-d%d searchable", w, i)); err != nil {
						t.Errorf("worker %d, document %d: %v", w, i, err)
						return
					}
				}
			})
		}
		// Readers at the same time.
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for _, st := range stores {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := st.Search(ctx, &store.SearchParams{Query: "searchable"})
					if !assertNoError(t, err) {
						return
					}
					_, err = st.Stats(ctx)
					if !assertNoError(t, err) {
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		readers.Wait()
		st, err := b.st.Stats(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(workers*docs), st.ByState[store.StateDone])
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "searchable", Limit: store.ListLimitMax})
		require.NoError(t, err)
		require.Len(t, res.Hits, workers*docs)
		require.Equal(t, workers*docs*4, b.count(t, "SELECT count(*) FROM processing_events"))
	})
}

// pipeline does what the pipeline's stages do to one document, twice over
// where a job could run twice.
func pipeline(ctx context.Context, st store.Store, text string) error {
	sum, key := content()
	doc, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: sum, Name: text, Source: store.SourceProcess, BlobKey: key})
	if err != nil {
		return err
	}
	move := func(from, to store.State) error {
		_, err := st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{from}, To: to})
		return err
	}
	event := func(stage string, typ store.EventType) error {
		_, err := st.AddEvent(ctx, &store.AddEventParams{DocumentID: doc.ID, Stage: stage, Type: typ})
		return err
	}
	for _, step := range []func() error{
		func() error { return event("extract", store.EventStarted) },
		func() error { return move(store.StateReceived, store.StateExtracting) },
		func() error { return st.SavePages(ctx, doc.ID, []store.Page{{Number: 1, Text: text}}) },
		func() error { return st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: text}) },
		func() error { return st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: text}) },
		func() error { return event("extract", store.EventDone) },
		func() error { return move(store.StateExtracting, store.StateAnalyzing) },
		func() error {
			return st.SaveAnalysis(ctx, &store.SaveAnalysisParams{DocumentID: doc.ID, ModelVersion: "m@1", Language: "en",
				Classifications: []store.Classification{{Label: "note", Confidence: 0.9}}})
		},
		func() error { return move(store.StateAnalyzing, store.StateIndexed) },
		func() error { return event("notify", store.EventStarted) },
		func() error { return move(store.StateIndexed, store.StateDone) },
		func() error { return event("notify", store.EventDone) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
