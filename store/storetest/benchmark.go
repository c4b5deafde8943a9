package storetest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/quirehq/quire/store"
)

// Benchmark measures the store's writes on the harness's backend: one
// b.Run per operation, each on a fresh database.
func Benchmark(b *testing.B, h Harness) {
	ctx := context.Background()
	open := func(b *testing.B) store.Store {
		st, err := store.Open(ctx, h.NewURL(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		return st
	}

	b.Run("CreateDocument", func(b *testing.B) {
		st := open(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sum, key := content()
				if _, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{
					SHA256: sum, Name: "bench.txt", Source: store.SourceProcess, BlobKey: key,
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})

	// Pipeline is every write the pipeline makes for one small document:
	// about a dozen, so documents/s is ops/s.
	b.Run("Pipeline", func(b *testing.B) {
		st := open(b)
		var n atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := pipeline(ctx, st, "benchmark document number "+string(rune('a'+n.Add(1)%26))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// SaveAnalysis saves what the default analyses find in a small
	// document: a language, ten keywords and twenty entities.
	b.Run("SaveAnalysis", func(b *testing.B) {
		st := open(b)
		var ents []store.Entity
		for i := range 10 {
			ents = append(ents, store.Entity{Kind: store.EntityKindKeyword, Value: "keyword " + string(rune('a'+i)), Confidence: 0.5})
		}
		for i := range 20 {
			ents = append(ents, store.Entity{Kind: "url", Value: "https://example.org/" + string(rune('a'+i)), Start: 10 * i, End: 10*i + 9, Confidence: 0.95})
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sum, key := content()
				doc, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: sum, Name: "bench.txt", Source: store.SourceProcess, BlobKey: key})
				if err == nil {
					err = st.SaveAnalysis(ctx, &store.SaveAnalysisParams{DocumentID: doc.ID, ModelVersion: "text@1", Language: "en",
						Summary: "A summary.", Entities: ents})
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
