package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/cache"
	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// storeDBName is the embedded relational store's file in --data-dir.
const storeDBName = "quire.db"

// documents is the document side of Quire that up, process and migrate run:
// the relational store, blob storage, the cache, the extractor and the
// pipeline over a broker. Every command opens it with openDocuments, so that
// the embedded defaults and the switches to servers behave the same
// everywhere.
type documents struct {
	store     store.Store
	blobs     *blob.Store
	cache     cache.Cache
	extractor *extract.Extractor
	pipeline  *pipeline.Pipeline
	// analyzer is the machine-learning analyzer of the analyze stage, nil
	// with --ml=false; ml keeps its classifiers current (startML).
	analyzer *ml.Analyzer
	ml       *mlRuntime
	// ownsStore says Close closes the store and the blob storage:
	// openDocuments opened them; openDocumentsOn's caller did.
	ownsStore bool
}

// storeURL returns the store g selects: --postgres-url, else SQLite in
// --data-dir.
func (g *globalConfig) storeURL() string {
	if g.PostgresURL != "" {
		return withPoolSize(g.PostgresURL)
	}
	return filepath.Join(g.DataDir, storeDBName)
}

// workerPoolMaxConns is the PostgreSQL pool of a Quire process when
// --postgres-url does not set pool_max_conns. pgx's default, max(4, cores),
// starves a worker running dozens of pipeline stages at once, each a few
// short round trips: the pipeline ran twice as fast with 32 as with 4 on two
// cores. Keep the processes' sum below PostgreSQL's max_connections (100 by
// default), or put PgBouncer in front.
const workerPoolMaxConns = 32

// withPoolSize adds pool_max_conns=workerPoolMaxConns to a PostgreSQL URL
// that does not size its pool.
func withPoolSize(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Query().Has("pool_max_conns") {
		return rawURL // store.Open reports what is wrong with it
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(workerPoolMaxConns))
	u.RawQuery = q.Encode()
	return u.String()
}

// blobURL returns the blob storage g selects: --blob-url, else a directory
// in --data-dir.
func (g *globalConfig) blobURL() (string, error) {
	if g.BlobURL != "" {
		return g.BlobURL, nil
	}
	abs, err := filepath.Abs(filepath.Join(g.DataDir, "blobs"))
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// openBlobs opens the blob storage the settings name.
func (g *globalConfig) openBlobs(ctx context.Context) (*blob.Store, error) {
	bu, err := g.blobURL()
	if err != nil {
		return nil, fmt.Errorf("blob storage in %s %q: %w", setting("data-dir"), g.DataDir, err)
	}
	bs, err := blob.Open(ctx, bu)
	if err != nil {
		return nil, fmt.Errorf("open blob storage (%s): %w", setting("blob-url"), err)
	}
	return bs, nil
}

// openStore opens and migrates the relational store.
func openStore(ctx context.Context, g *globalConfig) (store.Store, error) {
	st, err := store.Open(ctx, g.storeURL())
	if errors.Is(err, store.ErrInvalid) {
		return nil, usagef("open the store (%s): %w", storeSetting(g), err)
	}
	if err != nil {
		return nil, fmt.Errorf("open the store (%s): %w", storeSetting(g), err)
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("migrate the store (%s): %w", storeSetting(g), err)
	}
	return st, nil
}

func storeSetting(g *globalConfig) string {
	if g.PostgresURL != "" {
		return setting("postgres-url")
	}
	return setting("data-dir") + " " + g.DataDir
}

// openDocuments opens everything the pipeline needs and the pipeline itself,
// enqueueing on b; opts adjust the pipeline's config. The store is migrated,
// as at every start of up.
func openDocuments(ctx context.Context, g *globalConfig, b *broker, log *slog.Logger, opts ...func(*pipeline.Config)) (_ *documents, err error) {
	st, err := openStore(ctx, g)
	if err != nil {
		return nil, err
	}
	blobs, err := g.openBlobs(ctx)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	d, err := openDocumentsOn(ctx, g, st, blobs, b, log, opts...)
	if err != nil {
		return nil, errors.Join(err, blobs.Close(), st.Close())
	}
	d.ownsStore = true
	return d, nil
}

// openDocumentsOn is openDocuments on a store and blob storage the caller
// opened, and closes after the documents.
func openDocumentsOn(ctx context.Context, g *globalConfig, st store.Store, blobs *blob.Store, b *broker, log *slog.Logger, opts ...func(*pipeline.Config)) (_ *documents, err error) {
	d := &documents{store: st, blobs: blobs}
	defer func() {
		if err != nil {
			_ = d.Close()
		}
	}()
	cu := g.CacheURL
	if cu == "" {
		cu = "memory://"
	}
	if d.cache, err = cache.Open(cu); err != nil {
		return nil, usagef("invalid %s: %w", setting("cache-url"), err)
	}
	if err := g.Limits.validate(); err != nil {
		return nil, err
	}
	if d.extractor, err = g.Limits.newExtractor(g.Limits.pdfWorkers); err != nil {
		return nil, err
	}
	client, err := jobs.NewClient(b.driver, nil)
	if err != nil {
		return nil, err
	}
	var analyzer pipeline.Analyzer
	if d.analyzer, analyzer, err = newMLAnalyzer(&g.ML, log); err != nil {
		return nil, err
	}
	cfg := pipeline.Config{Store: d.store, Blobs: d.blobs, Cache: d.cache, Jobs: client, Extractor: d.extractor,
		Analyzer: analyzer, WebhookAllowPrivate: g.WebhookAllowPrivate, Logger: log,
		MaxBytes: int64(g.Limits.MaxDocumentBytes)}
	for _, o := range opts {
		o(&cfg)
	}
	d.pipeline, err = pipeline.New(cfg)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Close closes what openDocuments or openDocumentsOn opened.
func (d *documents) Close() error {
	d.stopML()
	var errs []error
	if d.extractor != nil {
		errs = append(errs, d.extractor.Close())
	}
	if d.cache != nil {
		errs = append(errs, d.cache.Close())
	}
	if d.ownsStore {
		errs = append(errs, d.blobs.Close(), d.store.Close())
	}
	return errors.Join(errs...)
}
