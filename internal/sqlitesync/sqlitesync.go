// Package sqlitesync sets how hard a SQLite writer's commits reach the disk,
// one transaction at a time. Quire's two SQLite databases, the job engine's
// and the document store's, each write through one connection and commit
// most transactions with synchronous=NORMAL (in WAL mode: safe from a crash
// of the process, possibly lost, never torn, in a power cut) and those that
// must not come undone with their configured level, usually FULL. Both
// create their database file with CreateFile, their owner's alone.
package sqlitesync

import (
	"context"
	"database/sql"
	"fmt"
)

// Level remembers a writer connection's synchronous level, so that it is
// set only when it changes. Its user holds the writer's only connection
// while calling Set, so one Level is never used by two goroutines at once.
type Level struct {
	conn    any
	current string
}

// Set gives conn the synchronous level ("FULL", "NORMAL", …) for its next
// transaction. Call it outside a transaction.
func (l *Level) Set(ctx context.Context, conn *sql.Conn, level string) error {
	same := false
	_ = conn.Raw(func(dc any) error {
		// A connection opened since the last change starts from its DSN's
		// level: compare the driver connection too.
		same = dc == l.conn && level == l.current
		l.conn = dc
		return nil
	})
	if same {
		return nil
	}
	l.current = ""
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+level); err != nil {
		return fmt.Errorf("set synchronous = %s: %w", level, err)
	}
	l.current = level
	return nil
}
