package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the bench's own database

	"github.com/quirehq/quire/internal/bench"
	"github.com/quirehq/quire/store"
)

// BenchSearchOptions are BenchSearch's settings beyond the harness's.
type BenchSearchOptions struct {
	// Keep leaves the bench's store in place at the end (its location is in
	// the result), for a later run with ExistingStore.
	Keep bool
	// ExistingStore is the store a run with Keep left: a PostgreSQL URL or a
	// SQLite file. The bench migrates it (so new indexes apply) and
	// measures its documents instead of generating new ones.
	ExistingStore string
	// DataDirGiven says --data-dir was set: the SQLite store goes there
	// instead of $TMPDIR.
	DataDirGiven bool
}

// BenchSearch measures full-text search (bench.Search) on a store of its
// own: a fresh SQLite database in a new temporary directory (in --data-dir
// when given), or, with --postgres-url, a fresh database created on that
// server. Either is removed at the end unless o.Keep.
func (a *App) BenchSearch(ctx context.Context, sc *bench.SearchConfig, o *BenchSearchOptions) (res *bench.SearchResult, err error) {
	g := a.Config
	var (
		storeURL, location string
		size               func(context.Context) (int64, error)
	)
	switch {
	case o.ExistingStore != "":
		storeURL, location = o.ExistingStore, o.ExistingStore
		size = a.benchStoreSize(o.ExistingStore)
	case g.PostgresURL != "":
		u, drop, derr := a.benchPostgresDatabase(ctx, g.PostgresURL)
		if derr != nil {
			return nil, derr
		}
		if !o.Keep {
			defer func() { err = errors.Join(err, drop()) }()
		}
		storeURL, location = withPoolSize(u), u
		size = a.benchStoreSize(u)
	default:
		dir, derr := benchTempDir(g.DataDir, o.DataDirGiven)
		if derr != nil {
			return nil, derr
		}
		if !o.Keep {
			defer func() { err = errors.Join(err, a.removeBenchDir(dir)) }()
		}
		abs, aerr := filepath.Abs(filepath.Join(dir, StoreDBName))
		if aerr != nil {
			return nil, fmt.Errorf("bench: %w", aerr)
		}
		location = abs
		// The bench's documents can be generated again: commits need not
		// wait for the disk while it loads them (PostgreSQL's database is
		// set alike). Search reads what is committed either way.
		storeURL = "sqlite://" + location + "?synchronous=NORMAL"
		size = a.benchStoreSize(storeURL)
	}
	st, err := store.Open(ctx, storeURL)
	if err != nil {
		return nil, fmt.Errorf("bench: open the store %s: %w", store.Redact(location), err)
	}
	closed := false
	defer func() {
		if !closed {
			err = errors.Join(err, st.Close())
		}
	}()
	if err := st.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("bench: migrate the store %s: %w", store.Redact(location), err)
	}

	cfg := *sc
	cfg.Store = st
	if strings.HasPrefix(storeURL, "postgres://") || strings.HasPrefix(storeURL, "postgresql://") {
		cfg.Settle = benchPostgresSettle(storeURL)
	}
	cfg.Existing = o.ExistingStore != ""
	cfg.Logger = a.Log.With("store", st.Backend())
	res, err = bench.Search(ctx, &cfg)
	if notEmpty := (*bench.StoreNotEmptyError)(nil); errors.As(err, &notEmpty) {
		return nil, Usagef("the store %s already holds %d documents: give the bench a fresh one, or measure it with --existing",
			store.Redact(location), notEmpty.Documents)
	}
	if err != nil {
		return nil, err
	}
	// Closed first, SQLite's file holds the whole database, its log
	// checkpointed into it.
	closed = true
	if err := st.Close(); err != nil {
		return nil, fmt.Errorf("bench: close the store: %w", err)
	}
	if n, serr := size(ctx); serr == nil {
		res.DBMiB = float64(n) / (1 << 20)
	} else {
		a.Log.Warn("bench: cannot measure the database's size", "err", serr)
	}
	if o.Keep || o.ExistingStore != "" {
		res.Location = store.Redact(location)
		a.Log.Info("bench: kept its store", "location", res.Location)
	}
	return res, nil
}

// benchAdminURL is a PostgreSQL URL for a plain database/sql connection:
// pgxpool's settings (pool_*) would reach the server as unknown parameters.
func benchAdminURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, Usagef("invalid %s: %w", Setting("postgres-url"), err)
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// benchPostgresDatabase creates a database of the bench's own on the server
// of rawURL and returns its URL and the function that drops it.
func (a *App) benchPostgresDatabase(ctx context.Context, rawURL string) (string, func() error, error) {
	au, err := benchAdminURL(rawURL)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", au.String())
	if err != nil {
		return "", nil, fmt.Errorf("bench: connect to %s: %w", au.Redacted(), err)
	}
	name := "quirebench_" + RandomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("bench: create database %s on %s: %w", name, au.Redacted(), err)
	}
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off"); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("bench: set up database %s: %w", name, err)
	}
	a.Log.Info("bench: created its database", "database", name)
	u, _ := url.Parse(rawURL)
	u.Path = "/" + name
	drop := func() error {
		defer admin.Close()
		if _, err := admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("bench: drop database %s: %w", name, err)
		}
		a.Log.Info("bench: dropped its database", "database", name)
		return nil
	}
	return u.String(), drop, nil
}

// benchStoreSize returns the function that measures the size of the store
// at location: the SQLite file with its journal, or the PostgreSQL
// database.
func (a *App) benchStoreSize(location string) func(context.Context) (int64, error) {
	if strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://") {
		return func(ctx context.Context) (int64, error) {
			au, err := benchAdminURL(location)
			if err != nil {
				return 0, err
			}
			db, err := sql.Open("pgx", au.String())
			if err != nil {
				return 0, err
			}
			defer db.Close()
			var n int64
			err = db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
			return n, err
		}
	}
	path := strings.TrimPrefix(strings.TrimPrefix(location, "sqlite://"), "sqlite:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return func(context.Context) (int64, error) {
		var n int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			fi, err := os.Stat(path + suffix)
			if errors.Is(err, fs.ErrNotExist) && suffix != "" {
				continue
			}
			if err != nil {
				return 0, err
			}
			n += fi.Size()
		}
		return n, nil
	}
}

// benchPostgresSettle returns the bench's Settle on PostgreSQL: VACUUM
// ANALYZE of the tables search reads. It empties the GIN index's pending
// list (which 64 writers at once grew to gigabytes, searched by every
// query), sets the visibility map and gathers the statistics the planner
// chooses by. Autovacuum does it on a server that has it on.
func benchPostgresSettle(rawURL string) func(context.Context) error {
	return func(ctx context.Context) error {
		au, err := benchAdminURL(rawURL)
		if err != nil {
			return err
		}
		db, err := sql.Open("pgx", au.String())
		if err != nil {
			return fmt.Errorf("connect to %s: %w", au.Redacted(), err)
		}
		defer db.Close()
		for _, table := range []string{"document_text", "documents"} {
			if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) "+table); err != nil {
				return fmt.Errorf("vacuum %s: %w", table, err)
			}
		}
		return nil
	}
}
