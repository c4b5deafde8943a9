package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quirehq/quire/store"
)

// Defaults of SearchConfig.
const (
	SearchDocsDefault    = 100_000
	SearchQueriesDefault = 1000
	SearchWarmupDefault  = 100
	SearchLoadersDefault = 64
	SearchLimitDefault   = 20
	SearchTimeoutDefault = 3 * time.Hour
	searchSeedDefault    = 20261205
	// searchProgressInterval is how often the load logs its progress.
	searchProgressInterval = 10 * time.Second
)

// searchStore is the store's roles the search bench uses: it records
// documents, saves their texts with the pipeline's moves, and searches.
type searchStore interface {
	store.Documents
	store.Texts
	Backend() string
}

// SearchConfig configures Search.
type SearchConfig struct {
	// Store receives the documents and answers the queries. Required. Give
	// the bench a fresh store: Search refuses one that holds documents
	// unless Existing is set.
	Store searchStore
	// Logger receives the bench's progress. Defaults to slog.Default().
	Logger *slog.Logger

	// Docs is how many documents to generate. Defaults to 100,000.
	Docs int
	// Existing measures the documents already in the store, which an
	// earlier run generated with the same Seed, instead of generating
	// them. The result then has no generation figures and no shares of
	// documents per query word.
	Existing bool
	// Loaders is how many goroutines write documents at once. Defaults to
	// 64: SQLite's one writer commits what waits together, and PostgreSQL
	// commits on many connections at once.
	Loaders int
	// Queries is how many queries are measured, after Warmup queries that
	// are not. Defaults to 1,000 and 100.
	Queries, Warmup int
	// Limit is the hits asked of each query, a page of results. Defaults
	// to 20.
	Limit int
	// Seed makes the documents and the queries. Defaults to a fixed seed,
	// so runs are alike.
	Seed uint64
	// Timeout stops the benchmark. Defaults to 3 hours.
	Timeout time.Duration
	// Settle, when set, runs after the documents are generated (or found,
	// with Existing) and before any query: the maintenance a store gets
	// between a bulk load and its searches, such as PostgreSQL's VACUUM
	// ANALYZE, which autovacuum would run (the bench's server may have it
	// off) and without which the GIN index's pending list and missing
	// statistics are measured instead of the search.
	Settle func(context.Context) error
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c SearchConfig) WithDefaults() SearchConfig {
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.Docs = cmp.Or(c.Docs, SearchDocsDefault)
	c.Loaders = cmp.Or(c.Loaders, SearchLoadersDefault)
	c.Queries = cmp.Or(c.Queries, SearchQueriesDefault)
	c.Warmup = cmp.Or(c.Warmup, SearchWarmupDefault)
	c.Limit = cmp.Or(c.Limit, SearchLimitDefault)
	c.Seed = cmp.Or(c.Seed, searchSeedDefault)
	c.Timeout = cmp.Or(c.Timeout, SearchTimeoutDefault)
	return c
}

func (c *SearchConfig) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.Docs < 1 {
		errs = append(errs, fmt.Errorf("Docs %d must be at least 1", c.Docs))
	}
	if c.Loaders < 1 {
		errs = append(errs, fmt.Errorf("Loaders %d must be at least 1", c.Loaders))
	}
	if c.Queries < 1 {
		errs = append(errs, fmt.Errorf("Queries %d must be at least 1", c.Queries))
	}
	if c.Warmup < 0 {
		errs = append(errs, fmt.Errorf("Warmup %d must not be negative", c.Warmup))
	}
	if c.Limit < 1 || c.Limit > store.ListLimitMax {
		errs = append(errs, fmt.Errorf("Limit %d must be 1 to %d", c.Limit, store.ListLimitMax))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("Timeout %s must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

// SearchKind is the figures of one kind of query.
type SearchKind struct {
	Queries int     `json:"queries"`
	P50MS   float64 `json:"p50_ms"`
	P95MS   float64 `json:"p95_ms"`
	MaxMS   float64 `json:"max_ms"`
	// WithHits is the share of the kind's queries that found documents.
	WithHits float64 `json:"with_hits"`
	// Windowed is the share of the kind's queries that matched more
	// documents than the store ranks and counts (store.SearchWindow).
	Windowed float64 `json:"windowed"`
	// DocShareP50 is, over the kind's queries, the median share of the
	// documents that hold the query's rarest word: how much of the index
	// the kind's queries touch. Absent for an existing store.
	DocShareP50 float64 `json:"doc_share_p50,omitempty"`
}

// SearchResult is what Search measured; its JSON is what `quire bench
// search --json` prints. The first four fields are the headline figures.
type SearchResult struct {
	Docs  int     `json:"docs"`
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	QPS   float64 `json:"qps"`

	Store   string  `json:"store"`
	P99MS   float64 `json:"p99_ms"`
	Queries int     `json:"queries"`
	Limit   int     `json:"limit"`
	// GenerateS is how long generating and saving the documents took, and
	// DocsPerS its rate; both 0 for an existing store.
	GenerateS float64 `json:"generate_s"`
	DocsPerS  float64 `json:"docs_per_s"`
	// TextMiB is the generated texts' size.
	TextMiB float64 `json:"text_mib"`
	// DBMiB is the database's size on disk, when the caller knows it.
	DBMiB float64               `json:"db_mib,omitempty"`
	Kinds map[string]SearchKind `json:"kinds"`
	// Location is where the kept store is (--keep), for --existing runs.
	Location string `json:"location,omitempty"`
}

// Search generates Docs documents of real words into the store, through
// its public API as the pipeline writes them, then measures the latency of
// a mix of queries (searchQueryKinds), one at a time, after a warm-up,
// each asking for a page of hits and the facets, as the web UI does.
func Search(ctx context.Context, cfg *SearchConfig) (*SearchResult, error) {
	c := cfg.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("bench: invalid search config: %w", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout, fmt.Errorf("bench: timed out after %s", c.Timeout))
	defer cancel()
	langs, err := loadSearchLanguages()
	if err != nil {
		return nil, err
	}
	gen := newSearchGen(c.Seed, langs)
	queries := makeSearchQueries(rand.New(rand.NewPCG(c.Seed, 1<<40)), langs[0].words, c.Queries, c.Limit)
	warmup := makeSearchQueries(rand.New(rand.NewPCG(c.Seed, 1<<41)), langs[0].words, c.Warmup, c.Limit)
	gen.track, _ = trackWords(len(langs[0].words), queries)

	res := &SearchResult{Docs: c.Docs, Store: c.Store.Backend(), Queries: c.Queries, Limit: c.Limit}
	st, err := c.Store.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: read the store: %w", err)
	}
	var df []int64
	switch {
	case c.Existing:
		if st.Documents == 0 {
			return nil, errors.New("bench: the existing store holds no documents")
		}
		res.Docs = int(st.Documents)
	case st.Documents > 0:
		return nil, &StoreNotEmptyError{Documents: st.Documents}
	default:
		ld, err := loadSearchDocs(ctx, &c, gen)
		if err != nil {
			return nil, err
		}
		df = ld.df
		res.GenerateS = ld.elapsed.Seconds()
		res.DocsPerS = perSecond(c.Docs, ld.elapsed)
		res.TextMiB = mib(uint64(ld.textBytes))
	}

	if c.Settle != nil {
		c.Logger.Info("bench: settling the store")
		t := time.Now()
		if err := c.Settle(ctx); err != nil {
			return nil, fmt.Errorf("bench: settle the store: %w", err)
		}
		c.Logger.Info("bench: settled the store", "took", time.Since(t).Round(time.Millisecond))
	}
	c.Logger.Info("bench: warming up", "queries", len(warmup))
	if _, err := runSearchQueries(ctx, c.Logger, c.Store, warmup); err != nil {
		return nil, err
	}
	c.Logger.Info("bench: measuring", "queries", len(queries))
	start := time.Now()
	lat, err := runSearchQueries(ctx, c.Logger, c.Store, queries)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	res.QPS = perSecond(len(queries), elapsed)
	all := make([]time.Duration, len(lat))
	byKind := map[string][]int{}
	for i, l := range lat {
		all[i] = l.d
		byKind[queries[i].kind] = append(byKind[queries[i].kind], i)
	}
	slices.Sort(all)
	res.P50MS, res.P95MS, res.P99MS = millis(percentile(all, 0.50)), millis(percentile(all, 0.95)), millis(percentile(all, 0.99))
	res.Kinds = map[string]SearchKind{}
	for kind, idx := range byKind {
		ds := make([]time.Duration, len(idx))
		shares := make([]float64, 0, len(idx))
		hits, windowed := 0, 0
		for k, i := range idx {
			ds[k] = lat[i].d
			if lat[i].hits > 0 {
				hits++
			}
			if lat[i].windowed {
				windowed++
			}
			if df != nil {
				if sh := queries[i].rarestShare(gen.track, df, c.Docs); sh >= 0 {
					shares = append(shares, sh)
				}
			}
		}
		slices.Sort(ds)
		slices.Sort(shares)
		sk := SearchKind{
			Queries: len(idx), P50MS: millis(percentile(ds, 0.50)), P95MS: millis(percentile(ds, 0.95)),
			MaxMS: millis(ds[len(ds)-1]), WithHits: float64(hits) / float64(len(idx)),
			Windowed: float64(windowed) / float64(len(idx)),
		}
		if len(shares) > 0 {
			sk.DocShareP50 = shares[len(shares)/2]
		}
		res.Kinds[kind] = sk
	}
	return res, nil
}

// searchLoad is what loading the documents did.
type searchLoad struct {
	elapsed   time.Duration
	textBytes int64
	// df counts, per tracked word, the documents with a text holding it.
	df []int64
}

// loadSearchDocs generates the documents and saves them from c.Loaders
// goroutines, each document as the pipeline saves one: created, then moved
// with its text and analysis in one call.
func loadSearchDocs(ctx context.Context, c *SearchConfig, gen *searchGen) (*searchLoad, error) {
	nTracked := 0
	for _, t := range gen.track {
		nTracked = max(nTracked, int(t)+1)
	}
	ld := &searchLoad{df: make([]int64, nTracked)}
	var (
		next, done atomic.Int64
		textBytes  atomic.Int64
		mu         sync.Mutex
		firstErr   error
		wg         sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.Logger.Info("bench: generating documents", "docs", c.Docs, "loaders", c.Loaders, "store", c.Store.Backend())
	start := time.Now()
	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(searchProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				n := done.Load()
				el := time.Since(start)
				rate := perSecond(int(n), el)
				eta := time.Duration(0)
				if rate > 0 {
					eta = time.Duration(float64(c.Docs-int(n)) / rate * float64(time.Second))
				}
				c.Logger.Info("bench: generating", "docs", n, "of", c.Docs, "docs_per_s", int(rate),
					"text_mib", int(mib(uint64(textBytes.Load()))), "eta", eta.Round(time.Second))
			}
		}
	}()
	for range c.Loaders {
		wg.Go(func() {
			seen := make([]bool, nTracked)
			local := make([]int64, nTracked)
			defer func() {
				mu.Lock()
				for k, v := range local {
					ld.df[k] += v
				}
				mu.Unlock()
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= c.Docs || ctx.Err() != nil {
					return
				}
				clear(seen)
				d := gen.doc(i, seen)
				if err := saveSearchDoc(ctx, c.Store, &d); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("bench: save document %d: %w", i, err)
					}
					mu.Unlock()
					cancel()
					return
				}
				if d.state != store.StateFailed && d.state != store.StateReceived {
					for k, s := range seen {
						if s {
							local[k]++
						}
					}
					textBytes.Add(int64(len(d.text)))
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(progressDone)
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	ld.elapsed = time.Since(start)
	ld.textBytes = textBytes.Load()
	c.Logger.Info("bench: generated documents", "docs", c.Docs, "elapsed", ld.elapsed.Round(time.Millisecond),
		"docs_per_s", int(perSecond(c.Docs, ld.elapsed)), "text_mib", int(mib(uint64(ld.textBytes))))
	return ld, nil
}

// searchModelVersion names the analyses the bench saves.
const searchModelVersion = "bench-doctype@1"

// saveSearchDoc saves one generated document as the pipeline would: a
// received document moved, with its text and analysis, to its final state.
// A failed one has no text, as most failures happen before any is saved.
func saveSearchDoc(ctx context.Context, st searchStore, d *searchDoc) error {
	doc, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{
		SHA256: d.sha256, Name: d.name, MIMEType: d.mime, Size: d.size,
		Source: store.SourceProcess, BlobKey: d.sha256,
	})
	if err != nil {
		return err
	}
	text := &store.SaveTextParams{
		Text: d.text, Title: d.title,
		Metadata: map[string]string{"created": d.created.Format(time.RFC3339)},
	}
	analysis := []*store.SaveAnalysisParams{{
		ModelVersion:    searchModelVersion,
		Classifications: []store.Classification{{Label: d.docType, Confidence: 0.9}},
		Language:        d.lang,
	}}
	from := []store.State{store.StateReceived}
	switch d.state {
	case store.StateReceived:
		return nil
	case store.StateFailed:
		_, err = st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from, To: store.StateFailed,
			Reason: "the PDF is encrypted: upload it without a password", Stage: "extract", Unsynced: true})
	case store.StateIndexed:
		_, err = st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from, To: store.StateAnalyzing,
			Text: text, Unsynced: true})
		if err == nil {
			_, err = st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: []store.State{store.StateAnalyzing},
				To: store.StateIndexed, Analyses: analysis, Unsynced: true})
		}
	default:
		_, err = st.SetState(ctx, &store.SetStateParams{ID: doc.ID, From: from, To: store.StateDone,
			Text: text, Analyses: analysis, Unsynced: true})
	}
	return err
}

// searchLatency is one query's latency and hits.
type searchLatency struct {
	d        time.Duration
	hits     int
	windowed bool // the query matched more documents than the store ranks
}

// runSearchQueries runs the queries one after another, each logged at
// debug level: a slow kind's figures are then read query by query.
func runSearchQueries(ctx context.Context, log *slog.Logger, st searchStore, queries []searchQuery) ([]searchLatency, error) {
	lat := make([]searchLatency, len(queries))
	for i := range queries {
		q := &queries[i]
		p := q.params
		start := time.Now()
		res, err := st.Search(ctx, &p)
		d := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("bench: %s query %q: %w", q.kind, q.params.Query, err)
		}
		lat[i] = searchLatency{d: d, hits: len(res.Hits), windowed: res.Windowed}
		log.Debug("bench: query", "kind", q.kind, "query", p.Query, "state", p.State, "type", p.MIMEType,
			"language", p.Language, "ms", float64(d.Microseconds())/1000, "hits", len(res.Hits), "windowed", res.Windowed)
	}
	return lat, nil
}

// WriteTable writes the result as the table `quire bench search` prints.
func (r *SearchResult) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "quire bench search (store %s): %d documents, %d queries of %d hits\n", r.Store, r.Docs, r.Queries, r.Limit)
	if r.GenerateS > 0 {
		fmt.Fprintf(w, "  %-12s %10.1f s (%.0f docs/s, %.0f MiB of text)\n", "generated", r.GenerateS, r.DocsPerS, r.TextMiB)
	}
	if r.DBMiB > 0 {
		fmt.Fprintf(w, "  %-12s %10.0f MiB\n", "database", r.DBMiB)
	}
	fmt.Fprintf(w, "  %-12s %10.1f ms p50, %.1f ms p95, %.1f ms p99, %.1f queries/s\n", "all", r.P50MS, r.P95MS, r.P99MS, r.QPS)
	for _, kind := range searchQueryKinds {
		k, ok := r.Kinds[kind.name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %-12s %10.1f ms p50, %.1f ms p95, %.1f ms max; %3.0f%% found hits, %3.0f%% windowed",
			kind.name, k.P50MS, k.P95MS, k.MaxMS, 100*k.WithHits, 100*k.Windowed)
		if k.DocShareP50 > 0 {
			fmt.Fprintf(w, "; rarest word in %.2f%% of documents (median)", 100*k.DocShareP50)
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	if r.Location != "" {
		fmt.Fprintf(w, "  kept: %s\n", r.Location)
	}
	return nil
}
