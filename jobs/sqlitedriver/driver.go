package sqlitedriver

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/quirehq/quire/internal/sqlitesync"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// Defaults of Config.
const (
	DeadMaxJobsDefault   = 10_000
	DeadMaxAgeDefault    = 180 * 24 * time.Hour
	DailyStatsTTLDefault = 400 * 24 * time.Hour
	SynchronousDefault   = "FULL"
	BusyTimeoutDefault   = 10 * time.Second
)

// Config configures a Driver. The zero value is usable.
type Config struct {
	// DeadMaxJobs caps the dead set of each queue; the oldest go first.
	// Defaults to 10,000.
	DeadMaxJobs int
	// DeadMaxAge drops dead jobs older than this. Defaults to 180 days.
	DeadMaxAge time.Duration
	// DailyStatsTTL is how long daily counters are kept. Defaults to 400
	// days.
	DailyStatsTTL time.Duration
	// Synchronous is SQLite's synchronous setting for enqueues and for the
	// changes an operator makes. "FULL" (the default) syncs the log to disk
	// before such a commit returns, so an enqueued job survives a power
	// cut. "NORMAL" syncs only at checkpoints: an enqueue still survives a
	// crash of the process, but a power cut or kernel crash may lose the
	// last ones. Nothing else is accepted. The engine's own bookkeeping
	// always commits with NORMAL (see the package documentation).
	Synchronous string
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection (another process, usually) before it fails. Defaults to 10
	// seconds.
	BusyTimeout time.Duration
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.DeadMaxJobs = cmp.Or(c.DeadMaxJobs, DeadMaxJobsDefault)
	c.DeadMaxAge = cmp.Or(c.DeadMaxAge, DeadMaxAgeDefault)
	c.DailyStatsTTL = cmp.Or(c.DailyStatsTTL, DailyStatsTTLDefault)
	c.Synchronous = strings.ToUpper(cmp.Or(c.Synchronous, SynchronousDefault))
	c.BusyTimeout = cmp.Or(c.BusyTimeout, BusyTimeoutDefault)
	return c
}

func (c Config) validate() error {
	if c.DeadMaxJobs < 0 || c.DeadMaxAge < 0 || c.DailyStatsTTL < 0 || c.BusyTimeout < 0 {
		return errors.New("sqlitedriver: DeadMaxJobs, DeadMaxAge, DailyStatsTTL and BusyTimeout must not be negative")
	}
	if c.Synchronous != "FULL" && c.Synchronous != "NORMAL" {
		return fmt.Errorf("sqlitedriver: Synchronous %q: use FULL or NORMAL", c.Synchronous)
	}
	return nil
}

// readersMax bounds the read connections. Reads are short and never wait for
// the writer (WAL), so a few serve the inspector, the waiters and the
// cancellation checks of a process.
const readersMax = 4

// applicationID marks a Quire job database ("QJOB"), so that opening some
// other application's SQLite file fails instead of adding tables to it.
const applicationID = 0x514a4f42

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Driver is a jobdriver.Driver on an SQLite database file.
type Driver struct {
	path string
	cfg  Config

	w  *sql.DB // one connection: every write transaction, BEGIN IMMEDIATE
	r  *sql.DB // read-only connections
	ws writeStmts
	rs readStmts
	// writer runs the write transactions, grouping those that wait into
	// one commit; its groups take the hub's turn.
	writer *sqlitesync.Writer
	// ckpt copies the log into the file in the background, so that no
	// commit waits for it.
	ckpt *sqlitesync.Checkpointer

	hub      *hub   // this file's writers' queue and waiters, in this process
	nonce    string // makes lease tokens unique across drivers of one owner
	fetchSeq atomic.Uint64

	knownQueues sync.Map // queue name -> struct{}: registered in the queues table

	pruneMu  sync.Mutex
	prunedOn string // the UTC day whose old daily counters were last pruned

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error

	pollMu  sync.Mutex // guards waiters and polling
	waiters int
	polling bool
	pollWG  sync.WaitGroup
}

var _ jobdriver.Driver = (*Driver)(nil)

// Open opens (creating it and its directory if needed) the database at path
// and migrates it to the schema this version of Quire uses. Every process
// that runs jobs on the same file opens it with its own Open.
func Open(path string, cfg *Config) (*Driver, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("sqlitedriver: open: the database path is empty")
	}
	abs, err := resolvePath(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: open %s: %w", path, err)
	}
	d := &Driver{path: abs, cfg: c, closed: make(chan struct{}), nonce: randomNonce()}
	// Switching a new file to WAL takes an exclusive lock that SQLite does
	// not wait for: processes that open a new file at once may be told it
	// is busy. They try again; the file is in WAL mode for good after the
	// first succeeds.
	for attempt := 1; ; attempt++ {
		err = d.open()
		if err == nil {
			break
		}
		_ = d.closeDBs()
		if !isBusy(err) || attempt == openAttempts {
			return nil, fmt.Errorf("sqlitedriver: open %s: %w", abs, err)
		}
		d.w, d.r = nil, nil
		time.Sleep(time.Duration(attempt) * 20 * time.Millisecond)
	}
	d.hub = acquireHub(abs)
	d.writer = sqlitesync.NewWriter(d.w, d.hub.turn)
	return d, nil
}

// openAttempts bounds the tries of an Open that finds the file busy.
const openAttempts = 10

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// resolvePath makes path absolute and resolves the symbolic links of its
// directory, which it creates if needed (0700), so that every driver of one
// file in a process finds the same waiters. It creates the file (0600) if
// needed.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the directory: %w", err)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		abs = filepath.Join(real, filepath.Base(abs))
	}
	// Only a stat: opening and closing the file here would drop the POSIX
	// locks SQLite holds on it in this process.
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", errors.New("it is a directory, not a database file")
	}
	// A new database is its owner's alone, and so are its -wal and -shm.
	if err := sqlitesync.CreateFile(abs); err != nil {
		return "", err
	}
	return abs, nil
}

func randomNonce() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dsn returns the modernc.org/sqlite data source name of the database file
// with the given parameters. The file: URI form escapes any character a
// path may hold.
func (d *Driver) dsn(params url.Values) string {
	u := url.URL{Scheme: "file", Path: d.path, RawQuery: params.Encode()}
	return u.String()
}

func (d *Driver) open() error {
	busy := strconv.FormatInt(d.cfg.BusyTimeout.Milliseconds(), 10)
	w := url.Values{}
	w.Set("_txlock", "immediate")
	w.Add("_pragma", "busy_timeout("+busy+")")
	w.Add("_pragma", "journal_mode(WAL)")
	w.Add("_pragma", "synchronous("+d.cfg.Synchronous+")")
	w.Add("_pragma", sqlitesync.TempStore)
	w.Add("_pragma", sqlitesync.NoAutoCheckpoint)
	var err error
	if d.w, err = sql.Open("sqlite", d.dsn(w)); err != nil {
		return err
	}
	// One writer: SQLite runs one write transaction at a time anyway, and
	// write holds the connection for a whole transaction.
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	d.w.SetConnMaxIdleTime(0)
	d.w.SetConnMaxLifetime(0)
	if err := d.migrate(); err != nil {
		return err
	}
	r := url.Values{}
	r.Add("_pragma", "busy_timeout("+busy+")")
	r.Set("_query_only", "1")
	if d.r, err = sql.Open("sqlite", d.dsn(r)); err != nil {
		return err
	}
	d.r.SetMaxOpenConns(readersMax)
	d.r.SetMaxIdleConns(readersMax)
	if err := d.r.Ping(); err != nil {
		return err
	}
	if err := d.ws.prepare(d.w); err != nil {
		return err
	}
	cp, err := sql.Open("sqlite", d.dsn(url.Values{"_pragma": {"busy_timeout(" + busy + ")"}}))
	if err != nil {
		return err
	}
	d.ckpt = sqlitesync.StartCheckpointer(cp, 0, nil)
	return d.rs.prepare(d.r)
}

// migrate brings the schema up to date in one write transaction, so that
// processes opening a new file at once migrate it exactly once.
func (d *Driver) migrate() error {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	ctx := context.Background()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var mode string
	if err := tx.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		// Without WAL every reader would block the writer, and the file
		// system is likely one SQLite cannot share between processes.
		return fmt.Errorf("the database cannot use WAL mode (it is in %s mode): put it on a local disk", mode)
	}
	var appID, version int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("not a Quire job database: it belongs to another application (application_id %#x)", appID)
	}
	if version > len(names) {
		return fmt.Errorf("the database has schema version %d, newer than this version of Quire knows (%d): upgrade Quire", version, len(names))
	}
	if version == len(names) {
		return nil
	}
	for _, name := range names[version:] {
		script, err := migrationFiles.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("migrate with %s: %w", filepath.Base(name), err)
		}
	}
	// PRAGMA takes no parameters; both values are integers of ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(names))); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return err
	}
	return tx.Commit()
}

// Path returns the absolute path of the database file.
func (d *Driver) Path() string { return d.path }

// Close closes the database. Waits in progress return an error.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		// Under pollMu, so that no poller starts after the wait below.
		d.pollMu.Lock()
		close(d.closed)
		d.pollMu.Unlock()
		d.pollWG.Wait()
		releaseHub(d.path)
		d.closeErr = d.closeDBs()
	})
	return d.closeErr
}

func (d *Driver) closeDBs() error {
	var errs []error
	errs = append(errs, d.ws.close(), d.rs.close())
	if d.ckpt != nil {
		errs = append(errs, d.ckpt.Close())
	}
	if d.r != nil {
		errs = append(errs, d.r.Close())
	}
	if d.w != nil {
		errs = append(errs, d.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitedriver: close %s: %w", d.path, err)
	}
	return nil
}

// commitKind says how hard a write transaction's commit must reach the disk.
type commitKind int

const (
	// durable commits sync as Config.Synchronous says: enqueues and the
	// changes an operator asks for (retry, delete, cancel, pause), which
	// must not come undone.
	durable commitKind = iota
	// bookkeeping commits (fetch, completion, lease extension, promotion,
	// rescue, heartbeat) sync only at checkpoints. A process crash loses none
	// of them; a power cut may lose the last few, which only moves jobs back
	// to an earlier state: held again until their lease expires, or due
	// again. The log is sequential, so the next durable commit's sync covers
	// every commit before it. Syncing each of them would cost a disk flush
	// per fetch and per batch of outcomes.
	bookkeeping
)

// write runs fn in one write transaction (BEGIN IMMEDIATE: the write lock is
// taken at once, so no transaction ever fails to upgrade a read lock) and
// commits it as kind says. Writes that wait for the connection share the
// next commit (sqlitesync.Writer): one disk flush serves a burst of
// enqueues.
func (d *Driver) write(ctx context.Context, kind commitKind, fn func(tx *sql.Tx) error) error {
	level := d.cfg.Synchronous
	if kind == bookkeeping {
		level = "NORMAL"
	}
	return d.writer.Do(ctx, level, fn)
}

// registerQueues adds queues this driver has not yet seen to the queues
// table, inside tx. The cache is filled by the caller after the commit.
func (d *Driver) registerQueues(ctx context.Context, tx *sql.Tx, queues []string) ([]string, error) {
	var added []string
	var st *sql.Stmt
	for _, q := range queues {
		if _, ok := d.knownQueues.Load(q); ok {
			continue
		}
		if st == nil {
			st = tx.StmtContext(ctx, d.ws.queueAdd)
		}
		if _, err := st.ExecContext(ctx, q); err != nil {
			return nil, err
		}
		added = append(added, q)
	}
	return added, nil
}

func (d *Driver) rememberQueues(queues []string) {
	for _, q := range queues {
		d.knownQueues.Store(q, struct{}{})
	}
}
