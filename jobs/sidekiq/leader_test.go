package sidekiq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// TestLeader: Quire servers on Sidekiq's Redis elect one scheduler leader,
// as on Quire's own driver, and one that stops renewing loses its term.
func TestLeader(t *testing.T) {
	b := setup(t, nil)
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	elect := func(token string) bool {
		t.Helper()
		ok, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: token, TTL: ttl, Now: time.Now()})
		require.NoError(t, err)
		return ok
	}
	require.True(t, elect("a"))
	require.False(t, elect("b"))
	require.True(t, elect("a"), "the leader renews")
	require.Eventually(t, func() bool { return elect("b") }, 10*time.Second, 20*time.Millisecond)
	require.False(t, elect("a"), "the old leader lost its term")
	require.NoError(t, b.driver.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "scheduler", Token: "b"}))
	require.True(t, elect("a"), "a resignation hands over at once")
	_, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: "a", TTL: 0})
	require.ErrorContains(t, err, "TTL")
}
