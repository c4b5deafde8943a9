package sqlitedriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// LimitAcquire drops the limiter's expired holders, counts the rest and
// admits the token, or counts a rejection, in one write transaction: the
// single writer serialises acquisitions across every process on the file.
// Processes sharing a file share a host, hence a clock, so p.Now decides
// expiry, moved on by the wait for the writer (late). The commit is
// bookkeeping: a holder lost to a power cut only frees its slot early, as
// its expiry would.
func (d *Driver) LimitAcquire(ctx context.Context, p *jobdriver.LimitAcquireParams) (bool, error) {
	called := time.Now()
	admitted := false
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		admitted = false // the writer may run fn again
		// A lease runs from the write, not from the call: a call waits
		// for the driver's single writer, and for another process's lock
		// on the file up to Config.BusyTimeout, and a slot whose
		// acquisition waited longer than its lease would be admitted
		// expired, its holder running while the next caller is let in
		// beside it. The caller's times (a test's clock may set them)
		// move on by the wait, measured by the monotonic clock.
		late := time.Since(called)
		now, until := p.Now.Add(late).UnixMicro(), p.LeaseUntil.Add(late).UnixMicro()
		if _, err := tx.ExecContext(ctx, `DELETE FROM limit_holders WHERE name = ? AND expires_at < ?`, p.Name, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE limit_holders SET expires_at = ? WHERE name = ? AND token = ?`, until, p.Name, p.Token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			admitted = true
			return nil
		}
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM limit_holders WHERE name = ?`, p.Name).Scan(&held); err != nil {
			return err
		}
		admitted = held < p.Limit
		rejected := 1
		if admitted {
			rejected = 0
			jobID, process := p.JobID, p.Process
			if p.Per > 0 {
				jobID, process = "", "" // a rate limiter's holders are many and anonymous
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO limit_holders (name, token, expires_at, job_id, process)
				VALUES (?, ?, ?, ?, ?)`, p.Name, p.Token, until, jobID, process); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO limit_stats (name, rejected, admitted, limit_n, per_us, used_at)
			VALUES (?1, ?2, 1 - ?2, ?3, ?4, ?5)
			ON CONFLICT (name) DO UPDATE SET rejected = rejected + ?2, admitted = admitted + 1 - ?2,
				limit_n = ?3, per_us = ?4, used_at = ?5`,
			p.Name, rejected, p.Limit, p.Per.Microseconds(), now)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire limiter %s: %w", p.Name, err)
	}
	return admitted, nil
}

// LimitExtend moves the expiry of the tokens that still hold the limiter.
func (d *Driver) LimitExtend(ctx context.Context, p *jobdriver.LimitExtendParams) error {
	if len(p.Tokens) == 0 {
		return nil
	}
	called := time.Now()
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		until := p.LeaseUntil.Add(time.Since(called)).UnixMicro() // as in LimitAcquire
		for _, t := range p.Tokens {
			if _, err := tx.ExecContext(ctx, `UPDATE limit_holders SET expires_at = ? WHERE name = ? AND token = ?`, until, p.Name, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("extend limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitRelease deletes the holder's row.
func (d *Driver) LimitRelease(ctx context.Context, p *jobdriver.LimitReleaseParams) error {
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM limit_holders WHERE name = ? AND token = ?`, p.Name, p.Token)
		return err
	})
	if err != nil {
		return fmt.Errorf("release limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitStatus reads the unexpired holders, the limit and the counts.
func (d *Driver) LimitStatus(ctx context.Context, p *jobdriver.LimitStatusParams) (*jobdriver.LimitStatus, error) {
	st := &jobdriver.LimitStatus{}
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM limit_holders WHERE name = ? AND expires_at >= ?`,
		p.Name, p.Now.UnixMicro()).Scan(&st.Holders)
	if err == nil {
		err = d.r.QueryRowContext(ctx, `SELECT limit_n, admitted, rejected FROM limit_stats WHERE name = ?`,
			p.Name).Scan(&st.Limit, &st.Admitted, &st.Rejected)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("status of limiter %s: %w", p.Name, err)
	}
	return st, nil
}

// LimitList reads every limiter used within LimitRetention and its
// unexpired holders, in one read transaction so that the two agree.
func (d *Driver) LimitList(ctx context.Context, p *jobdriver.LimitListParams) ([]*jobdriver.LimitInfo, error) {
	now := p.Now.UnixMicro()
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT name, limit_n, per_us, admitted, rejected, used_at FROM limit_stats
		WHERE used_at >= ? ORDER BY name`, now-jobdriver.LimitRetention.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	var out []*jobdriver.LimitInfo
	byName := map[string]*jobdriver.LimitInfo{}
	for rows.Next() {
		li := &jobdriver.LimitInfo{}
		var per, used int64
		if err := rows.Scan(&li.Name, &li.Limit, &per, &li.Admitted, &li.Rejected, &used); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list limiters: %w", err)
		}
		li.Per, li.UsedAt = time.Duration(per)*time.Microsecond, time.UnixMicro(used).UTC()
		out = append(out, li)
		byName[li.Name] = li
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT name, token, job_id, process, expires_at FROM limit_holders
		WHERE expires_at >= ? ORDER BY name, expires_at, token`, now)
	if err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var h jobdriver.LimitHolder
		var exp int64
		if err := rows.Scan(&name, &h.Token, &h.JobID, &h.Process, &exp); err != nil {
			return nil, fmt.Errorf("list limiters: %w", err)
		}
		h.ExpiresAt = time.UnixMicro(exp).UTC()
		if li := byName[name]; li != nil {
			li.Holders = append(li.Holders, h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	return out, nil
}
