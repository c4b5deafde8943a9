package sidekiq

import (
	"context"
	"fmt"

	"github.com/quirehq/quire/jobs/internal/redislease"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// leaderKey holds the token of the leader of name: Quire's own key, under
// Config.KeyPrefix, which Sidekiq ignores.
func (d *Driver) leaderKey(name string) string { return d.ns + d.cfg.KeyPrefix + ":leader:" + name }

// LeaderElect takes or renews a term on Redis's clock (redislease); p.Now
// is unused. Only Quire processes take part: Ruby's scheduled-job poller
// needs no leader.
func (d *Driver) LeaderElect(ctx context.Context, p *jobdriver.LeaderElectParams) (bool, error) {
	ok, err := redislease.Elect(ctx, d.rdb, d.leaderKey(p.Name), p.Token, p.TTL)
	if err != nil {
		return false, fmt.Errorf("sidekiq: elect leader of %s: %w", p.Name, err)
	}
	return ok, nil
}

// LeaderResign ends the term if the token still holds it.
func (d *Driver) LeaderResign(ctx context.Context, p *jobdriver.LeaderResignParams) error {
	if err := redislease.Resign(ctx, d.rdb, d.leaderKey(p.Name), p.Token); err != nil {
		return fmt.Errorf("sidekiq: resign leadership of %s: %w", p.Name, err)
	}
	return nil
}
