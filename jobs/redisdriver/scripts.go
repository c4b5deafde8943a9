package redisdriver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Every atomic step is a Lua script touching the keys of a single queue,
// or of a single batch (whose keys share the hash tag {b:<id>}), or one key,
// hence a single Redis Cluster slot. The header of each file lists its KEYS,
// ARGV and reply.
var (
	//go:embed scripts/batchadd.lua
	batchAddLua string
	//go:embed scripts/batchcancel.lua
	batchCancelLua string
	//go:embed scripts/batchfired.lua
	batchFiredLua string
	//go:embed scripts/batchrecord.lua
	batchRecordLua string
	//go:embed scripts/firingprune.lua
	firingPruneLua string
	//go:embed scripts/cancel.lua
	cancelLua string
	//go:embed scripts/complete.lua
	completeLua string
	//go:embed scripts/deadwrap.lua
	deadwrapLua string
	//go:embed scripts/extend.lua
	extendLua string
	//go:embed scripts/fetch.lua
	fetchLua string
	//go:embed scripts/insertunique.lua
	insertUniqueLua string
	//go:embed scripts/move.lua
	moveLua string
	//go:embed scripts/promote.lua
	promoteLua string
	//go:embed scripts/rescue.lua
	rescueLua string

	batchAddScript    = redis.NewScript(batchAddLua)
	batchCancelScript = redis.NewScript(batchCancelLua)
	batchFiredScript  = redis.NewScript(batchFiredLua)
	batchRecordScript = redis.NewScript(batchRecordLua)
	firingPruneScript = redis.NewScript(firingPruneLua)

	cancelScript   = redis.NewScript(cancelLua)
	completeScript = redis.NewScript(completeLua)
	deadwrapScript = redis.NewScript(deadwrapLua)
	extendScript   = redis.NewScript(extendLua)
	fetchScript    = redis.NewScript(fetchLua)
	moveScript     = redis.NewScript(moveLua)
	promoteScript  = redis.NewScript(promoteLua)
	rescueScript   = redis.NewScript(rescueLua)

	// insertUniqueLua is sent whole with EVAL: it runs inside enqueue
	// pipelines, which cannot fall back from EVALSHA after a failover
	// emptied the script cache, and an enqueue must not fail for that.

	allScripts = []*redis.Script{batchAddScript, batchCancelScript, batchFiredScript, batchRecordScript, firingPruneScript,
		cancelScript, completeScript, deadwrapScript, extendScript, fetchScript, moveScript, promoteScript, rescueScript}
)

// loadScripts loads every script on every master, so that pipelined EVALSHA
// calls, which cannot fall back to EVAL, find them.
func loadScripts(ctx context.Context, rdb redis.UniversalClient) error {
	load := func(ctx context.Context, c *redis.Client) error {
		for _, s := range allScripts {
			if err := s.Load(ctx, c).Err(); err != nil {
				return fmt.Errorf("load script: %w", err)
			}
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, load)
	case *redis.Client:
		return load(ctx, c)
	default:
		for _, s := range allScripts {
			if err := s.Load(ctx, rdb).Err(); err != nil {
				return fmt.Errorf("load script: %w", err)
			}
		}
		return nil
	}
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// runScripts runs a batch of script calls in one pipeline. Calls that fail
// because the server lost its script cache (a restart or failover) are run
// again after the scripts are loaded.
func (d *Driver) runScripts(ctx context.Context, calls []scriptCall) ([]*redis.Cmd, error) {
	if len(calls) == 1 {
		c := calls[0]
		cmd := c.script.Run(ctx, d.rdb, c.keys, c.args...)
		return []*redis.Cmd{cmd}, cmd.Err()
	}
	cmds := make([]*redis.Cmd, len(calls))
	for attempt := 0; ; attempt++ {
		pipe := d.rdb.Pipeline()
		var idx []int
		for i, c := range calls {
			if cmds[i] != nil && !isNoScript(cmds[i].Err()) {
				continue
			}
			cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
			idx = append(idx, i)
		}
		_, err := pipe.Exec(ctx)
		if err == nil {
			return cmds, nil
		}
		noScript := false
		for _, i := range idx {
			if isNoScript(cmds[i].Err()) {
				noScript = true
			}
		}
		if !noScript || attempt > 0 {
			return cmds, err
		}
		if lerr := loadScripts(ctx, d.rdb); lerr != nil {
			return cmds, errors.Join(err, lerr)
		}
	}
}

type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}
