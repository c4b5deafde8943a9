package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrateLockKey is the PostgreSQL advisory lock that migrators take in
// turn: "quireMG" in ASCII, a number other applications sharing the
// database are unlikely to lock.
const migrateLockKey int64 = 0x717569_72654d47

// openPostgres opens a pgx pool and puts database/sql on top of it, so both
// backends share one implementation; the pool's settings from the URL
// (pool_max_conns, …) still apply.
func openPostgres(ctx context.Context, rawURL string) (Store, error) {
	fail := func(err error) (Store, error) {
		return nil, fmt.Errorf("store: open %s: %w", Redact(rawURL), err)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return fail(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	// database/sql keeps its own idle connections, each holding one of the
	// pool's: let it hold as many as the pool has, no more.
	db.SetMaxOpenConns(int(cfg.MaxConns))
	db.SetMaxIdleConns(int(cfg.MaxConns))
	db.SetConnMaxIdleTime(5 * time.Minute)
	closeAll := func() error {
		err := db.Close()
		pool.Close()
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = closeAll()
		return fail(err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations/postgres")
	if err != nil {
		_ = closeAll()
		return fail(err)
	}
	return &sqlStore{
		backend:            backendPostgres,
		pgJoinedMatchesMax: pgJoinedMatchesMax,
		w:                  db,
		r:                  db,
		migrations:         migrations,
		beginMigrate: func(ctx context.Context, tx *sql.Tx) error {
			// Held until the transaction ends, so a migrator that crashes
			// cannot leave it behind.
			_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey)
			return err
		},
		lockModel: func(ctx context.Context, tx *sql.Tx, kind, name string) error {
			// Two activations of one model's versions would each switch the
			// other off and then collide on the one-active index; they
			// take turns instead.
			_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "quire.model_versions:"+kind+"/"+name)
			return err
		},
		close: closeAll,
		now:   time.Now,
	}, nil
}
