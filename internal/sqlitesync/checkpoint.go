package sqlitesync

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// NoAutoCheckpoint is the DSN pragma of a writer connection whose
// checkpoints a Checkpointer runs. SQLite's own (every 1000 pages of log)
// runs in the commit that crosses the mark, on the writer's connection:
// every writer waiting for that group waits for the copy of the log into
// the database file and its flush too.
const NoAutoCheckpoint = "wal_autocheckpoint(0)"

// CheckpointIntervalDefault is how often a Checkpointer copies the log into
// the database file.
const CheckpointIntervalDefault = 250 * time.Millisecond

// Checkpointer copies a WAL database's log into its file in the background,
// on a connection of its own, so that the writer's commits never do it.
// A PASSIVE checkpoint takes no lock the writer needs: it copies what no
// reader still needs and leaves the rest to the next one; the writer
// starts the log over once all of it was copied.
type Checkpointer struct {
	db   *sql.DB
	log  *slog.Logger
	stop chan struct{}
	wg   sync.WaitGroup
}

// StartCheckpointer checkpoints db, whose pool it owns and closes, every
// interval (CheckpointIntervalDefault when not positive).
func StartCheckpointer(db *sql.DB, interval time.Duration, log *slog.Logger) *Checkpointer {
	if interval <= 0 {
		interval = CheckpointIntervalDefault
	}
	if log == nil {
		log = slog.Default()
	}
	db.SetMaxOpenConns(1)
	c := &Checkpointer{db: db, log: log, stop: make(chan struct{})}
	c.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				if err := c.Checkpoint(context.Background()); err != nil {
					c.log.Warn("sqlite: checkpoint failed; the log grows until one succeeds", "error", err)
				}
			}
		}
	})
	return c
}

// Checkpoint runs one PASSIVE checkpoint.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// Close stops the checkpoints and closes the pool.
func (c *Checkpointer) Close() error {
	close(c.stop)
	c.wg.Wait()
	return c.db.Close()
}
