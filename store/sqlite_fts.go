package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/internal/sqlitesync"
)

// The embedded store's full-text index is brought up to date in batches:
// a text written waits in document_fts_pending (migration 0007) until
// ftsIndexBatch texts wait, or ftsIndexInterval has passed since the last
// indexing, or a query reads the index. FTS5 writes a segment per indexing
// and merges segments again later: indexing every commit group of the one
// writer (a dozen documents) made the index the largest part of each
// commit, on the path every upload waits for. A query never misses a text
// written before it: it indexes what waits first (flush).
const (
	ftsIndexBatch    = 512
	ftsIndexInterval = time.Second
)

// ftsIndexer keeps the embedded store's full-text index current.
type ftsIndexer struct {
	w *sqlitesync.Writer
	r *sql.DB
	// last is when the pending texts were last indexed, in Unix
	// nanoseconds.
	last atomic.Int64
	stop chan struct{}
	done sync.WaitGroup
}

func newFTSIndexer(w *sqlitesync.Writer, r *sql.DB) *ftsIndexer {
	x := &ftsIndexer{w: w, r: r, stop: make(chan struct{})}
	x.last.Store(time.Now().UnixNano())
	w.BeforeCommit(x.beforeCommit)
	x.done.Go(x.run)
	return x
}

// beforeCommit indexes the pending texts at the end of a commit group once
// enough wait or the interval has passed.
func (x *ftsIndexer) beforeCommit(ctx context.Context, tx *sql.Tx) error {
	if time.Since(time.Unix(0, x.last.Load())) < ftsIndexInterval {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM document_fts_pending LIMIT ?)", ftsIndexBatch).Scan(&n); err != nil {
			return fmt.Errorf("count the texts to index: %w", err)
		}
		if n < ftsIndexBatch {
			return nil
		}
	}
	return x.index(ctx, tx)
}

func (x *ftsIndexer) index(ctx context.Context, tx *sql.Tx) error {
	if err := indexPendingTexts(ctx, tx); err != nil {
		return err
	}
	x.last.Store(time.Now().UnixNano())
	return nil
}

// run indexes what waits once the interval has passed with no write to do
// it, so that a quiet store's index is at most ftsIndexInterval behind.
func (x *ftsIndexer) run() {
	t := time.NewTicker(ftsIndexInterval)
	defer t.Stop()
	for {
		select {
		case <-x.stop:
			return
		case <-t.C:
			if time.Since(time.Unix(0, x.last.Load())) >= ftsIndexInterval {
				_ = x.flush(context.Background()) // the next tick or query tries again
			}
		}
	}
}

// flush indexes the texts that wait, if any.
func (x *ftsIndexer) flush(ctx context.Context) error {
	var waiting bool
	if err := x.r.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM document_fts_pending)").Scan(&waiting); err != nil {
		return fmt.Errorf("look for texts to index: %w", err)
	}
	if !waiting {
		return nil
	}
	// The index is derived from texts already committed; losing this
	// commit to a crash of the machine leaves them pending, as before.
	return x.w.Do(ctx, "NORMAL", func(tx *sql.Tx) error { return x.index(ctx, tx) })
}

// close stops the indexer after indexing what waits, so that a store file
// left behind has a complete index.
func (x *ftsIndexer) close() error {
	close(x.stop)
	x.done.Wait()
	return x.flush(context.Background())
}
