package sqlitedriver

import (
	"context"
	"fmt"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// LeaderElect takes or renews a row lease in the leaders table, in one
// statement on the single writer: the row is written when it is missing,
// held by the same token, or expired. The processes sharing a database file
// share a host, hence a clock, so p.Now decides expiry.
func (d *Driver) LeaderElect(ctx context.Context, p *jobdriver.LeaderElectParams) (bool, error) {
	if p.TTL <= 0 {
		return false, fmt.Errorf("elect leader of %s: TTL %s must be positive", p.Name, p.TTL)
	}
	now := p.Now.UnixMicro()
	res, err := d.w.ExecContext(ctx, `INSERT INTO leaders (name, token, expires_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
		WHERE leaders.token = excluded.token OR leaders.expires_at <= ?4`,
		p.Name, p.Token, now+p.TTL.Microseconds(), now)
	if err != nil {
		return false, fmt.Errorf("elect leader of %s: %w", p.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("elect leader of %s: %w", p.Name, err)
	}
	return n == 1, nil
}

// LeaderResign deletes the row if the token still holds it.
func (d *Driver) LeaderResign(ctx context.Context, p *jobdriver.LeaderResignParams) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM leaders WHERE name = ? AND token = ?`, p.Name, p.Token); err != nil {
		return fmt.Errorf("resign leadership of %s: %w", p.Name, err)
	}
	return nil
}
