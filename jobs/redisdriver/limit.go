package redisdriver

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// Limiter scripts touch the keys of one limiter, which share the hash tag
// {limit:name}, hence one Redis Cluster slot. They are never pipelined, so
// Script.Run's EVALSHA-then-EVAL fallback covers a lost script cache and
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
	holders string // sorted set: holder tokens scored by expiry (ms)
	meta    string // hash: limit, per (ms), used (ms), admitted, rejected
	info    string // hash: holder token -> job id \x1f process
}

func (k keys) limit(name string) limitKeys {
	b := k.prefix + ":{limit:" + name + "}:"
	return limitKeys{holders: b + "holders", meta: b + "meta", info: b + "info"}
}

// limiters is the set of limiter names, for listings: a global key, touched
// only by single-key commands.
func (k keys) limiters() string { return k.prefix + ":limiters" }

// holderSep separates a holder's job id from its process in the info hash.
const holderSep = "\x1f"

// LimitAcquire admits the token in one script on the limiter's slot, and
// registers a limiter the broker did not know for listings.
func (d *Driver) LimitAcquire(ctx context.Context, p *jobdriver.LimitAcquireParams) (bool, error) {
	lk := d.keys.limit(p.Name)
	desc := ""
	if p.Per == 0 && (p.JobID != "" || p.Process != "") {
		desc = p.JobID + holderSep + p.Process
	}
	res, err := limitAcquireScript.Run(ctx, d.rdb, []string{lk.holders, lk.meta, lk.info},
		p.Now.UnixMilli(), p.Limit, p.Token, p.LeaseUntil.UnixMilli(), p.Per.Milliseconds(), desc,
		jobdriver.LimitRetention.Milliseconds()).Int64Slice()
	if err != nil || len(res) != 2 {
		return false, fmt.Errorf("acquire limiter %s: %w (reply %v)", p.Name, err, res)
	}
	if res[1] == 1 {
		// After the script: a limiter registered but never stored would
		// be listed empty. A crash in between leaves it unlisted until its
		// meta expires, which is harmless.
		if err := d.rdb.SAdd(ctx, d.keys.limiters(), p.Name).Err(); err != nil {
			return false, fmt.Errorf("register limiter %s: %w", p.Name, err)
		}
	}
	return res[0] == 1, nil
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
	if err := limitExtendScript.Run(ctx, d.rdb, []string{lk.holders, lk.info}, args...).Err(); err != nil {
		return fmt.Errorf("extend limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitRelease removes the holder and its description in one transaction
// on the limiter's slot.
func (d *Driver) LimitRelease(ctx context.Context, p *jobdriver.LimitReleaseParams) error {
	lk := d.keys.limit(p.Name)
	_, err := d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRem(ctx, lk.holders, p.Token)
		pipe.HDel(ctx, lk.info, p.Token)
		return nil
	})
	if err != nil {
		return fmt.Errorf("release limiter %s: %w", p.Name, err)
	}
	return nil
}

// LimitStatus counts unexpired holders and reads the limit and counters.
func (d *Driver) LimitStatus(ctx context.Context, p *jobdriver.LimitStatusParams) (*jobdriver.LimitStatus, error) {
	lk := d.keys.limit(p.Name)
	var count *redis.IntCmd
	var meta *redis.SliceCmd
	_, err := d.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		count = pipe.ZCount(ctx, lk.holders, strconv.FormatInt(p.Now.UnixMilli(), 10), "+inf")
		meta = pipe.HMGet(ctx, lk.meta, "limit", "admitted", "rejected")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("status of limiter %s: %w", p.Name, err)
	}
	m := meta.Val()
	return &jobdriver.LimitStatus{Holders: int(count.Val()), Limit: int(hashInt(m[0])),
		Admitted: hashInt(m[1]), Rejected: hashInt(m[2])}, nil
}

// LimitList reads every registered limiter: one pipeline of reads per
// limiter slot. Names whose meta expired are dropped from the registry.
func (d *Driver) LimitList(ctx context.Context, p *jobdriver.LimitListParams) ([]*jobdriver.LimitInfo, error) {
	names, err := d.rdb.SMembers(ctx, d.keys.limiters()).Result()
	if err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	slices.Sort(names)
	type reads struct {
		meta    *redis.MapStringStringCmd
		holders *redis.ZSliceCmd
		info    *redis.MapStringStringCmd
	}
	rs := make([]reads, len(names))
	now := strconv.FormatInt(p.Now.UnixMilli(), 10)
	_, err = d.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, n := range names {
			lk := d.keys.limit(n)
			rs[i].meta = pipe.HGetAll(ctx, lk.meta)
			rs[i].holders = pipe.ZRangeByScoreWithScores(ctx, lk.holders, &redis.ZRangeBy{Min: now, Max: "+inf"})
			rs[i].info = pipe.HGetAll(ctx, lk.info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list limiters: %w", err)
	}
	out := make([]*jobdriver.LimitInfo, 0, len(names))
	var gone []any
	for i, n := range names {
		m := rs[i].meta.Val()
		if len(m) == 0 {
			gone = append(gone, n)
			continue
		}
		li := &jobdriver.LimitInfo{Name: n, Limit: int(parseInt(m["limit"])),
			Per:      time.Duration(parseInt(m["per"])) * time.Millisecond,
			Admitted: parseInt(m["admitted"]), Rejected: parseInt(m["rejected"]),
			UsedAt: time.UnixMilli(parseInt(m["used"])).UTC()}
		info := rs[i].info.Val()
		for _, z := range rs[i].holders.Val() {
			tok, _ := z.Member.(string)
			h := jobdriver.LimitHolder{Token: tok, ExpiresAt: time.UnixMilli(int64(z.Score)).UTC()}
			h.JobID, h.Process, _ = strings.Cut(info[tok], holderSep)
			li.Holders = append(li.Holders, h)
		}
		out = append(out, li)
	}
	if len(gone) > 0 {
		if err := d.rdb.SRem(ctx, d.keys.limiters(), gone...).Err(); err != nil {
			return nil, fmt.Errorf("list limiters: forget expired: %w", err)
		}
	}
	return out, nil
}

// hashInt reads an HMGET field as a number; a missing one is 0.
func hashInt(v any) int64 {
	s, _ := v.(string)
	return parseInt(s)
}

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
