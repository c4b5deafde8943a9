package sqlitedriver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// The operations here serve introspection and management (CLI, web UI,
// metrics). Every job is one indexed row, so finding one by id is a lookup,
// not a scan.

// JobGet finds a job by id.
func (d *Driver) JobGet(ctx context.Context, p *jobdriver.JobGetParams) (*jobtype.Job, error) {
	j, err := scanJob(d.rs.get.QueryRowContext(ctx, p.ID, p.Queue))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlitedriver: job %s: %w", p.ID, jobtype.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: get job %s: %w", p.ID, err)
	}
	return j, nil
}

// JobList lists a page of one queue's jobs in one state: ready jobs in the
// order they will run, running jobs by lease deadline, scheduled jobs and
// retries by due time, dead jobs newest first.
func (d *Driver) JobList(ctx context.Context, p *jobdriver.JobListParams) ([]*jobtype.Job, error) {
	if !p.State.Valid() {
		return nil, fmt.Errorf("sqlitedriver: list jobs: unknown state %q", p.State)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 25
	}
	st := d.rs.listAsc
	if p.State == jobtype.StateDead {
		st = d.rs.listDesc
	}
	rows, err := st.QueryContext(ctx, p.Queue, string(p.State), limit, max(p.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: list %s jobs of %s: %w", p.State, p.Queue, err)
	}
	defer rows.Close()
	var out []*jobtype.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitedriver: list %s jobs of %s: %w", p.State, p.Queue, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitedriver: list %s jobs of %s: %w", p.State, p.Queue, err)
	}
	return out, nil
}

// JobRetry makes a scheduled, retry or dead job ready now, at the back of
// its queue. The job keeps its attempts, as in Sidekiq: a dead job retried
// by hand that fails again is dead again at once.
func (d *Driver) JobRetry(ctx context.Context, p *jobdriver.JobRetryParams) error {
	if p.State != jobtype.StateScheduled && p.State != jobtype.StateRetry && p.State != jobtype.StateDead {
		return fmt.Errorf("sqlitedriver: retry job %s: only scheduled, retry and dead jobs can be retried, not %q", p.ID, p.State)
	}
	var queue string
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		var pos int64
		if err := tx.StmtContext(ctx, d.ws.endsBack).QueryRowContext(ctx, 1).Scan(&pos); err != nil {
			return err
		}
		err := tx.StmtContext(ctx, d.ws.retry).QueryRowContext(ctx, p.ID, pos, micros(p.Now), string(p.State), p.Queue).Scan(&queue)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no %s job %s: %w", p.State, p.ID, jobtype.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: retry job %s: %w", p.ID, err)
	}
	d.hub.notify(queue)
	return nil
}

// JobDelete removes a job that is not running (of any such state when State
// is empty) and releases the unique key it holds until it finishes.
func (d *Driver) JobDelete(ctx context.Context, p *jobdriver.JobDeleteParams) error {
	if p.State == jobtype.StateRunning {
		return fmt.Errorf("sqlitedriver: delete job %s: a running job cannot be deleted", p.ID)
	}
	if p.State != "" && !p.State.Valid() {
		return fmt.Errorf("sqlitedriver: delete job %s: unknown state %q", p.ID, p.State)
	}
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		var queue, key string
		var until int64
		err := tx.StmtContext(ctx, d.ws.del).QueryRowContext(ctx, p.ID, string(p.State), p.Queue).Scan(&queue, &key, &until)
		if errors.Is(err, sql.ErrNoRows) {
			if p.State != "" {
				return fmt.Errorf("no %s job %s: %w", p.State, p.ID, jobtype.ErrNotFound)
			}
			return fmt.Errorf("no job %s that is not running: %w", p.ID, jobtype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return d.releaseUniqueKey(ctx, tx, queue, key, until, p.ID)
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: delete job %s: %w", p.ID, err)
	}
	return nil
}

// releaseUniqueKey frees the key a job that leaves for good held until it
// finished; a key held for a set time stays until then.
func (d *Driver) releaseUniqueKey(ctx context.Context, tx *sql.Tx, queue, key string, until int64, id string) error {
	if key == "" || until != 0 {
		return nil
	}
	_, err := tx.StmtContext(ctx, d.ws.uniqueRelease).ExecContext(ctx, queue, key, id)
	return err
}

// JobCancel sends a job that is not running to the dead set, or marks a
// running one for the process that holds it. Lookup and change are one
// transaction, so the job cannot move in between.
func (d *Driver) JobCancel(ctx context.Context, p *jobdriver.JobCancelParams) (*jobdriver.JobCancelResult, error) {
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	var was jobtype.State
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		var queue, state, key string
		var until int64
		err := tx.StmtContext(ctx, d.ws.find).QueryRowContext(ctx, p.ID, p.Queue).Scan(&queue, &state, &key, &until)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %s: %w", p.ID, jobtype.ErrNotFound)
		}
		if err != nil {
			return err
		}
		was = jobtype.State(state)
		if was == jobtype.StateRunning {
			_, err := tx.StmtContext(ctx, d.ws.cancelMark).ExecContext(ctx, p.ID, micros(now))
			return err
		}
		if _, err := tx.StmtContext(ctx, d.ws.bury).ExecContext(ctx, p.ID, micros(now), p.Reason); err != nil {
			return err
		}
		if err := d.releaseUniqueKey(ctx, tx, queue, key, until, p.ID); err != nil {
			return err
		}
		return d.capDead(ctx, tx, queue, now)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: cancel job %s: %w", p.ID, err)
	}
	return &jobdriver.JobCancelResult{Was: was}, nil
}

// JobCancelRequested returns the ids among the given jobs whose cancellation
// was requested, in one query.
func (d *Driver) JobCancelRequested(ctx context.Context, p *jobdriver.JobCancelRequestedParams) ([]string, error) {
	if len(p.Jobs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(p.Jobs))
	for i, j := range p.Jobs {
		ids[i] = j.ID
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: check %d jobs for cancellation: %w", len(ids), err)
	}
	rows, err := d.rs.cancelRequested.QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: check %d jobs for cancellation: %w", len(ids), err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlitedriver: check %d jobs for cancellation: %w", len(ids), err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitedriver: check %d jobs for cancellation: %w", len(ids), err)
	}
	return out, nil
}

// ProcessHeartbeat stores the process record until TTL from now (for good
// when TTL is zero), drops records that expired, and registers the process's
// queues.
func (d *Driver) ProcessHeartbeat(ctx context.Context, p *jobdriver.ProcessHeartbeatParams) error {
	data, err := json.Marshal(p.Info)
	if err != nil {
		return fmt.Errorf("sqlitedriver: encode process %s: %w", p.Info.ID, err)
	}
	now := time.Now()
	expires := int64(math.MaxInt64)
	if p.TTL > 0 {
		expires = micros(now.Add(p.TTL))
	}
	var added []string
	err = d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, d.ws.beat).ExecContext(ctx, p.Info.ID, string(data), expires); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, d.ws.processesPrune).ExecContext(ctx, micros(now)); err != nil {
			return err
		}
		var err error
		added, err = d.registerQueues(ctx, tx, p.Info.Queues)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: heartbeat of process %s: %w", p.Info.ID, err)
	}
	d.rememberQueues(added)
	return nil
}

// ProcessList returns the processes whose heartbeat is fresh, by id.
func (d *Driver) ProcessList(ctx context.Context, _ *jobdriver.ProcessListParams) ([]*jobdriver.ProcessInfo, error) {
	rows, err := d.rs.processes.QueryContext(ctx, micros(time.Now()))
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: list processes: %w", err)
	}
	defer rows.Close()
	var out []*jobdriver.ProcessInfo
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("sqlitedriver: list processes: %w", err)
		}
		var info jobdriver.ProcessInfo
		if err := json.Unmarshal(data, &info); err != nil {
			continue // a record no version of Quire wrote; it expires like any other
		}
		out = append(out, &info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitedriver: list processes: %w", err)
	}
	return out, nil
}

// ProcessRemove forgets a stopped process.
func (d *Driver) ProcessRemove(ctx context.Context, params *jobdriver.ProcessRemoveParams) error {
	id := params.ID
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, d.ws.processRemove).ExecContext(ctx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: remove process %s: %w", id, err)
	}
	return nil
}

// QueueList returns the known queues, sorted.
func (d *Driver) QueueList(ctx context.Context, _ *jobdriver.QueueListParams) ([]string, error) {
	rows, err := d.rs.queues.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlitedriver: list queues: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return nil, fmt.Errorf("sqlitedriver: list queues: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitedriver: list queues: %w", err)
	}
	return out, nil
}

// QueuePause sets the queue's paused flag, which every fetch checks.
func (d *Driver) QueuePause(ctx context.Context, params *jobdriver.QueuePauseParams) error {
	queue := params.Queue
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, d.ws.pause).ExecContext(ctx, queue)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: pause %s: %w", queue, err)
	}
	d.rememberQueues([]string{queue})
	return nil
}

// QueueResume clears the queue's paused flag.
func (d *Driver) QueueResume(ctx context.Context, params *jobdriver.QueueResumeParams) error {
	queue := params.Queue
	err := d.write(ctx, durable, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, d.ws.resume).ExecContext(ctx, queue)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedriver: resume %s: %w", queue, err)
	}
	d.hub.notify(queue)
	return nil
}

// QueueStats reads a queue's sizes and counters in one read transaction, so
// they describe a single moment.
func (d *Driver) QueueStats(ctx context.Context, p *jobdriver.QueueStatsParams) (*jobdriver.QueueStats, error) {
	st := &jobdriver.QueueStats{Queue: p.Queue}
	if err := d.queueStats(ctx, p, st); err != nil {
		return nil, fmt.Errorf("sqlitedriver: stats of %s: %w", p.Queue, err)
	}
	return st, nil
}

func (d *Driver) queueStats(ctx context.Context, p *jobdriver.QueueStatsParams, st *jobdriver.QueueStats) error {
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	rows, err := tx.StmtContext(ctx, d.rs.counts).QueryContext(ctx, p.Queue)
	if err != nil {
		return err
	}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return err
		}
		switch jobtype.State(state) {
		case jobtype.StateReady:
			st.Ready = n
		case jobtype.StateRunning:
			st.Running = n
		case jobtype.StateScheduled:
			st.Scheduled = n
		case jobtype.StateRetry:
			st.Retry = n
		case jobtype.StateDead:
			st.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := tx.StmtContext(ctx, d.rs.paused).QueryRowContext(ctx, p.Queue).Scan(&st.Paused); err != nil {
		return err
	}
	var enqueued, scheduled int64
	err = tx.StmtContext(ctx, d.rs.oldest).QueryRowContext(ctx, p.Queue).Scan(&enqueued, &scheduled)
	switch {
	case err == nil:
		j := jobtype.Job{EnqueuedAt: fromMicros(enqueued), ScheduledAt: fromMicros(scheduled)}
		st.OldestReadyAt = j.ReadyAt()
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	err = tx.StmtContext(ctx, d.rs.totals).QueryRowContext(ctx, p.Queue).Scan(&st.Processed, &st.Failed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := d.minutely(ctx, tx, p, st); err != nil {
		return err
	}
	if p.Days <= 0 {
		return nil
	}
	today := p.Now.UTC()
	st.Daily = make([]jobdriver.DayStats, p.Days)
	index := make(map[string]int, p.Days)
	for i := range st.Daily {
		date := today.AddDate(0, 0, -i).Format(time.DateOnly)
		st.Daily[i].Date = date
		index[date] = i
	}
	rows, err = tx.StmtContext(ctx, d.rs.days).QueryContext(ctx, p.Queue, st.Daily[p.Days-1].Date, st.Daily[0].Date)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var date string
		var processed, failed int64
		if err := rows.Scan(&date, &processed, &failed); err != nil {
			return err
		}
		if i, ok := index[date]; ok {
			st.Daily[i].Processed, st.Daily[i].Failed = processed, failed
		}
	}
	return rows.Err()
}

// minutely reads the per-minute counters QueueStatsParams.Minutes asks for.
func (d *Driver) minutely(ctx context.Context, tx *sql.Tx, p *jobdriver.QueueStatsParams, st *jobdriver.QueueStats) error {
	if p.Minutes <= 0 {
		return nil
	}
	st.Minutely = jobdriver.Minutes(p.Now, min(p.Minutes, jobdriver.MinutesMax))
	index := make(map[string]int, len(st.Minutely))
	for i, m := range st.Minutely {
		index[jobdriver.MinuteKey(m.Minute)] = i
	}
	first, last := jobdriver.MinuteKey(st.Minutely[len(st.Minutely)-1].Minute), jobdriver.MinuteKey(st.Minutely[0].Minute)
	rows, err := tx.StmtContext(ctx, d.rs.days).QueryContext(ctx, p.Queue, first, last)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var processed, failed int64
		if err := rows.Scan(&key, &processed, &failed); err != nil {
			return err
		}
		if i, ok := index[key]; ok {
			st.Minutely[i].Processed, st.Minutely[i].Failed = processed, failed
		}
	}
	return rows.Err()
}
