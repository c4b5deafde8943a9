package sqlitesync

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenDB opens a database/sql handle on the SQLite database of dsn whose
// connections keep the statements they execute and query prepared.
// database/sql hands an Exec or a Query to the driver as text, and the
// driver compiles it again every time; for the short, repeated statements of
// a write transaction the compiling costs as much as the writing (an
// INSERT … RETURNING is a query), and the writer connection is the one thing
// all of a process's writes wait for. A query's rows hold its statement
// until they are closed, so a query whose kept statement is still being read
// (a second query of the same text in one transaction) is compiled afresh.
func OpenDB(dsn string) *sql.DB {
	return sql.OpenDB(&connector{dsn: dsn, drv: registered()})
}

// registered is modernc.org/sqlite's driver as it registers itself, with
// whatever functions and hooks are registered on it.
var registered = sync.OnceValue(func() driver.Driver {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err) // only for a driver name that is not registered
	}
	defer db.Close()
	return db.Driver()
})

// stmtCacheMax bounds the statements a connection keeps: the stores' writes
// are a few dozen texts, and a multi-row insert one per row count.
const stmtCacheMax = 512

type connector struct {
	dsn string
	drv driver.Driver
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: dc, stmts: map[string]*keptStmt{}}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// cachingConn is a modernc.org/sqlite connection that executes through
// statements it keeps. database/sql uses a connection from one goroutine at
// a time, so stmts needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*keptStmt
}

// keptStmt is a prepared statement and whether rows of it are still open.
type keptStmt struct {
	st      driver.Stmt
	reading bool
}

// kept returns the statement kept for query, preparing and keeping it if
// there is room; a statement returned with keep false is the caller's to
// close.
func (c *cachingConn) kept(ctx context.Context, query string) (ks *keptStmt, keep bool, err error) {
	if ks, ok := c.stmts[query]; ok {
		return ks, true, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	ks = &keptStmt{st: st}
	if len(c.stmts) < stmtCacheMax {
		c.stmts[query] = ks
		return ks, true, nil
	}
	return ks, false, nil
}

// The interfaces of the driver's connection that database/sql looks for,
// passed through.
var (
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
)

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ks, keep, err := c.kept(ctx, query)
	if err != nil {
		return nil, err
	}
	if ks.reading {
		// Its rows are open: stepping it would end them.
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	if !keep {
		defer ks.st.Close()
	}
	return ks.st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ks, keep, err := c.kept(ctx, query)
	if err != nil {
		return nil, err
	}
	if ks.reading {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := ks.st.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if !keep {
			ks.st.Close()
		}
		return nil, err
	}
	ks.reading = true
	return &keptRows{Rows: rows, ks: ks, close: !keep}, nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

// Close closes the kept statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for q, ks := range c.stmts {
		errs = append(errs, ks.st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.Conn.Close())...)
}

// keptRows are the rows of a kept statement, which they free for the next
// query when closed (or close, when it was not kept).
type keptRows struct {
	driver.Rows
	ks    *keptStmt
	close bool
}

func (r *keptRows) Close() error {
	err := r.Rows.Close()
	if r.ks != nil {
		r.ks.reading = false
		if r.close {
			err = errors.Join(err, r.ks.st.Close())
		}
		r.ks = nil
	}
	return err
}

// The column type interfaces of the driver's rows, passed through: they
// are what sql.Rows.ColumnTypes reports.
var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*keptRows)(nil)
	_ driver.RowsColumnTypeLength           = (*keptRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*keptRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*keptRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*keptRows)(nil)
)

func (r *keptRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.Rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *keptRows) ColumnTypeLength(i int) (int64, bool) {
	return r.Rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *keptRows) ColumnTypeNullable(i int) (bool, bool) {
	return r.Rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *keptRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.Rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

func (r *keptRows) ColumnTypeScanType(i int) reflect.Type {
	return r.Rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}
