package sqlitedriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Batches (issue #21) live in the batches and batch_members tables
// (migrations/0003_batches.sql). Each method is one durable write
// transaction, so recording outcomes and claiming a callback are atomic;
// the engine's protocol is the same as on Redis.

const batchCols = `b.id, b.description, b.parent_id, b.callbacks, b.created_at, b.committed, b.cancelled,
	b.complete, b.success, b.firing_at,
	(SELECT count(*) FROM batch_members m WHERE m.batch_id = b.id),
	(SELECT count(*) FROM batch_members m WHERE m.batch_id = b.id AND m.outcome = 's'),
	(SELECT count(*) FROM batch_members m WHERE m.batch_id = b.id AND m.outcome = 'x')`

func scanBatch(s scanner) (*jobtype.Batch, error) {
	var (
		b                 jobtype.Batch
		callbacks         string
		created, firing   int64
		complete, success string
	)
	if err := s.Scan(&b.ID, &b.Description, &b.ParentID, &callbacks, &created, &b.Committed, &b.Cancelled,
		&complete, &success, &firing, &b.Total, &b.Succeeded, &b.Dead); err != nil {
		return nil, err
	}
	b.Callbacks = []byte(callbacks)
	b.CreatedAt = fromMicros(created)
	b.FiringAt = fromMicros(firing)
	b.Complete, b.Success = jobtype.CallbackState(complete), jobtype.CallbackState(success)
	b.Pending = b.Total - b.Succeeded - b.Dead
	return &b, nil
}

// BatchCreate stores a new, uncommitted batch.
func (d *Driver) BatchCreate(ctx context.Context, p *jobdriver.BatchCreateParams) error {
	b := p.Batch
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO batches (id, description, parent_id, callbacks, created_at)
			VALUES (?1, ?2, ?3, ?4, ?5)`, b.ID, b.Description, b.ParentID, string(b.Callbacks), micros(b.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: create batch %s: %w", b.ID, err)
	}
	return nil
}

// batchState reads the flags that decide whether members may be added.
func batchState(ctx context.Context, tx *sql.Tx, id string) (committed, cancelled bool, complete, success string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT committed, cancelled, complete, success FROM batches WHERE id = ?1`, id).
		Scan(&committed, &cancelled, &complete, &success)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("batch %s: %w", id, jobtype.ErrNotFound)
	}
	return
}

// BatchMemberAdd adds members to a batch that has not finished.
func (d *Driver) BatchMemberAdd(ctx context.Context, p *jobdriver.BatchMemberAddParams) error {
	if len(p.Members) == 0 {
		return nil
	}
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		_, cancelled, complete, _, err := batchState(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if cancelled || complete != "" {
			return fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrBatchFinished)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO batch_members (batch_id, member, queue) VALUES (?1, ?2, ?3)
			ON CONFLICT (batch_id, member) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for m, q := range p.Members {
			if _, err := stmt.ExecContext(ctx, p.ID, m, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: add %d members to batch %s: %w", len(p.Members), p.ID, err)
	}
	return nil
}

// BatchRecord records outcomes and claims the callbacks that became due, in
// one transaction.
func (d *Driver) BatchRecord(ctx context.Context, p *jobdriver.BatchRecordParams) ([]jobtype.BatchFire, error) {
	var fires []jobtype.BatchFire
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		fires = nil
		committed, cancelled, complete, success, err := batchState(ctx, tx, p.ID)
		if errors.Is(err, jobtype.ErrNotFound) {
			return nil // expired: nothing to record
		}
		if err != nil {
			return err
		}
		for _, o := range p.Outcomes {
			q := `UPDATE batch_members SET outcome = 'x' WHERE batch_id = ?1 AND member = ?2 AND outcome <> 's'`
			if o.Succeeded {
				q = `UPDATE batch_members SET outcome = 's' WHERE batch_id = ?1 AND member = ?2`
			}
			if _, err := tx.ExecContext(ctx, q, p.ID, o.Member); err != nil {
				return err
			}
		}
		if p.Commit {
			committed = true
			if _, err := tx.ExecContext(ctx, `UPDATE batches SET committed = 1 WHERE id = ?1`, p.ID); err != nil {
				return err
			}
		}
		if !committed || cancelled {
			return nil
		}
		var total, s, x int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE outcome = 's'),
			count(*) FILTER (WHERE outcome = 'x') FROM batch_members WHERE batch_id = ?1`, p.ID).Scan(&total, &s, &x); err != nil {
			return err
		}
		now := micros(p.Now)
		if complete == "" && s+x >= total {
			fires = append(fires, jobtype.BatchFire{BatchID: p.ID, Event: jobtype.BatchEventComplete})
			if _, err := tx.ExecContext(ctx, `UPDATE batches SET complete = 'firing', firing_at = ?2 WHERE id = ?1`, p.ID, now); err != nil {
				return err
			}
		}
		if success == "" && s >= total {
			fires = append(fires, jobtype.BatchFire{BatchID: p.ID, Event: jobtype.BatchEventSuccess})
			if _, err := tx.ExecContext(ctx, `UPDATE batches SET success = 'firing', firing_at = ?2 WHERE id = ?1`, p.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: record %d outcomes in batch %s: %w", len(p.Outcomes), p.ID, err)
	}
	return fires, nil
}

// BatchFiredMark marks a claimed callback fired; once the completion
// callback fired the batch expires after the retention. Expired batches are
// dropped here rather than by a timer.
func (d *Driver) BatchFiredMark(ctx context.Context, p *jobdriver.BatchFiredMarkParams) error {
	col := "complete"
	if p.Event == jobtype.BatchEventSuccess {
		col = "success"
	}
	now := micros(p.Now)
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET `+col+` = 'fired' WHERE id = ?1 AND `+col+` = 'firing'`, p.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET expires_at = ?2 WHERE id = ?1 AND complete = 'fired'`,
			p.ID, now+int64(p.Retention/time.Microsecond)); err != nil {
			return err
		}
		return dropExpiredBatches(ctx, tx, now)
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: mark %s callback of batch %s fired: %w", p.Event, p.ID, err)
	}
	return nil
}

func dropExpiredBatches(ctx context.Context, tx *sql.Tx, now int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM batch_members WHERE batch_id IN
		(SELECT id FROM batches WHERE expires_at IS NOT NULL AND expires_at <= ?1)`, now); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE expires_at IS NOT NULL AND expires_at <= ?1`, now)
	return err
}

// BatchCancel cancels a batch and returns its unfinished members.
func (d *Driver) BatchCancel(ctx context.Context, p *jobdriver.BatchCancelParams) (map[string]string, error) {
	out := map[string]string{}
	now := micros(p.Now)
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		clear(out)
		if _, _, _, _, err := batchState(ctx, tx, p.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET cancelled = 1, expires_at = ?2 WHERE id = ?1`,
			p.ID, now+int64(p.Retention/time.Microsecond)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT member, queue FROM batch_members WHERE batch_id = ?1 AND outcome = ''`, p.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m, q string
			if err := rows.Scan(&m, &q); err != nil {
				return err
			}
			out[m] = q
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: cancel batch %s: %w", p.ID, err)
	}
	return out, nil
}

// BatchGet returns a batch and its progress.
func (d *Driver) BatchGet(ctx context.Context, p *jobdriver.BatchGetParams) (*jobtype.Batch, error) {
	b, err := scanBatch(d.r.QueryRowContext(ctx, `SELECT `+batchCols+` FROM batches b WHERE b.id = ?1`, p.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: get batch %s: %w", p.ID, err)
	}
	return b, nil
}

// BatchList lists batches, newest first.
func (d *Driver) BatchList(ctx context.Context, p *jobdriver.BatchListParams) ([]*jobtype.Batch, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	return d.batchQuery(ctx, `SELECT `+batchCols+` FROM batches b ORDER BY b.created_at DESC, b.id DESC
		LIMIT ?1 OFFSET ?2`, limit, p.Offset)
}

func (d *Driver) batchQuery(ctx context.Context, q string, args ...any) ([]*jobtype.Batch, error) {
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: list batches: %w", err)
	}
	defer rows.Close()
	var out []*jobtype.Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitedriver: list batches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BatchFiringList returns the callbacks left firing since before Before.
func (d *Driver) BatchFiringList(ctx context.Context, p *jobdriver.BatchFiringListParams) ([]jobtype.BatchFire, error) {
	limit := p.Max
	if limit <= 0 {
		limit = 1000
	}
	bs, err := d.batchQuery(ctx, `SELECT `+batchCols+` FROM batches b
		WHERE (b.complete = 'firing' OR b.success = 'firing') AND b.cancelled = 0 AND b.firing_at < ?1
		ORDER BY b.firing_at LIMIT ?2`, micros(p.Before), limit)
	if err != nil {
		return nil, err
	}
	var out []jobtype.BatchFire
	for _, b := range bs {
		if b.Complete == jobtype.CallbackFiring {
			out = append(out, jobtype.BatchFire{BatchID: b.ID, Event: jobtype.BatchEventComplete})
		}
		if b.Success == jobtype.CallbackFiring {
			out = append(out, jobtype.BatchFire{BatchID: b.ID, Event: jobtype.BatchEventSuccess})
		}
	}
	return out, nil
}
