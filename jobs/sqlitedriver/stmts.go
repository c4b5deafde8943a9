package sqlitedriver

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Every statement is prepared once, when the driver opens: parsing SQL costs
// more than running most of these statements.

// jobCols are the columns scanJob reads, in its order.
const jobCols = `id, queue, state, type, args, attempt, max_retries, created_at, enqueued_at, scheduled_at,
	error, failed_at, tags, timeout_ns, backoff_base_ns, backoff_max_ns, unique_key, unique_until, lease,
	batch_id, expires_at, headers, rescues`

// due selects, in the order they became due, up to ?3 jobs of queue ?1 in
// the states given, whose pos is at most ?2, numbered from 1.
func due(states string) string {
	return `WITH due AS (
		SELECT seq AS s, row_number() OVER (ORDER BY pos, seq) AS n FROM jobs
		WHERE queue = ?1 AND state IN (` + states + `) AND pos <= ?2 ORDER BY pos, seq LIMIT ?3)`
}

const nextDueSQL = `SELECT min(p) FROM (
	SELECT min(pos) AS p FROM jobs WHERE queue = ?1 AND state = 'scheduled'
	UNION ALL SELECT min(pos) FROM jobs WHERE queue = ?1 AND state = 'retry')`

type writeStmts struct {
	queueAdd, endsBack, endsFront, insert              *sql.Stmt
	uniqueSweep, uniqueGet, uniqueTake, uniqueRelease  *sql.Stmt
	paused, fetchSelect, fetchTake, running            *sql.Stmt
	done, move, requeue, count, countersPrune          *sql.Stmt
	deadAge, deadCap, extend, promote, rescue, nextDue *sql.Stmt
	find, cancelMark, bury, retry, del                 *sql.Stmt
	pause, resume, beat, processesPrune, processRemove *sql.Stmt
	batchState, batchWas, batchSucceed, batchDie       *sql.Stmt
	batchRevive, batchCount                            *sql.Stmt
	stmts                                              []*sql.Stmt
}

func (s *writeStmts) prepare(db *sql.DB) error {
	return prepareAll(db, &s.stmts, []stmtDef{
		{&s.queueAdd, `INSERT INTO queues (name) VALUES (?1) ON CONFLICT (name) DO NOTHING`},
		{&s.endsBack, `UPDATE ends SET back = back + ?1 WHERE id = 1 RETURNING back`},
		{&s.endsFront, `UPDATE ends SET front = front - ?1 WHERE id = 1 RETURNING front`},
		{&s.insert, `INSERT INTO jobs (id, queue, state, pos, type, args, attempt, max_retries, created_at,
			enqueued_at, scheduled_at, error, failed_at, tags, timeout_ns, backoff_base_ns, backoff_max_ns,
			unique_key, unique_until, batch_id, expires_at, headers)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
			ON CONFLICT (id) DO NOTHING`},
		{&s.uniqueSweep, `DELETE FROM unique_keys WHERE expires_at IS NOT NULL AND expires_at <= ?1`},
		{&s.uniqueGet, `SELECT job_id, coalesce(expires_at, 0) FROM unique_keys WHERE queue = ?1 AND key = ?2`},
		{&s.uniqueTake, `INSERT INTO unique_keys (queue, key, job_id, expires_at) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (queue, key) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at`},
		{&s.uniqueRelease, `DELETE FROM unique_keys WHERE queue = ?1 AND key = ?2 AND job_id = ?3 AND expires_at IS NULL`},
		{&s.paused, `SELECT paused FROM queues WHERE name = ?1`},
		{&s.running, `SELECT count(*) FROM jobs WHERE queue = ?1 AND state = 'running'`},
		{&s.fetchSelect, `SELECT ` + jobCols + ` FROM jobs WHERE queue = ?1 AND state = 'ready' ORDER BY pos, seq LIMIT ?2`},
		{&s.fetchTake, `UPDATE jobs SET state = 'running', pos = ?3, lease = ?4 || '/' || id
			WHERE seq IN (SELECT seq FROM jobs WHERE queue = ?1 AND state = 'ready' ORDER BY pos, seq LIMIT ?2)`},
		{&s.done, `DELETE FROM jobs WHERE id = ?1 AND lease = ?2 AND state = 'running'`},
		{&s.move, `UPDATE jobs SET state = ?3, pos = ?4, attempt = ?5, enqueued_at = ?6, scheduled_at = ?7,
			error = ?8, failed_at = ?9, lease = '', cancel_requested_at = 0
			WHERE id = ?1 AND lease = ?2 AND state = 'running'`},
		{&s.requeue, `UPDATE jobs SET state = 'ready', pos = ?3, lease = ''
			WHERE id = ?1 AND lease = ?2 AND state = 'running'`},
		{&s.count, `INSERT INTO counters (queue, day, processed, failed) VALUES (?1, ?2, ?3, ?4)
			ON CONFLICT (queue, day) DO UPDATE SET processed = processed + excluded.processed,
			failed = failed + excluded.failed`},
		// Days are 2006-01-02, minutes 2006-01-02T15:04 (kept two days).
		{&s.countersPrune, `DELETE FROM counters WHERE length(day) = 10 AND day < ?1
			OR length(day) = 16 AND day < ?2`},
		{&s.deadAge, `DELETE FROM jobs WHERE queue = ?1 AND state = 'dead' AND pos < ?2`},
		{&s.deadCap, `DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE queue = ?1 AND state = 'dead'
			ORDER BY pos DESC, seq DESC LIMIT -1 OFFSET ?2)`},
		{&s.extend, `UPDATE jobs SET pos = ?3 WHERE id = ?1 AND lease = ?2 AND state = 'running'`},
		{&s.promote, due(`'scheduled', 'retry'`) + `
			UPDATE jobs SET state = 'ready', pos = (SELECT back FROM ends WHERE id = 1) + due.n
			FROM due WHERE jobs.seq = due.s`},
		{&s.rescue, due(`'running'`) + `
			UPDATE jobs SET state = 'ready', pos = (SELECT front FROM ends WHERE id = 1) - due.n, lease = '',
			rescues = rescues + 1
			FROM due WHERE jobs.seq = due.s`},
		{&s.nextDue, nextDueSQL},
		{&s.find, `SELECT queue, state, unique_key, unique_until FROM jobs WHERE id = ?1 AND (?2 = '' OR queue = ?2)`},
		{&s.cancelMark, `UPDATE jobs SET cancel_requested_at = ?2 WHERE id = ?1 AND state = 'running'`},
		{&s.bury, `UPDATE jobs SET state = 'dead', pos = ?2, error = ?3, failed_at = ?2, lease = '',
			cancel_requested_at = 0 WHERE id = ?1`},
		{&s.retry, `UPDATE jobs SET state = 'ready', pos = ?2, enqueued_at = ?3, scheduled_at = 0, rescues = 0
			WHERE id = ?1 AND state = ?4 AND (?5 = '' OR queue = ?5) RETURNING queue`},
		{&s.del, `DELETE FROM jobs WHERE id = ?1 AND state <> 'running' AND (?2 = '' OR state = ?2)
			AND (?3 = '' OR queue = ?3) RETURNING queue, unique_key, unique_until`},
		{&s.pause, `INSERT INTO queues (name, paused) VALUES (?1, 1) ON CONFLICT (name) DO UPDATE SET paused = 1`},
		{&s.resume, `UPDATE queues SET paused = 0 WHERE name = ?1`},
		{&s.beat, `INSERT INTO processes (id, info, expires_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at`},
		{&s.processesPrune, `DELETE FROM processes WHERE expires_at <= ?1`},
		{&s.processRemove, `DELETE FROM processes WHERE id = ?1`},
		// Batches: see recordBatch. ?2 is a JSON array of members.
		{&s.batchState, `SELECT committed, cancelled, complete, success, dead FROM batches WHERE id = ?1`},
		{&s.batchWas, `SELECT count(*) FROM batch_members
			WHERE batch_id = ?1 AND member IN (SELECT value FROM json_each(?2)) AND outcome = 'x'`},
		{&s.batchSucceed, `UPDATE batch_members SET outcome = 's'
			WHERE batch_id = ?1 AND member IN (SELECT value FROM json_each(?2)) AND outcome <> 's'`},
		{&s.batchRevive, `UPDATE batch_members SET outcome = 's'
			WHERE batch_id = ?1 AND member IN (SELECT value FROM json_each(?2)) AND outcome = 'x'`},
		{&s.batchDie, `UPDATE batch_members SET outcome = 'x'
			WHERE batch_id = ?1 AND member IN (SELECT value FROM json_each(?2)) AND outcome = ''`},
		// Moves the counters, commits (?4) and, when ?5 (committed and not
		// cancelled), claims the callbacks that became due; RETURNING
		// tells which it claimed (?7 and ?8: their states before). SET
		// reads the row as it was before the update.
		{&s.batchCount, `UPDATE batches SET succeeded = succeeded + ?2, dead = dead + ?3,
			committed = committed OR ?4,
			complete = CASE WHEN ?5 AND complete = '' AND succeeded + ?2 + dead + ?3 >= total THEN 'firing' ELSE complete END,
			success  = CASE WHEN ?5 AND success = '' AND succeeded + ?2 >= total THEN 'firing' ELSE success END,
			firing_at = CASE WHEN ?5 AND (complete = '' AND succeeded + ?2 + dead + ?3 >= total
				OR success = '' AND succeeded + ?2 >= total) THEN ?6 ELSE firing_at END
			WHERE id = ?1
			RETURNING complete = 'firing' AND ?7 = '', success = 'firing' AND ?8 = ''`},
	})
}

func (s *writeStmts) close() error { return closeAll(s.stmts) }

type readStmts struct {
	get, listAsc, listDesc, counts, oldest, paused, totals, days *sql.Stmt
	ready, peek, nextDue, expired, cancelRequested               *sql.Stmt
	queues, processes                                            *sql.Stmt
	stmts                                                        []*sql.Stmt
}

func (s *readStmts) prepare(db *sql.DB) error {
	return prepareAll(db, &s.stmts, []stmtDef{
		{&s.get, `SELECT ` + jobCols + ` FROM jobs WHERE id = ?1 AND (?2 = '' OR queue = ?2)`},
		{&s.listAsc, `SELECT ` + jobCols + ` FROM jobs WHERE queue = ?1 AND state = ?2
			ORDER BY pos, seq LIMIT ?3 OFFSET ?4`},
		{&s.listDesc, `SELECT ` + jobCols + ` FROM jobs WHERE queue = ?1 AND state = ?2
			ORDER BY pos DESC, seq DESC LIMIT ?3 OFFSET ?4`},
		{&s.counts, `SELECT state, count(*) FROM jobs WHERE queue = ?1 GROUP BY state`},
		{&s.oldest, `SELECT enqueued_at, scheduled_at FROM jobs WHERE queue = ?1 AND state = 'ready'
			ORDER BY pos, seq LIMIT 1`},
		{&s.paused, `SELECT coalesce((SELECT paused FROM queues WHERE name = ?1), 0)`},
		{&s.totals, `SELECT processed, failed FROM counters WHERE queue = ?1 AND day = ''`},
		{&s.days, `SELECT day, processed, failed FROM counters WHERE queue = ?1 AND day >= ?2 AND day <= ?3
			AND length(day) = length(?2)`},
		{&s.ready, `SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = ?1 AND state = 'ready')`},
		{&s.peek, `SELECT coalesce((SELECT paused FROM queues WHERE name = ?1), 0),
			EXISTS (SELECT 1 FROM jobs WHERE queue = ?1 AND state = 'ready')`},
		{&s.nextDue, nextDueSQL},
		{&s.expired, `SELECT EXISTS (SELECT 1 FROM jobs WHERE queue = ?1 AND state = 'running' AND pos <= ?2)`},
		{&s.cancelRequested, `SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?1))
			AND cancel_requested_at > 0`},
		{&s.queues, `SELECT name FROM queues ORDER BY name`},
		{&s.processes, `SELECT info FROM processes WHERE expires_at > ?1 ORDER BY id`},
	})
}

func (s *readStmts) close() error { return closeAll(s.stmts) }

type stmtDef struct {
	dst   **sql.Stmt
	query string
}

func prepareAll(db *sql.DB, all *[]*sql.Stmt, defs []stmtDef) error {
	for _, def := range defs {
		st, err := db.Prepare(def.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", strings.Join(strings.Fields(def.query), " "), err)
		}
		*def.dst = st
		*all = append(*all, st)
	}
	return nil
}

func closeAll(stmts []*sql.Stmt) error {
	var errs []error
	for _, st := range stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}
