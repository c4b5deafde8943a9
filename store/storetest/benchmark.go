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
}
