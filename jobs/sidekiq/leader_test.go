package sidekiq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// TestLeaderKeyIsQuires: the scheduler's leader lock is a key of Quire's,
// under Config.KeyPrefix and in the namespace, beside Sidekiq's keys and
// ignored by Ruby. The suite checks the election itself.
func TestLeaderKeyIsQuires(t *testing.T) {
	t.Parallel()
	b := setup(t, &sidekiq.Config{KeyPrefix: "billing-go"})
	ctx := context.Background()
	ok, err := b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: "a", TTL: time.Minute, Now: time.Now()})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "a", b.rdb.Get(ctx, b.key("billing-go:leader:scheduler")).Val())
	require.NoError(t, b.driver.LeaderResign(ctx, &jobdriver.LeaderResignParams{Name: "scheduler", Token: "a"}))
	require.Zero(t, b.rdb.Exists(ctx, b.key("billing-go:leader:scheduler")).Val())
	_, err = b.driver.LeaderElect(ctx, &jobdriver.LeaderElectParams{Name: "scheduler", Token: "a", TTL: 0})
	require.ErrorContains(t, err, "TTL")
}
