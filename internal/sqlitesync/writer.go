package sqlitesync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Writer runs the write transactions of one process on a SQLite database
// through its one writer connection, committing the transactions that
// arrive while another commits together: one BEGIN IMMEDIATE, each
// transaction in a savepoint of its own, one COMMIT and so one disk flush
// for all of them (group commit). SQLite writes one transaction at a time,
// and a synced commit costs a flush, so without grouping a busy process's
// writes queue behind one flush each; with it, a flush serves every writer
// that was waiting.
//
// A transaction that fails is rolled back to its savepoint and leaves the
// others' writes alone; each caller learns only after the common commit,
// and learns its error. Writers queue first come first served, not in the
// connection pool, which hands a freed connection to a random waiter.
type Writer struct {
	db    *sql.DB
	turn  chan struct{}
	level Level

	mu      sync.Mutex
	pending []*request
	leading bool

	beforeCommit func(ctx context.Context, tx *sql.Tx) error
}

// TempStore is the DSN pragma a Writer's connection should be opened with:
// each member of a group runs in a savepoint, for which SQLite copies every
// page before its first change into a sub-journal, a temporary file by
// default. In memory that copy is a memcpy instead of a write system call;
// it holds at most the pages one member changes, and is freed at RELEASE.
const TempStore = "temp_store(MEMORY)"

// NewWriter returns a Writer on db, whose pool must hold one connection.
// turn, when not nil, is a channel of one slot shared by every Writer of
// the same file in this process: their groups then take turns on it, in
// order of arrival, rather than in SQLite's busy handler, which sleeps up
// to 100 ms between tries.
func NewWriter(db *sql.DB, turn chan struct{}) *Writer { return &Writer{db: db, turn: turn} }

// BeforeCommit makes fn run at the end of every group, after its members'
// transactions and before the common COMMIT, to finish work that is cheaper
// done once for all of them (the store indexes the group's new texts
// there). If fn fails the whole group is rolled back and every member gets
// fn's error. Set it before the first Do.
func (w *Writer) BeforeCommit(fn func(ctx context.Context, tx *sql.Tx) error) { w.beforeCommit = fn }

// request is one transaction waiting for its turn.
type request struct {
	ctx   context.Context
	level string
	fn    func(tx *sql.Tx) error
	err   error
	// done gets nil when the request ran (its outcome in err), or errLead
	// when its caller must lead the next group.
	done chan error
}

var errLead = errors.New("lead the next group")

// levels orders SQLite's synchronous levels by how hard they reach the disk:
// a group commits with the hardest of its transactions' levels.
var levels = []string{"OFF", "NORMAL", "FULL", "EXTRA"}

// Do runs fn in a write transaction whose commit reaches the disk as level
// says ("FULL", "NORMAL", …, see Level), and returns fn's error, or the
// commit's. fn must not keep tx, nor commit or roll it back.
func (w *Writer) Do(ctx context.Context, level string, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !slices.Contains(levels, level) {
		return fmt.Errorf("sqlitesync: unknown synchronous level %q", level)
	}
	r := &request{ctx: ctx, level: level, fn: fn, done: make(chan error, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, r)
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	if !lead {
		// Once queued, a request runs or fails: its caller waits for the
		// outcome even if ctx ends, since fn may already be running.
		if <-r.done == nil {
			return r.err
		}
	}
	return w.lead(r)
}

// lead runs groups until r has run, then hands the lead to the oldest
// request still waiting, if any.
func (w *Writer) lead(r *request) error {
	for {
		w.mu.Lock()
		group := w.pending
		w.pending = nil
		w.mu.Unlock()
		w.run(group)
		ran := false
		for _, g := range group {
			if g == r {
				ran = true
			} else {
				g.done <- nil
			}
		}
		if ran {
			break
		}
	}
	w.mu.Lock()
	if len(w.pending) > 0 {
		w.pending[0].done <- errLead
	} else {
		w.leading = false
	}
	w.mu.Unlock()
	return r.err
}

// run runs a group in one transaction and sets each request's err.
func (w *Writer) run(group []*request) {
	var live []*request
	level := 0
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
		level = max(level, slices.Index(levels, r.level))
	}
	if len(live) == 0 {
		return
	}
	failAll := func(err error) {
		for _, r := range live {
			if r.err == nil {
				r.err = err
			}
		}
	}
	// The group's statements run under no caller's context: one caller
	// giving up must not roll back the others' writes. Each fn uses its
	// own context for its statements.
	ctx := context.WithoutCancel(live[0].ctx)
	if w.turn != nil {
		w.turn <- struct{}{}
		defer func() { <-w.turn }()
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		failAll(err)
		return
	}
	defer conn.Close()
	if err := w.level.Set(ctx, conn, levels[level]); err != nil {
		failAll(err)
		return
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		failAll(err)
		return
	}
	if len(live) == 1 {
		// Alone: no savepoint needed; its failure rolls back the whole.
		if live[0].err = runFn(live[0], tx); live[0].err != nil {
			_ = tx.Rollback()
			return
		}
	} else {
		for _, r := range live {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT quire_group"); err != nil {
				_ = tx.Rollback()
				failAll(err)
				return
			}
			r.err = runFn(r, tx)
			if r.err != nil {
				// Some errors (a full disk, an I/O error) end the whole
				// transaction; then the savepoint is gone too and no
				// member's writes may be kept.
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO quire_group"); err != nil {
					_ = tx.Rollback()
					failAll(fmt.Errorf("group commit: roll back a failed member: %w", err))
					return
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE quire_group"); err != nil {
				_ = tx.Rollback()
				failAll(err)
				return
			}
		}
	}
	if w.beforeCommit != nil {
		if err := w.beforeCommit(ctx, tx); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("group commit: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
	}
}

// runFn runs a request's fn, turning a panic into its error so that the
// group, and the caller's process, carry on.
func runFn(r *request, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlitesync: write transaction panicked: %v", p)
		}
	}()
	return r.fn(tx)
}
