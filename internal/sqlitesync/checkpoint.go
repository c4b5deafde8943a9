package sqlitesync

import (
	"context"
	"database/sql"
	"fmt"
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

// WALFramesMax is the log's length, in frames (pages, 4 KiB by default, so
// 64 MiB), past which a Checkpointer stops the writer to copy all of the
// log and start it over. A PASSIVE checkpoint never does: under a writer
// that commits without pause it copies what was committed when it began,
// the writer has appended more by then, and a log is only started over
// once all of it was copied. A bulk load (quire bench search) grew the log
// past 500 MB that way, and every read then searched the log's index
// before the database file: the load fell from 700 to 91 documents/s.
const WALFramesMax = 16384

// Checkpointer copies a WAL database's log into its file in the background,
// on a connection of its own, so that the writer's commits never do it.
// A PASSIVE checkpoint takes no lock the writer needs: it copies what no
// reader still needs and leaves the rest to the next one; the writer
// starts the log over once all of it was copied.
type Checkpointer struct {
	db *sql.DB
	// framesMax is WALFramesMax; tests lower it.
	framesMax int
	log       *slog.Logger
	stop      chan struct{}
	wg        sync.WaitGroup
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
	c := &Checkpointer{db: db, framesMax: WALFramesMax, log: log, stop: make(chan struct{})}
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

// Checkpoint runs one PASSIVE checkpoint, and a TRUNCATE one when the log
// is longer than WALFramesMax: that one waits for the writer's transaction
// to end, keeps the next from starting until all of the log is copied, and
// then empties the log file. Its wait is bounded by the connection's
// busy_timeout; a checkpoint that could not run then is not an error, the
// next tick tries again.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	var busy, frames, copied int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("passive checkpoint: %w", err)
	}
	if frames <= c.framesMax {
		return nil
	}
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("truncate checkpoint of a log of %d frames: %w", frames, err)
	}
	if busy != 0 {
		c.log.Debug("sqlite: the log could not be emptied yet; the next checkpoint tries again", "frames", frames, "copied", copied)
	}
	return nil
}

// Close stops the checkpoints and closes the pool.
func (c *Checkpointer) Close() error {
	close(c.stop)
	c.wg.Wait()
	return c.db.Close()
}
