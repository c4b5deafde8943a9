package sqlitedriver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// LimitAcquire drops the limiter's expired holders, counts the rest and
// admits the token, or counts a rejection, in one write transaction: the
// single writer serialises acquisitions across every process on the file.
// Processes sharing a file share a host, hence a clock, so p.Now decides
// expiry. The commit is bookkeeping: a holder lost to a power cut only
// frees its slot early, as its expiry would.
func (d *Driver) LimitAcquire(ctx context.Context, p *jobdriver.LimitAcquireParams) (bool, error) {
	now, until := p.Now.UnixMicro(), p.LeaseUntil.UnixMicro()
	admitted := false
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
		admitted = false // the writer may run fn again
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
		if held >= p.Limit {
			_, err := tx.ExecContext(ctx, `INSERT INTO limit_stats (name, rejected) VALUES (?, 1)
				ON CONFLICT (name) DO UPDATE SET rejected = rejected + 1`, p.Name)
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO limit_holders (name, token, expires_at) VALUES (?, ?, ?)`, p.Name, p.Token, until); err != nil {
			return err
		}
		admitted = true
		return nil
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
	until := p.LeaseUntil.UnixMicro()
	err := d.write(ctx, bookkeeping, func(tx *sql.Tx) error {
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

// LimitStatus reads the unexpired holders and the rejections.
func (d *Driver) LimitStatus(ctx context.Context, p *jobdriver.LimitStatusParams) (*jobdriver.LimitStatus, error) {
	st := &jobdriver.LimitStatus{}
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM limit_holders WHERE name = ? AND expires_at >= ?`,
		p.Name, p.Now.UnixMicro()).Scan(&st.Holders)
	if err == nil {
		err = d.r.QueryRowContext(ctx, `SELECT rejected FROM limit_stats WHERE name = ?`, p.Name).Scan(&st.Rejected)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("status of limiter %s: %w", p.Name, err)
	}
	return st, nil
}
