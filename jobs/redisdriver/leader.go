package redisdriver

import (
	"context"
	"fmt"

	"github.com/quirehq/quire/jobs/internal/redislease"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// LeaderElect takes or renews a term on Redis's clock (redislease); p.Now
// is unused.
func (d *Driver) LeaderElect(ctx context.Context, p *jobdriver.LeaderElectParams) (bool, error) {
	ok, err := redislease.Elect(ctx, d.rdb, d.keys.leader(p.Name), p.Token, p.TTL)
	if err != nil {
		return false, fmt.Errorf("elect leader of %s: %w", p.Name, err)
	}
	return ok, nil
}

// LeaderResign ends the term if the token still holds it.
func (d *Driver) LeaderResign(ctx context.Context, p *jobdriver.LeaderResignParams) error {
	if err := redislease.Resign(ctx, d.rdb, d.keys.leader(p.Name), p.Token); err != nil {
		return fmt.Errorf("resign leadership of %s: %w", p.Name, err)
	}
	return nil
}
