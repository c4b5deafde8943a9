package sqlitesync

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// OpenDB opens a database/sql handle on the SQLite database of dsn whose
// connections keep the statements they execute prepared. database/sql
// hands an Exec to the driver as text, and the driver compiles it again
// every time; for the short, repeated statements of a write transaction the
// compiling costs as much as the writing, and the writer connection is the
// one thing all of a process's writes wait for. Queries, whose rows hold
// their statement until read, are not cached.
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
	return &cachingConn{Conn: dc, stmts: map[string]driver.Stmt{}}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// cachingConn is a modernc.org/sqlite connection that executes through
// statements it keeps. database/sql uses a connection from one goroutine at
// a time, so stmts needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]driver.Stmt
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
	st, ok := c.stmts[query]
	if !ok {
		var err error
		if st, err = c.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if len(c.stmts) < stmtCacheMax {
			c.stmts[query] = st
		} else {
			defer st.Close()
		}
	}
	return st.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
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
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.Conn.Close())...)
}
