package sqlitedriver

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// maintenanceMaxDefault bounds one promotion or rescue when the caller sets
// no Max.
const maintenanceMaxDefault = 1000

// JobInsertMany stores jobs in one transaction, a durable commit (see the
// package documentation): with the default synchronous=FULL the call returns
// once the jobs are on disk, unless p.NoSync lets it skip the flush. Ready jobs go to the back of their queue in the order
// given. A job whose id is already stored is left as it is, so an enqueue
// retried after an unclear failure stores nothing twice.
func (d *Driver) JobInsertMany(ctx context.Context, p *jobdriver.JobInsertManyParams) (*jobdriver.JobInsertManyResult, error) {
	res := &jobdriver.JobInsertManyResult{}
	if len(p.Jobs) == 0 {
		return res, nil
	}
	now := micros(p.Now)
	var queues []string
	seen := map[string]bool{}
	nReady, hasUnique := 0, false
	for _, j := range p.Jobs {
		if !seen[j.Queue] {
			seen[j.Queue] = true
			queues = append(queues, j.Queue)
		}
		if !scheduled(j, p.Now) {
			nReady++
		}
		hasUnique = hasUnique || j.UniqueKey != ""
	}
	var added []string
	readyQueues := map[string]bool{}
	kind := durable
	if p.NoSync {
		kind = bookkeeping // synced by the next durable commit or checkpoint
	}
	err := d.write(ctx, kind, func(tx *sql.Tx) error {
		var err error
		if added, err = d.registerQueues(ctx, tx, queues); err != nil {
			return err
		}
		var back int64
		if nReady > 0 {
			if err := tx.StmtContext(ctx, d.ws.endsBack).QueryRowContext(ctx, nReady).Scan(&back); err != nil {
				return err
			}
			back -= int64(nReady) // the place before the first ready job
		}
		var uniqueGet, uniqueTake *sql.Stmt
		if hasUnique {
			// Keys held for a time are dropped here rather than by a timer.
			if _, err := tx.StmtContext(ctx, d.ws.uniqueSweep).ExecContext(ctx, now); err != nil {
				return err
			}
			uniqueGet = tx.StmtContext(ctx, d.ws.uniqueGet)
			uniqueTake = tx.StmtContext(ctx, d.ws.uniqueTake)
		}
		insert := tx.StmtContext(ctx, d.ws.insert)
		for i, j := range p.Jobs {
			state, pos := jobtype.StateScheduled, micros(j.ScheduledAt)
			if !scheduled(j, p.Now) {
				back++
				state, pos = jobtype.StateReady, back
			}
			if j.UniqueKey != "" {
				holder, err := takeUniqueKey(ctx, uniqueGet, uniqueTake, j, now)
				if err != nil {
					return err
				}
				if holder != "" {
					if res.Duplicates == nil {
						res.Duplicates = map[int]string{}
					}
					res.Duplicates[i] = holder
					continue
				}
			}
			if _, err := insert.ExecContext(ctx, insertArgs(j, state, pos)...); err != nil {
				return fmt.Errorf("job %s: %w", j.ID, err)
			}
			if state == jobtype.StateReady {
				readyQueues[j.Queue] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: insert %d jobs: %w", len(p.Jobs), err)
	}
	d.rememberQueues(added)
	for q := range readyQueues {
		d.hub.notify(q)
	}
	return res, nil
}

// scheduled reports whether j waits for its time rather than being ready.
func scheduled(j *jobtype.Job, now time.Time) bool {
	return !j.ScheduledAt.IsZero() && j.ScheduledAt.After(now)
}

// takeUniqueKey takes j's unique key unless a live holder has it, and returns
// that holder's id, or "" when j may be stored. A key already held by j
// itself counts as taken, so a retried enqueue is harmless.
func takeUniqueKey(ctx context.Context, get, take *sql.Stmt, j *jobtype.Job, now int64) (string, error) {
	var holder string
	var expires int64
	err := get.QueryRowContext(ctx, j.Queue, j.UniqueKey).Scan(&holder, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		holder = ""
	case err != nil:
		return "", err
	case expires != 0 && expires <= now:
		holder = "" // expired: the key is free
	case holder != j.ID:
		return holder, nil
	}
	if holder == j.ID {
		return "", nil
	}
	var expiry any // NULL: held until the job finishes
	if !j.UniqueUntil.IsZero() {
		expiry = micros(j.UniqueUntil)
	}
	_, err = take.ExecContext(ctx, j.Queue, j.UniqueKey, j.ID, expiry)
	return "", err
}

// JobFetch takes up to Max ready jobs from the front of the queue in one
// transaction and holds them under a lease token unique to this call. A
// queue that is paused or empty is seen from a read connection, without
// taking the write lock.
func (d *Driver) JobFetch(ctx context.Context, p *jobdriver.JobFetchParams) (*jobdriver.JobFetchResult, error) {
	res := &jobdriver.JobFetchResult{}
	if p.Max <= 0 {
		return res, nil
	}
	var paused, ready bool
	if err := d.rs.peek.QueryRowContext(ctx, p.Queue).Scan(&paused, &ready); err != nil {
		return nil, fmt.Errorf("sqlitedriver: fetch %s: %w", p.Queue, err)
	}
	if paused {
		res.Paused = true
		return res, nil
	}
	if !ready {
		return res, nil
	}
	token := p.LeaseOwner + ":" + d.nonce + strconv.FormatUint(d.fetchSeq.Add(1), 36)
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		// Paused since the peek? Checked again under the lock.
		var pausedNow bool
		err := tx.StmtContext(ctx, d.ws.paused).QueryRowContext(ctx, p.Queue).Scan(&pausedNow)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if pausedNow {
			res.Paused = true
			return nil
		}
		want := p.Max
		if p.MaxRunning > 0 {
			// Counted under the write lock, so no other fetch takes
			// the same room.
			var running int
			if err := tx.StmtContext(ctx, d.ws.running).QueryRowContext(ctx, p.Queue).Scan(&running); err != nil {
				return err
			}
			if running >= p.MaxRunning {
				res.Capped = true
				return nil
			}
			want = min(want, p.MaxRunning-running)
		}
		rows, err := tx.StmtContext(ctx, d.ws.fetchSelect).QueryContext(ctx, p.Queue, want)
		if err != nil {
			return err
		}
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				rows.Close()
				return err
			}
			j.State = jobtype.StateRunning
			j.Lease = token + "/" + j.ID
			res.Jobs = append(res.Jobs, j)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(res.Jobs) == 0 {
			return nil
		}
		_, err = tx.StmtContext(ctx, d.ws.fetchTake).ExecContext(ctx, p.Queue, len(res.Jobs), micros(p.LeaseUntil), token)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: fetch %s: %w", p.Queue, err)
	}
	return res, nil
}

// JobCompleteMany records outcomes in one transaction. A completion applies
// only while the job is still held under the lease it was fetched with; one
// whose lease was lost changes nothing and counts as stale.
func (d *Driver) JobCompleteMany(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	return d.completeMany(ctx, p, false)
}

// JobCompleteManyBatched is JobCompleteMany that also records the final
// outcomes of the batch jobs among the applied completions in their batches,
// in the same transaction, and claims the callbacks that became due: one
// commit where the engine's protocol would take one per batch beside the
// completions' own.
func (d *Driver) JobCompleteManyBatched(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	return d.completeMany(ctx, p, true)
}

var _ jobdriver.BatchCompleter = (*Driver)(nil)

func (d *Driver) completeMany(ctx context.Context, p *jobdriver.JobCompleteManyParams, batches bool) (*jobdriver.JobCompleteManyResult, error) {
	res := &jobdriver.JobCompleteManyResult{}
	if len(p.Completions) == 0 {
		return res, nil
	}
	requeues := 0
	for _, c := range p.Completions {
		switch c.Outcome {
		case jobdriver.OutcomeDone:
		case jobdriver.OutcomeRequeue:
			requeues++
		case jobdriver.OutcomeRetry, jobdriver.OutcomeDead, jobdriver.OutcomeSnooze:
			if c.Updated == nil {
				return nil, fmt.Errorf("sqlitedriver: complete job %s: outcome %d needs the updated job", c.Job.ID, c.Outcome)
			}
		default:
			return nil, fmt.Errorf("sqlitedriver: complete job %s: unknown outcome %d", c.Job.ID, c.Outcome)
		}
	}
	now := micros(p.Now)
	date := p.Now.UTC().Format(time.DateOnly)
	minute := jobdriver.MinuteKey(p.Now)
	type tally struct{ processed, failed int64 }
	counts := map[string]*tally{}
	var order []string
	buried := map[string]bool{}
	requeued := map[string]bool{}
	prune := d.pruneDue(date)
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		*res = jobdriver.JobCompleteManyResult{} // in case the writer runs fn again
		var outcomes batchOutcomes
		var front int64
		if requeues > 0 {
			if err := tx.StmtContext(ctx, d.ws.endsFront).QueryRowContext(ctx, requeues).Scan(&front); err != nil {
				return err
			}
			// Places front+requeues-1 down to front: the last handed back
			// runs first, as at the consuming end of a Redis list.
			front += int64(requeues)
		}
		var done, move, requeue, release *sql.Stmt
		for _, c := range p.Completions {
			j := c.Job
			var r sql.Result
			var err error
			switch c.Outcome {
			case jobdriver.OutcomeDone:
				if done == nil {
					done = tx.StmtContext(ctx, d.ws.done)
				}
				r, err = done.ExecContext(ctx, j.ID, j.Lease)
			case jobdriver.OutcomeRequeue:
				if requeue == nil {
					requeue = tx.StmtContext(ctx, d.ws.requeue)
				}
				front--
				r, err = requeue.ExecContext(ctx, j.ID, j.Lease, front)
			default:
				if move == nil {
					move = tx.StmtContext(ctx, d.ws.move)
				}
				u := c.Updated
				state, pos := jobtype.StateRetry, micros(u.ScheduledAt)
				switch c.Outcome {
				case jobdriver.OutcomeDead:
					state, pos = jobtype.StateDead, now
				case jobdriver.OutcomeSnooze:
					state = jobtype.StateScheduled
				}
				r, err = move.ExecContext(ctx, j.ID, j.Lease, string(state), pos, u.Attempt, micros(u.EnqueuedAt),
					micros(u.ScheduledAt), u.Error, micros(u.FailedAt))
			}
			if err != nil {
				return fmt.Errorf("job %s: %w", j.ID, err)
			}
			if n, err := r.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				res.Stale++
				continue
			}
			res.Applied++
			if batches && j.BatchID != "" && (c.Outcome == jobdriver.OutcomeDone || c.Outcome == jobdriver.OutcomeDead) {
				outcomes.add(j.BatchID, jobdriver.BatchOutcome{Member: j.ID, Succeeded: c.Outcome == jobdriver.OutcomeDone})
			}
			if (c.Outcome == jobdriver.OutcomeDone || c.Outcome == jobdriver.OutcomeDead) && heldUntilFinished(j) {
				if release == nil {
					release = tx.StmtContext(ctx, d.ws.uniqueRelease)
				}
				if _, err := release.ExecContext(ctx, j.Queue, j.UniqueKey, j.ID); err != nil {
					return err
				}
			}
			t := counts[j.Queue]
			if t == nil {
				t = &tally{}
				counts[j.Queue] = t
				order = append(order, j.Queue)
			}
			switch c.Outcome {
			case jobdriver.OutcomeDone:
				t.processed++
			case jobdriver.OutcomeRetry:
				t.processed++
				t.failed++
			case jobdriver.OutcomeDead:
				t.processed++
				t.failed++
				buried[j.Queue] = true
			case jobdriver.OutcomeRequeue:
				requeued[j.Queue] = true
			}
		}
		for _, id := range outcomes.order {
			fires, err := d.recordBatch(ctx, tx, id, outcomes.by[id], false, true, now)
			if err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
			res.BatchFires = append(res.BatchFires, fires...)
		}
		for _, q := range order {
			t := counts[q]
			if t.processed == 0 && t.failed == 0 {
				continue
			}
			if err := d.count(ctx, tx, q, date, minute, t.processed, t.failed); err != nil {
				return err
			}
		}
		for q := range buried {
			if err := d.capDead(ctx, tx, q, p.Now); err != nil {
				return err
			}
		}
		if prune {
			cutoff := p.Now.Add(-d.cfg.DailyStatsTTL).UTC().Format(time.DateOnly)
			minutes := jobdriver.MinuteKey(p.Now.Add(-time.Duration(jobdriver.MinutesMax) * time.Minute))
			if _, err := tx.StmtContext(ctx, d.ws.countersPrune).ExecContext(ctx, cutoff, minutes); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: complete %d jobs: %w", len(p.Completions), err)
	}
	if prune {
		d.pruned(date)
	}
	for q := range requeued {
		d.hub.notify(q)
	}
	return res, nil
}

// batchOutcomes groups outcomes by batch, in the order the batches came.
type batchOutcomes struct {
	by    map[string][]jobdriver.BatchOutcome
	order []string
}

func (b *batchOutcomes) add(id string, o jobdriver.BatchOutcome) {
	if b.by == nil {
		b.by = map[string][]jobdriver.BatchOutcome{}
	}
	if _, ok := b.by[id]; !ok {
		b.order = append(b.order, id)
	}
	b.by[id] = append(b.by[id], o)
}

// heldUntilFinished reports whether j holds a unique key that it releases
// when it finishes, rather than at a set time.
func heldUntilFinished(j *jobtype.Job) bool {
	return j.UniqueKey != "" && j.UniqueUntil.IsZero()
}

// count adds executions to a queue's total, daily and per-minute counters.
func (d *Driver) count(ctx context.Context, tx *sql.Tx, queue, date, minute string, processed, failed int64) error {
	st := tx.StmtContext(ctx, d.ws.count)
	for _, key := range [...]string{"", date, minute} {
		if _, err := st.ExecContext(ctx, queue, key, processed, failed); err != nil {
			return err
		}
	}
	return nil
}

// pruneDue reports whether the daily counters past DailyStatsTTL have not
// yet been dropped on this date by this driver: once a day is enough.
func (d *Driver) pruneDue(date string) bool {
	d.pruneMu.Lock()
	defer d.pruneMu.Unlock()
	return d.prunedOn != date
}

func (d *Driver) pruned(date string) {
	d.pruneMu.Lock()
	d.prunedOn = date
	d.pruneMu.Unlock()
}

// capDead drops the queue's dead jobs that are older than DeadMaxAge or
// beyond the DeadMaxJobs newest.
func (d *Driver) capDead(ctx context.Context, tx *sql.Tx, queue string, now time.Time) error {
	if _, err := tx.StmtContext(ctx, d.ws.deadAge).ExecContext(ctx, queue, micros(now.Add(-d.cfg.DeadMaxAge))); err != nil {
		return err
	}
	_, err := tx.StmtContext(ctx, d.ws.deadCap).ExecContext(ctx, queue, d.cfg.DeadMaxJobs)
	return err
}

// JobLeaseExtendMany moves the lease deadline of jobs still held under the
// lease they were fetched with; a job that was rescued is left alone.
func (d *Driver) JobLeaseExtendMany(ctx context.Context, p *jobdriver.JobLeaseExtendManyParams) error {
	if len(p.Jobs) == 0 {
		return nil
	}
	until := micros(p.LeaseUntil)
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		st := tx.StmtContext(ctx, d.ws.extend)
		for _, j := range p.Jobs {
			if _, err := st.ExecContext(ctx, j.ID, j.Lease, until); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: extend leases of %d jobs: %w", len(p.Jobs), err)
	}
	return nil
}

// JobPromoteDue moves scheduled jobs and retries that are due to the back of
// their queue, earliest due first. The write lock is taken only when a read
// shows something is due.
func (d *Driver) JobPromoteDue(ctx context.Context, p *jobdriver.JobPromoteDueParams) (*jobdriver.JobPromoteDueResult, error) {
	now := micros(p.Now)
	res := &jobdriver.JobPromoteDueResult{}
	var next sql.NullInt64
	if err := d.rs.nextDue.QueryRowContext(ctx, p.Queue).Scan(&next); err != nil {
		return nil, fmt.Errorf("sqlitedriver: promote due jobs of %s: %w", p.Queue, err)
	}
	if !next.Valid || next.Int64 > now {
		if next.Valid {
			res.NextAt = fromMicros(next.Int64)
		}
		return res, nil
	}
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		r, err := tx.StmtContext(ctx, d.ws.promote).ExecContext(ctx, p.Queue, now, cmp.Or(p.Max, maintenanceMaxDefault))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		res.Promoted = int(n)
		if n > 0 {
			var back int64
			if err := tx.StmtContext(ctx, d.ws.endsBack).QueryRowContext(ctx, n).Scan(&back); err != nil {
				return err
			}
		}
		return tx.StmtContext(ctx, d.ws.nextDue).QueryRowContext(ctx, p.Queue).Scan(&next)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: promote due jobs of %s: %w", p.Queue, err)
	}
	if next.Valid {
		res.NextAt = fromMicros(next.Int64)
	}
	if res.Promoted > 0 {
		d.hub.notify(p.Queue)
	}
	return res, nil
}

// JobRescueExpired returns jobs whose lease expired to the front of their
// queue. The write lock is taken only when a read shows a lease expired.
func (d *Driver) JobRescueExpired(ctx context.Context, p *jobdriver.JobRescueExpiredParams) (int, error) {
	now := micros(p.Now)
	var expired bool
	if err := d.rs.expired.QueryRowContext(ctx, p.Queue, now).Scan(&expired); err != nil {
		return 0, fmt.Errorf("sqlitedriver: rescue expired jobs of %s: %w", p.Queue, err)
	}
	if !expired {
		return 0, nil
	}
	var rescued int
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		r, err := tx.StmtContext(ctx, d.ws.rescue).ExecContext(ctx, p.Queue, now, cmp.Or(p.Max, maintenanceMaxDefault))
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		rescued = int(n)
		if n > 0 {
			var front int64
			return tx.StmtContext(ctx, d.ws.endsFront).QueryRowContext(ctx, n).Scan(&front)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlitedriver: rescue expired jobs of %s: %w", p.Queue, err)
	}
	if rescued > 0 {
		d.hub.notify(p.Queue)
	}
	return rescued, nil
}
