package app

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
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// StoreDBName is the embedded relational store's file in --data-dir.
const StoreDBName = "quire.db"

// Documents is the document side of Quire that up, process and migrate run:
// the relational store, blob storage, the cache, the extractor and the
// pipeline over a broker. Every command opens it with openDocuments, so that
// the embedded defaults and the switches to servers behave the same
// everywhere.
type Documents struct {
	Store     store.Store
	Blobs     *blob.Store
	cache     cache.Cache
	extractor *extract.Extractor
	Pipeline  *pipeline.Pipeline
	// Analyzer is the machine-learning Analyzer of the analyze stage, nil
	// with --ml=false; ml keeps its classifiers current (startML).
	Analyzer *ml.Analyzer
	// Tags is the tag classifier the pipeline asks for suggestions, nil
	// with --ml=false; ml keeps its model current too.
	Tags *mlpipeline.TagSuggester
	ml   *mlRuntime
	// ownsStore says Close closes the store and the blob storage:
	// openDocuments opened them; openDocumentsOn's caller did.
	ownsStore bool
}

// storeURL returns the store g selects: --postgres-url, else SQLite in
// --data-dir.
func (g *Config) storeURL() string {
	if g.PostgresURL != "" {
		return withPoolSize(g.PostgresURL)
	}
	return filepath.Join(g.DataDir, StoreDBName)
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

// BlobURLOrDefault returns the blob storage g selects: --blob-url, else a directory
// in --data-dir.
func (g *Config) BlobURLOrDefault() (string, error) {
	if g.BlobURL != "" {
		return g.BlobURL, nil
	}
	abs, err := filepath.Abs(filepath.Join(g.DataDir, "blobs"))
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: abs}).String(), nil
}

// OpenBlobs opens the blob storage the settings name.
func (g *Config) OpenBlobs(ctx context.Context) (*blob.Store, error) {
	bu, err := g.BlobURLOrDefault()
	if err != nil {
		return nil, fmt.Errorf("blob storage in %s %q: %w", Setting("data-dir"), g.DataDir, err)
	}
	bs, err := blob.Open(ctx, bu)
	if err != nil {
		return nil, fmt.Errorf("open blob storage (%s): %w", Setting("blob-url"), err)
	}
	return bs, nil
}

// OpenStore opens and migrates the relational store.
func OpenStore(ctx context.Context, g *Config) (store.Store, error) {
	st, err := store.Open(ctx, g.storeURL())
	if errors.Is(err, store.ErrInvalid) {
		return nil, Usagef("open the store (%s): %w", StoreSetting(g), err)
	}
	if err != nil {
		return nil, fmt.Errorf("open the store (%s): %w", StoreSetting(g), err)
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("migrate the store (%s): %w", StoreSetting(g), err)
	}
	return st, nil
}

// StoreSetting names the setting that locates the store, for messages:
// --postgres-url, or --data-dir and its value.
func StoreSetting(g *Config) string {
	if g.PostgresURL != "" {
		return Setting("postgres-url")
	}
	return Setting("data-dir") + " " + g.DataDir
}

// OpenDocuments opens everything the pipeline needs and the pipeline itself,
// enqueueing on b; opts adjust the pipeline's config. The store is migrated,
// as at every start of up.
func OpenDocuments(ctx context.Context, g *Config, b *Broker, log *slog.Logger, opts ...func(*pipeline.Config)) (_ *Documents, err error) {
	st, err := OpenStore(ctx, g)
	if err != nil {
		return nil, err
	}
	blobs, err := g.OpenBlobs(ctx)
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
func openDocumentsOn(ctx context.Context, g *Config, st store.Store, blobs *blob.Store, b *Broker, log *slog.Logger, opts ...func(*pipeline.Config)) (_ *Documents, err error) {
	d := &Documents{Store: st, Blobs: blobs}
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
		return nil, Usagef("invalid %s: %w", Setting("cache-url"), err)
	}
	if err := g.Limits.validate(); err != nil {
		return nil, err
	}
	if d.extractor, err = g.Limits.NewExtractor(g.Limits.PDFWorkers); err != nil {
		return nil, err
	}
	client, err := jobs.NewClient(b.Driver, &jobs.ClientConfig{Middleware: g.enqueueMiddleware()})
	if err != nil {
		return nil, err
	}
	maxRescues, err := g.maxRescues()
	if err != nil {
		return nil, err
	}
	var analyzer pipeline.Analyzer
	if d.Analyzer, analyzer, err = newMLAnalyzer(&g.ML, b.Driver, log); err != nil {
		return nil, err
	}
	cfg := pipeline.Config{Store: d.Store, Blobs: d.Blobs, Cache: d.cache, Jobs: client, Extractor: d.extractor,
		Analyzer: analyzer, WebhookAllowPrivate: g.WebhookAllowPrivate, Logger: log,
		WebhookConcurrency: g.WebhookConcurrency, Broker: b.Driver, MaxRescues: maxRescues,
		MaxBytes: int64(g.Limits.MaxDocumentBytes), Previews: g.Previews.pipelineConfig()}
	if d.Analyzer != nil {
		d.Tags = mlpipeline.NewTagSuggester(d.Store, d.Blobs)
		cfg.TagSuggester = d.Tags
	}
	for _, o := range opts {
		o(&cfg)
	}
	d.Pipeline, err = pipeline.New(cfg)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Close closes what openDocuments or openDocumentsOn opened.
func (d *Documents) Close() error {
	d.stopML()
	var errs []error
	if d.extractor != nil {
		errs = append(errs, d.extractor.Close())
	}
	if d.cache != nil {
		errs = append(errs, d.cache.Close())
	}
	if d.ownsStore {
		errs = append(errs, d.Blobs.Close(), d.Store.Close())
	}
	return errors.Join(errs...)
}

// WithStore runs fn with the migrated relational store of the settings,
// and closes it after.
func (a *App) WithStore(ctx context.Context, fn func(store.Store) error) error {
	st, err := OpenStore(ctx, &a.Config)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// WithStoreAndBlobs runs fn with the migrated relational store and the
// blob storage of the settings, and closes them after.
func (a *App) WithStoreAndBlobs(ctx context.Context, fn func(store.Store, *blob.Store) error) error {
	return a.WithStore(ctx, func(st store.Store) error {
		blobs, err := a.Config.OpenBlobs(ctx)
		if err != nil {
			return err
		}
		defer blobs.Close()
		return fn(st, blobs)
	})
}

// WithDocuments runs fn with the broker and the documents (store, blobs,
// cache, pipeline) of the settings, and closes them after.
func (a *App) WithDocuments(ctx context.Context, fn func(*Documents) error) error {
	b, err := OpenBroker(&a.Config)
	if err != nil {
		return err
	}
	defer b.Close()
	docs, err := OpenDocuments(ctx, &a.Config, b, a.Log)
	if err != nil {
		return err
	}
	defer docs.Close()
	return fn(docs)
}
