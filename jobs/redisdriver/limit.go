package redisdriver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// Limiter scripts touch the two keys of one limiter, which share the hash
// tag {limit:name}, hence one Redis Cluster slot. They are never pipelined,
// so Script.Run's EVALSHA-then-EVAL fallback covers a lost script cache and
// they stay out of loadScripts.
var (
	//go:embed scripts/limitacquire.lua
	limitAcquireLua string
	//go:embed scripts/limitextend.lua
	limitExtendLua string

	limitAcquireScript = redis.NewScript(limitAcquireLua)
	limitExtendScript  = redis.NewScript(limitExtendLua)
)

// limitKeys are the keys of one limiter.
type limitKeys struct {
	holders  string // sorted set: holder tokens scored by expiry (ms)
	rejected string // counter: refused acquisitions
}

func (k keys) limit(name string) limitKeys {
	b := k.prefix + ":{limit:" + name + "}:"
	return limitKeys{holders: b + "holders", rejected: b + "rejected"}
}

// LimitAcquire admits the token in one script on the limiter's slot.
func (d *Driver) LimitAcquire(ctx context.Context, p *jobdriver.LimitAcquireParams) (bool, error) {
	lk := d.keys.limit(p.Name)
	n, err := limitAcquireScript.Run(ctx, d.rdb, []string{lk.holders, lk.rejected},
		p.Now.UnixMilli(), p.Limit, p.Token, p.LeaseUntil.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("acquire limiter %s: %w", p.Name, err)
	}
	return n == 1, nil
}

// LimitExtend extends the holders that still hold the limiter.
func (d *Driver) LimitExtend(ctx context.Context, p *jobdriver.LimitExtendParams) error {
	if len(p.Tokens) == 0 {
		return nil
	}
	lk := d.keys.limit(p.Name)
	args := make([]any, 0, len(p.Tokens)+1)
	args = append(args, p.LeaseUntil.UnixMilli())
	for _, t := range p.Tokens {
		args = append(args, t)
	}
	if err := limitExtendScript.Run(ctx, d.rdb, []string{lk.holders}, args...).Err(); err != nil {
		return fmt.Errorf("extend limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitRelease removes the holder: a single-key command, atomic by itself.
func (d *Driver) LimitRelease(ctx context.Context, p *jobdriver.LimitReleaseParams) error {
	if err := d.rdb.ZRem(ctx, d.keys.limit(p.Name).holders, p.Token).Err(); err != nil {
		return fmt.Errorf("release limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitStatus counts unexpired holders and reads the rejection counter.
func (d *Driver) LimitStatus(ctx context.Context, p *jobdriver.LimitStatusParams) (*jobdriver.LimitStatus, error) {
	lk := d.keys.limit(p.Name)
	holders, err := d.rdb.ZCount(ctx, lk.holders, fmt.Sprint(p.Now.UnixMilli()), "+inf").Result()
	if err != nil {
		return nil, fmt.Errorf("status of limiter %s: %w", p.Name, err)
	}
	rej, err := d.rdb.Get(ctx, lk.rejected).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("status of limiter %s: %w", p.Name, err)
	}
	return &jobdriver.LimitStatus{Holders: int(holders), Rejected: rej}, nil
}
