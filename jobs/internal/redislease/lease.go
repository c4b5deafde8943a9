// Package redislease is the leader lease the job engine's Redis drivers
// share (Quire's own and the Sidekiq-format one): a key holding the leading
// token, set with NX and an expiry, renewed and deleted only by the token
// that holds it. The term runs on Redis's clock, so the candidates' clocks
// do not matter.
package redislease

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed elect.lua
	electLua string
	//go:embed resign.lua
	resignLua string

	electScript  = redis.NewScript(electLua)
	resignScript = redis.NewScript(resignLua)
)

// Elect makes token the leader held by key for ttl, if no other token holds
// it, or renews its term when it does; it reports whether token leads.
func Elect(ctx context.Context, rdb redis.Scripter, key, token string, ttl time.Duration) (bool, error) {
	if ttl.Milliseconds() < 1 {
		return false, fmt.Errorf("TTL %s must be at least 1ms", ttl)
	}
	n, err := electScript.Run(ctx, rdb, []string{key}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// Resign ends token's term at once, if it still leads.
func Resign(ctx context.Context, rdb redis.Scripter, key, token string) error {
	return resignScript.Run(ctx, rdb, []string{key}, token).Err()
}
