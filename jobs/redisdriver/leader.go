package redisdriver

import (
	"context"
	"fmt"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// LeaderElect takes or renews a term with SET NX PX, renewed only by the
// token that holds it (scripts/leader.lua). The term runs on Redis's clock,
// so the candidates' clocks do not matter; p.Now is unused.
func (d *Driver) LeaderElect(ctx context.Context, p *jobdriver.LeaderElectParams) (bool, error) {
	if p.TTL.Milliseconds() < 1 {
		return false, fmt.Errorf("elect leader of %s: TTL %s must be at least 1ms", p.Name, p.TTL)
	}
	n, err := leaderScript.Run(ctx, d.rdb, []string{d.keys.leader(p.Name)}, p.Token, p.TTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("elect leader of %s: %w", p.Name, err)
	}
	return n == 1, nil
}

// LeaderResign deletes the term if the token still holds it
// (scripts/resign.lua).
func (d *Driver) LeaderResign(ctx context.Context, p *jobdriver.LeaderResignParams) error {
	if err := resignScript.Run(ctx, d.rdb, []string{d.keys.leader(p.Name)}, p.Token).Err(); err != nil {
		return fmt.Errorf("resign leadership of %s: %w", p.Name, err)
	}
	return nil
}
