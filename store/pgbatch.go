package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// A pipeline stage's move with its results is a transaction of half a dozen
// statements: begin, the move, its pages, text, analyses, events, commit.
// Sent one by one, each is a round trip between the worker and PostgreSQL,
// and round trips, not the statements' work, were what bounded the
// pipeline's rate. pgMoveWithResults sends them all at once. The SQL is the
// same as on SQLite; only its delivery differs.

// batchExecer queues statements whose results the caller does not read, to
// be sent together.
type batchExecer struct {
	batch *pgx.Batch
}

func (b *batchExecer) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	b.batch.Queue(query, args...)
	return driver.RowsAffected(0), nil
}

// pgConn runs fn on one of the pool's connections as pgx sees it, for
// batches, then, when fn succeeded and then is not nil, then on the same
// connection through database/sql. A connection fn leaves inside a
// transaction is rolled back, and one that broke is dropped from the pool.
//
// Whatever must read more while fn holds its connection does it in then,
// never through the pool: with every connection held by a caller waiting
// for another, none would ever be handed out (a pool of four connections
// under dozens of pipeline workers).
func (s *sqlStore) pgConn(ctx context.Context, fn func(c *pgx.Conn) error, then func(conn *sql.Conn) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: a PostgreSQL connection is a %T, not pgx's", dc)
		}
		c := sc.Conn()
		err := fn(c)
		if err != nil && !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
			// Never hand back a connection inside a transaction.
			_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
		if c.IsClosed() {
			return errors.Join(err, driver.ErrBadConn)
		}
		return err
	})
	if err != nil || then == nil {
		return err
	}
	return then(conn)
}

// pgMoveWithResults is SetState with results on PostgreSQL, in one round
// trip: the transaction's statements go in one batch, the move first. Its
// results must be written only if the move happened, and the batch cannot
// look at the move's answer before sending them, so a guard statement
// after the move fails, dividing by zero, when the document did not move
// (it is not in p.To with the move's own updated_at); the server then skips
// the rest of the batch, the commit too. When the move does not happen, it
// writes nothing and says why, as explainNoMove does.
func (s *sqlStore) pgMoveWithResults(ctx context.Context, p *SetStateParams) (*Document, error) {
	var (
		doc    *Document
		noMove bool
	)
	// Why the document did not move is read on the batch's connection.
	explain := func(conn *sql.Conn) error {
		if !noMove {
			return nil
		}
		return s.explainNoMove(ctx, conn, p)
	}
	err := s.pgConn(ctx, func(c *pgx.Conn) error {
		query, args := s.moveQuery(p)
		b := &batchExecer{batch: &pgx.Batch{}}
		b.batch.Queue("BEGIN")
		if p.Unsynced {
			b.batch.Queue("SET LOCAL synchronous_commit = off")
		}
		moveAt := b.batch.Len()
		b.batch.Queue(query, args...)
		// moveQuery's $1, $2 and $3 are the ID, the new state and the time.
		b.batch.Queue("SELECT 1 / (SELECT count(*) FROM documents WHERE id = $1 AND state = $2 AND updated_at = $3)::int",
			args[0], args[1], args[2])
		if err := s.saveResults(ctx, b, p); err != nil {
			return err
		}
		b.batch.Queue("COMMIT")
		br := c.SendBatch(ctx, b.batch)
		var err error
		for i := range b.batch.Len() {
			if i == moveAt {
				doc, err = scanDocument(br.QueryRow())
			} else {
				_, err = br.Exec()
			}
			if err != nil {
				break
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if errors.Is(err, pgx.ErrNoRows) {
			doc, noMove = nil, true
			_, err = c.Exec(ctx, "ROLLBACK")
		}
		return err
	}, explain)
	return doc, err
}

// pgInsertWithEvents inserts a document and its first events in one round
// trip: a batch is one implicit transaction. When the content is already
// stored, the insert adds no row, so the events, which name the new ID, fail
// on their foreign key and are not written either; it then returns nil.
func (s *sqlStore) pgInsertWithEvents(ctx context.Context, query string, args []any, id string, events []AddEventParams) (*Document, error) {
	var doc *Document
	err := s.pgConn(ctx, func(c *pgx.Conn) error {
		ev := &batchExecer{batch: &pgx.Batch{}}
		ev.batch.Queue(query, args...)
		if err := s.insertEvents(ctx, ev, id, events); err != nil {
			return err
		}
		br := c.SendBatch(ctx, ev.batch)
		var err error
		doc, err = scanDocument(br.QueryRow())
		switch {
		case err == nil:
			for range ev.batch.Len() - 1 {
				if _, err = br.Exec(); err != nil {
					break
				}
			}
			if cerr := br.Close(); err == nil {
				err = cerr
			}
		case errors.Is(err, pgx.ErrNoRows):
			doc = nil
			if cerr := br.Close(); !isForeignKeyViolation(cerr) {
				return cerr
			}
			return nil
		default:
			_ = br.Close()
		}
		return err
	}, nil)
	return doc, err
}
