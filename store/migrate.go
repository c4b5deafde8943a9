package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The migrations of each backend: files named NNNN_what.sql, applied in
// order of NNNN. A migration is never edited once released; a change is a
// new file, in both directories, documented in docs/schema.md.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations of one backend, in order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || path.Ext(e.Name()) != ".sql" {
			continue
		}
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive number", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 && ms[len(ms)-1].version == v {
			return nil, fmt.Errorf("migrations %s and %s have the same number", ms[len(ms)-1].name, e.Name())
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

func (s *sqlStore) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.migrations)
	if err != nil {
		return fmt.Errorf("migrate %s store: %w", s.backend, err)
	}
	// One transaction for all: a migration that fails leaves the schema as
	// it was, and a concurrent migrator waits in beginMigrate until this one
	// committed, then finds nothing left to do.
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.beginMigrate(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.schemaMigrationsDDL()); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("read schema_migrations: %w", err)
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				m.version, m.name, s.ts(s.nowUTC())); err != nil {
				return fmt.Errorf("record %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate %s store: %w", s.backend, err)
	}
	return nil
}

func (s *sqlStore) schemaMigrationsDDL() string {
	if s.pg() {
		return `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL
		)`
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`
}
