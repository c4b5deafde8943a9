package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/quirehq/quire/internal/sqlitesync"
)

// Defaults of the sqlite:// URL's settings.
const (
	SQLiteBusyTimeoutDefault = 10 * time.Second
	SQLiteSynchronousDefault = "FULL"
)

// sqliteApplicationID marks a Quire store database ("QDOC"), so that opening
// another application's SQLite file, or Quire's job database, fails instead
// of adding tables to it.
const sqliteApplicationID = 0x51444f43

// sqliteReaders bounds the read connections. In WAL mode readers never wait
// for the writer, so a few serve the web UI and the pipeline's reads.
const sqliteReaders = 4

type sqliteConfig struct {
	path        string
	busyTimeout time.Duration
	synchronous string
}

// parseSQLiteURL reads sqlite:///abs/path, sqlite://rel/path,
// sqlite:rel/path or a plain path, and the URL's settings.
func parseSQLiteURL(rawURL string) (sqliteConfig, error) {
	cfg := sqliteConfig{busyTimeout: SQLiteBusyTimeoutDefault, synchronous: SQLiteSynchronousDefault}
	if !strings.HasPrefix(rawURL, "sqlite:") {
		cfg.path = rawURL
	} else {
		u, err := url.Parse(rawURL)
		if err != nil {
			return cfg, err
		}
		switch {
		case u.Opaque != "": // sqlite:rel/path
			cfg.path = u.Opaque
		case u.Host != "": // sqlite://rel/path, sqlite://./rel/path
			cfg.path = u.Host + u.Path
		default: // sqlite:///abs/path
			cfg.path = u.Path
		}
		for key, vals := range u.Query() {
			val := vals[len(vals)-1]
			switch key {
			case "busy_timeout":
				d, err := time.ParseDuration(val)
				if err != nil || d < 0 {
					return cfg, fmt.Errorf("busy_timeout %q is not a duration such as 10s", val)
				}
				cfg.busyTimeout = d
			case "synchronous":
				cfg.synchronous = strings.ToUpper(val)
				if cfg.synchronous != "FULL" && cfg.synchronous != "NORMAL" {
					return cfg, fmt.Errorf("synchronous %q: use FULL or NORMAL", val)
				}
			default:
				return cfg, fmt.Errorf("unknown setting %q: use busy_timeout or synchronous", key)
			}
		}
	}
	if cfg.path == "" {
		return cfg, errors.New("no file path: use sqlite:///absolute/path/quire.db or sqlite://relative/path/quire.db")
	}
	return cfg, nil
}

// openSQLite opens (creating it and its directory if needed, its owner's
// alone: 0600 and 0700) an SQLite database with one writer connection and
// a few readers.
func openSQLite(ctx context.Context, rawURL string) (Store, error) {
	fail := func(err error) (Store, error) {
		return nil, fmt.Errorf("store: open %s: %w", Redact(rawURL), err)
	}
	cfg, err := parseSQLiteURL(rawURL)
	if err != nil {
		return fail(err)
	}
	path, err := filepath.Abs(cfg.path)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fail(fmt.Errorf("create the database's directory: %w", err))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fail(fmt.Errorf("%s is a directory, not a database file", path))
	}
	if err := sqlitesync.CreateFile(path); err != nil {
		return fail(err)
	}
	dsn := func(params url.Values) string {
		return (&url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}).String()
	}
	busy := "busy_timeout(" + strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10) + ")"
	wp := url.Values{}
	wp.Set("_txlock", "immediate") // take the write lock at BEGIN: no deadlock on upgrade
	wp.Add("_pragma", busy)
	wp.Add("_pragma", "journal_mode(WAL)")
	wp.Add("_pragma", "synchronous("+cfg.synchronous+")")
	wp.Add("_pragma", "foreign_keys(1)")
	wp.Add("_pragma", sqlitesync.TempStore)
	wp.Add("_pragma", sqlitesync.NoAutoCheckpoint)
	// The writer keeps its statements prepared: every write of the
	// process goes through it.
	w := sqlitesync.OpenDB(dsn(wp))
	// One writer: SQLite runs one write transaction at a time anyway, and
	// queueing this process's writers on one connection keeps them out of
	// the busy loop, which only other processes then meet.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	rp := url.Values{}
	rp.Add("_pragma", busy)
	rp.Add("_pragma", "foreign_keys(1)")
	rp.Add("_pragma", "query_only(1)")
	// The readers keep theirs too: a pipeline's stage reads its document
	// by the same few queries.
	r := sqlitesync.OpenDB(dsn(rp))
	r.SetMaxOpenConns(sqliteReaders)
	r.SetMaxIdleConns(sqliteReaders)
	closeAll := func() error { return errors.Join(r.Close(), w.Close()) }
	// The writer first: it creates the file and turns on WAL.
	if err := w.PingContext(ctx); err != nil {
		_ = closeAll()
		return fail(err)
	}
	var appID int64
	if err := r.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		_ = closeAll()
		return fail(err)
	}
	if appID != 0 && appID != sqliteApplicationID {
		_ = closeAll()
		return fail(fmt.Errorf("%s is not a Quire store database: it belongs to another application (application_id %#x)", path, appID))
	}
	migrations, err := fs.Sub(migrationFiles, "migrations/sqlite")
	if err != nil {
		_ = closeAll()
		return fail(err)
	}
	cp, err := sql.Open("sqlite", dsn(url.Values{"_pragma": {busy}}))
	if err != nil {
		_ = closeAll()
		return fail(err)
	}
	ckpt := sqlitesync.StartCheckpointer(cp, 0, nil)
	writer := sqlitesync.NewWriter(w, nil)
	fts := newFTSIndexer(writer, r)
	return &sqlStore{
		backend:           backendSQLite,
		w:                 w,
		r:                 r,
		migrations:        migrations,
		beginMigrate:      sqliteBeginMigrate,
		lockModel:         func(context.Context, *sql.Tx, string, string) error { return nil },
		sqliteWriter:      writer,
		sqliteSynchronous: cfg.synchronous,
		fts:               fts,
		close:             func() error { return errors.Join(fts.close(), ckpt.Close(), closeAll()) },
		now:               time.Now,
	}, nil
}

// indexPendingTexts adds the texts waiting in document_fts_pending to the
// full-text index (migration 0007 and ftsIndexer say when and why).
func indexPendingTexts(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO document_fts (rowid, text)
		SELECT t.id, t.text FROM document_fts_pending p JOIN document_text t ON t.id = p.id`); err != nil {
		return fmt.Errorf("index new texts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM document_fts_pending"); err != nil {
		return fmt.Errorf("index new texts: %w", err)
	}
	return nil
}

// sqliteBeginMigrate checks, inside the migration's IMMEDIATE transaction
// (which already makes migrators take turns), that the file is a Quire store
// or empty, and marks it as one.
func sqliteBeginMigrate(ctx context.Context, tx *sql.Tx) error {
	var appID int64
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return err
	}
	if appID == sqliteApplicationID {
		return nil
	}
	if appID != 0 {
		return fmt.Errorf("not a Quire store database: it belongs to another application (application_id %#x)", appID)
	}
	var tables int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return err
	}
	if tables > 0 {
		return errors.New("not a Quire store database: it holds another application's tables")
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", sqliteApplicationID))
	return err
}
