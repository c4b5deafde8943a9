package sqlitedriver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Batches (issue #21) live in the batches and batch_members tables
// (migrations/0003_batches.sql, 0007_batch_counters.sql). Each method is one
// durable write transaction, so recording outcomes and claiming a callback
// are atomic; the engine's protocol is the same as on Redis. The completer
// records a flush's batch outcomes in the transaction that completes the
// jobs (JobCompleteManyBatched), so a batch job costs no transaction of its
// own. A batch keeps its member counts as counters, so that recording a
// flush reads the flushed members only, never every member of the batch.

const batchCols = `b.id, b.description, b.parent_id, b.callbacks, b.created_at, b.committed, b.cancelled,
	b.complete, b.success, b.firing_at, b.total, b.succeeded, b.dead`

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
		var added int64 // a member added again is not counted again
		for m, q := range p.Members {
			r, err := stmt.ExecContext(ctx, p.ID, m, q)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			added += n
		}
		_, err = tx.ExecContext(ctx, `UPDATE batches SET total = total + ?2 WHERE id = ?1`, p.ID, added)
		return err
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
		var err error
		fires, err = d.recordBatch(ctx, tx, p.ID, p.Outcomes, p.Commit, false, micros(p.Now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: record %d outcomes in batch %s: %w", len(p.Outcomes), p.ID, err)
	}
	return fires, nil
}

// recordBatch records outcomes in batch id, and commits it if commit is
// set, inside tx, and claims the callbacks that became due. It reads and
// writes the given members and the batch's row, whatever the batch's size:
// a success moves a member from pending or dead to succeeded, a dead outcome
// moves it from pending to dead and never overrides a success, and the
// counters move with them, so that recording twice changes nothing.
//
// fenced says the outcomes are those of completions applied in tx under
// the jobs' leases (JobCompleteManyBatched): each job's success is then
// recorded exactly once already, as the job leaves the table with it, and
// only the counter moves; its member row is written only if it may have
// been dead (a job retried from the dead set), so the common case costs no
// write per job. A member row left pending that way is harmless: only
// BatchCancel reads pending members, and cancelling a job that is gone
// does nothing.
func (d *Driver) recordBatch(ctx context.Context, tx *sql.Tx, id string, outcomes []jobdriver.BatchOutcome, commit, fenced bool, now int64) ([]jobtype.BatchFire, error) {
	var (
		committed, cancelled bool
		complete, success    string
		deadBefore           int64
	)
	err := tx.StmtContext(ctx, d.ws.batchState).QueryRowContext(ctx, id).Scan(&committed, &cancelled, &complete, &success, &deadBefore)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // expired: nothing to record
	}
	if err != nil {
		return nil, err
	}
	var succ, dead []string
	for _, o := range outcomes {
		if o.Succeeded {
			succ = append(succ, o.Member)
		} else {
			dead = append(dead, o.Member)
		}
	}
	var dSucc, dDead int64
	switch {
	case len(succ) == 0:
	case fenced:
		dSucc = int64(len(succ))
		if deadBefore > 0 {
			n, err := execCount(ctx, tx.StmtContext(ctx, d.ws.batchRevive), id, jsonList(succ))
			if err != nil {
				return nil, err
			}
			dDead -= n
		}
	default:
		list := jsonList(succ)
		// Members that were dead and now succeed (retried from the dead
		// set) leave the dead count; there are none to look for while it
		// is zero, the usual case.
		if deadBefore > 0 {
			var was int64
			if err := tx.StmtContext(ctx, d.ws.batchWas).QueryRowContext(ctx, id, list).Scan(&was); err != nil {
				return nil, err
			}
			dDead -= was
		}
		n, err := execCount(ctx, tx.StmtContext(ctx, d.ws.batchSucceed), id, list)
		if err != nil {
			return nil, err
		}
		dSucc += n
	}
	if len(dead) > 0 {
		n, err := execCount(ctx, tx.StmtContext(ctx, d.ws.batchDie), id, jsonList(dead))
		if err != nil {
			return nil, err
		}
		dDead += n
	}
	var claimComplete, claimSuccess bool
	err = tx.StmtContext(ctx, d.ws.batchCount).QueryRowContext(ctx, id, dSucc, dDead, commit, (committed || commit) && !cancelled,
		now, complete, success).Scan(&claimComplete, &claimSuccess)
	if err != nil {
		return nil, err
	}
	var fires []jobtype.BatchFire
	if claimComplete {
		fires = append(fires, jobtype.BatchFire{BatchID: id, Event: jobtype.BatchEventComplete})
	}
	if claimSuccess {
		fires = append(fires, jobtype.BatchFire{BatchID: id, Event: jobtype.BatchEventSuccess})
	}
	return fires, nil
}

// execCount runs st and returns how many rows it changed.
func execCount(ctx context.Context, st *sql.Stmt, args ...any) (int64, error) {
	r, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// jsonList encodes strings as a JSON array, for json_each.
func jsonList(ss []string) string {
	b, _ := json.Marshal(ss) // strings always encode
	return string(b)
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
		// A job member whose success was counted only (see recordBatch)
		// is still pending here, but its job is gone: only those whose job
		// is still stored are returned, and every child batch.
		rows, err := tx.QueryContext(ctx, `SELECT m.member, m.queue FROM batch_members m
			WHERE m.batch_id = ?1 AND m.outcome = ''
			AND (m.member LIKE ?2 || '%' OR EXISTS (SELECT 1 FROM jobs j WHERE j.id = m.member))`, p.ID, jobtype.BatchMemberPrefix)
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

// BatchFiringList returns the callbacks left firing since before Before. It
// reads the batches_firing index, which holds only batches with a callback
// firing, not the batches retained after they finished.
func (d *Driver) BatchFiringList(ctx context.Context, p *jobdriver.BatchFiringListParams) ([]jobtype.BatchFire, error) {
	limit := p.Max
	if limit <= 0 {
		limit = 1000
	}
	// The WHERE repeats the index's own, which is how SQLite knows it may
	// use a partial index.
	rows, err := d.r.QueryContext(ctx, `SELECT id, complete, success FROM batches INDEXED BY batches_firing
		WHERE (complete = 'firing' OR success = 'firing') AND firing_at < ?1 AND cancelled = 0
		ORDER BY firing_at LIMIT ?2`, micros(p.Before), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: list batch callbacks left firing: %w", err)
	}
	defer rows.Close()
	var out []jobtype.BatchFire
	for rows.Next() {
		var id, complete, success string
		if err := rows.Scan(&id, &complete, &success); err != nil {
			return nil, fmt.Errorf("sqlitedriver: list batch callbacks left firing: %w", err)
		}
		if complete == string(jobtype.CallbackFiring) {
			out = append(out, jobtype.BatchFire{BatchID: id, Event: jobtype.BatchEventComplete})
		}
		if success == string(jobtype.CallbackFiring) {
			out = append(out, jobtype.BatchFire{BatchID: id, Event: jobtype.BatchEventSuccess})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitedriver: list batch callbacks left firing: %w", err)
	}
	return out, nil
}
