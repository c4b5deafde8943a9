package redisdriver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Batches (issue #21). A batch's keys share the hash tag {b:<id>}, so its
// scripts touch one slot, which is never a queue's. A job's outcome is
// recorded in its batch by batchrecord.lua before complete.lua removes it
// from its queue: both are idempotent, and a crash in between runs the job
// again and records it again, which changes nothing.
// batchKeys are the keys of one batch.
type batchKeys struct {
	meta      string // hash: description, parent, callbacks, created_at (ms), committed, cancelled, complete, success, firing_at (ms)
	members   string // hash: member -> queue ('' for a child batch)
	succeeded string // set: members that succeeded
	dead      string // set: members that died
}

func (k keys) batch(id string) batchKeys {
	b := k.prefix + ":{b:" + id + "}:batch:"
	return batchKeys{meta: b + "meta", members: b + "members", succeeded: b + "succeeded", dead: b + "dead"}
}

func (bk batchKeys) all() []string { return []string{bk.meta, bk.members, bk.succeeded, bk.dead} }

// batches is the registry of batch ids, scored by creation time (ms). It is
// touched only by single-key commands; ids whose batch expired are dropped
// as listings find them.
func (k keys) batches() string { return k.prefix + ":batches" }

// batchesFiring indexes the batches that may have a callback left firing,
// for the sweep, scored by when a recorder last marked them (ms). A
// callback is claimed only by batchrecord.lua, which runs in the batch's
// slot, so the index (a key of its own slot) cannot be written in the same
// step: BatchRecord marks the batch here before it runs the script (at
// most every firingMarkEvery per batch and process), so a claim left
// firing by a process that died is always indexed. The sweep drops the
// batches it finds not firing.
func (k keys) batchesFiring() string { return k.prefix + ":batches:firing" }

// firingMarkEvery is how often one process marks a batch it records in, in
// the firing index. The sweep drops a batch only once its mark is older
// than twice this, so a mark a recorder skipped is never one the sweep
// dropped.
const firingMarkEvery = 15 * time.Second

// markFiring writes batch id in the firing index unless this driver did
// within firingMarkEvery.
func (d *Driver) markFiring(ctx context.Context, id string, now time.Time) error {
	if last, ok := d.firingMarks.Load(id); ok && now.Sub(last.(time.Time)) < firingMarkEvery {
		return nil
	}
	if err := d.rdb.ZAdd(ctx, d.keys.batchesFiring(), redis.Z{Score: float64(millis(now)), Member: id}).Err(); err != nil {
		return fmt.Errorf("index batch %s: %w", id, err)
	}
	// Forget old marks now and then, so the cache stays as small as the
	// set of batches being recorded in.
	if d.firingMarksN.Add(1)%1024 == 0 {
		d.firingMarks.Range(func(k, v any) bool {
			if now.Sub(v.(time.Time)) >= firingMarkEvery {
				d.firingMarks.Delete(k)
			}
			return true
		})
	}
	d.firingMarks.Store(id, now)
	return nil
}

// BatchCreate stores a new, uncommitted batch and registers it.
func (d *Driver) BatchCreate(ctx context.Context, p *jobdriver.BatchCreateParams) error {
	b := p.Batch
	bk := d.keys.batch(b.ID)
	created := millis(b.CreatedAt)
	pipe := d.rdb.Pipeline()
	pipe.HSet(ctx, bk.meta, "description", b.Description, "parent", b.ParentID,
		"callbacks", string(b.Callbacks), "created_at", created)
	pipe.ZAdd(ctx, d.keys.batches(), redis.Z{Score: float64(created), Member: b.ID})
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("create batch %s: %w", b.ID, err)
	}
	return nil
}

// BatchMemberAdd adds members to a batch that has not finished.
func (d *Driver) BatchMemberAdd(ctx context.Context, p *jobdriver.BatchMemberAddParams) error {
	if len(p.Members) == 0 {
		return nil
	}
	bk := d.keys.batch(p.ID)
	args := make([]any, 0, 2*len(p.Members))
	for m, q := range p.Members {
		args = append(args, m, q)
	}
	res, err := batchAddScript.Run(ctx, d.rdb, []string{bk.meta, bk.members}, args...).Text()
	if err != nil {
		return fmt.Errorf("add %d members to batch %s: %w", len(p.Members), p.ID, err)
	}
	switch res {
	case "missing":
		return fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrNotFound)
	case "finished":
		return fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrBatchFinished)
	}
	return nil
}

// BatchRecord records outcomes and claims the callbacks that became due.
func (d *Driver) BatchRecord(ctx context.Context, p *jobdriver.BatchRecordParams) ([]jobtype.BatchFire, error) {
	if err := d.markFiring(ctx, p.ID, p.Now); err != nil {
		return nil, fmt.Errorf("record %d outcomes in batch %s: %w", len(p.Outcomes), p.ID, err)
	}
	bk := d.keys.batch(p.ID)
	commit := ""
	if p.Commit {
		commit = "1"
	}
	args := make([]any, 0, 2+2*len(p.Outcomes))
	args = append(args, millis(p.Now), commit)
	for _, o := range p.Outcomes {
		op := "x"
		if o.Succeeded {
			op = "s"
		}
		args = append(args, o.Member, op)
	}
	res, err := batchRecordScript.Run(ctx, d.rdb, bk.all(), args...).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("record %d outcomes in batch %s: %w", len(p.Outcomes), p.ID, err)
	}
	fires := make([]jobtype.BatchFire, len(res))
	for i, ev := range res {
		fires[i] = jobtype.BatchFire{BatchID: p.ID, Event: jobtype.BatchEvent(ev)}
	}
	return fires, nil
}

// BatchFiredMark marks a claimed callback fired.
func (d *Driver) BatchFiredMark(ctx context.Context, p *jobdriver.BatchFiredMarkParams) error {
	bk := d.keys.batch(p.ID)
	err := batchFiredScript.Run(ctx, d.rdb, bk.all(), string(p.Event), retentionSeconds(p.Retention)).Err()
	if err != nil {
		return fmt.Errorf("mark %s callback of batch %s fired: %w", p.Event, p.ID, err)
	}
	return nil
}

// BatchCancel cancels a batch and returns its unfinished members.
func (d *Driver) BatchCancel(ctx context.Context, p *jobdriver.BatchCancelParams) (map[string]string, error) {
	bk := d.keys.batch(p.ID)
	res, err := batchCancelScript.Run(ctx, d.rdb, bk.all(), retentionSeconds(p.Retention)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", p.ID, err)
	}
	if len(res) == 0 || res[0] != "ok" {
		return nil, fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrNotFound)
	}
	out := make(map[string]string, (len(res)-1)/2)
	for i := 1; i+1 < len(res); i += 2 {
		out[res[i]] = res[i+1]
	}
	return out, nil
}

// BatchGet returns a batch and its progress.
func (d *Driver) BatchGet(ctx context.Context, p *jobdriver.BatchGetParams) (*jobtype.Batch, error) {
	bs, err := d.batchGetMany(ctx, []string{p.ID})
	if err != nil {
		return nil, err
	}
	if bs[0] == nil {
		return nil, fmt.Errorf("batch %s: %w", p.ID, jobtype.ErrNotFound)
	}
	return bs[0], nil
}

// batchGetMany reads batches in one pipeline; a batch that does not exist
// is nil.
func (d *Driver) batchGetMany(ctx context.Context, ids []string) ([]*jobtype.Batch, error) {
	type cmds struct {
		meta           *redis.MapStringStringCmd
		total, s, dead *redis.IntCmd
	}
	cs := make([]cmds, len(ids))
	pipe := d.rdb.Pipeline()
	for i, id := range ids {
		bk := d.keys.batch(id)
		cs[i] = cmds{pipe.HGetAll(ctx, bk.meta), pipe.HLen(ctx, bk.members), pipe.SCard(ctx, bk.succeeded), pipe.SCard(ctx, bk.dead)}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %d batches: %w", len(ids), err)
	}
	out := make([]*jobtype.Batch, len(ids))
	for i, id := range ids {
		m := cs[i].meta.Val()
		if len(m) == 0 {
			continue
		}
		created, _ := strconv.ParseInt(m["created_at"], 10, 64)
		firing, _ := strconv.ParseInt(m["firing_at"], 10, 64)
		b := &jobtype.Batch{
			ID: id, Description: m["description"], ParentID: m["parent"], Callbacks: []byte(m["callbacks"]),
			CreatedAt: time.UnixMilli(created).UTC(), Committed: m["committed"] == "1", Cancelled: m["cancelled"] == "1",
			Total: cs[i].total.Val(), Succeeded: cs[i].s.Val(), Dead: cs[i].dead.Val(),
			Complete: jobtype.CallbackState(m["complete"]), Success: jobtype.CallbackState(m["success"]),
		}
		if firing > 0 {
			b.FiringAt = time.UnixMilli(firing).UTC()
		}
		b.Pending = b.Total - b.Succeeded - b.Dead
		out[i] = b
	}
	return out, nil
}

// BatchList lists batches, newest first.
func (d *Driver) BatchList(ctx context.Context, p *jobdriver.BatchListParams) ([]*jobtype.Batch, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 100
	}
	ids, err := d.rdb.ZRevRange(ctx, d.keys.batches(), int64(p.Offset), int64(p.Offset+limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	bs, err := d.batchGetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*jobtype.Batch, 0, len(bs))
	var gone []any
	for i, b := range bs {
		if b == nil {
			gone = append(gone, ids[i])
			continue
		}
		out = append(out, b)
	}
	if len(gone) > 0 {
		_ = d.rdb.ZRem(ctx, d.keys.batches(), gone...).Err() // pruning can wait for the next listing
	}
	return out, nil
}

// BatchFiringList reads the firing index (keys.batchesFiring): only the
// batches recorded in lately or left firing, never the batches retained
// after they finished. It drops from the index the batches it finds gone,
// cancelled or not firing, once their mark is old enough.
func (d *Driver) BatchFiringList(ctx context.Context, p *jobdriver.BatchFiringListParams) ([]jobtype.BatchFire, error) {
	limit := p.Max
	if limit <= 0 {
		limit = 1000
	}
	zs, err := d.rdb.ZRangeByScoreWithScores(ctx, d.keys.batchesFiring(), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(millis(p.Before), 10), Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("list batch callbacks left firing: %w", err)
	}
	ids := make([]string, len(zs))
	for i, z := range zs {
		ids[i], _ = z.Member.(string)
	}
	bs, err := d.batchGetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []jobtype.BatchFire
	var drop []any
	dropBefore := float64(millis(p.Before) - 2*firingMarkEvery.Milliseconds())
	for i, b := range bs {
		firing := b != nil && !b.Cancelled && (b.Complete == jobtype.CallbackFiring || b.Success == jobtype.CallbackFiring)
		if !firing {
			if zs[i].Score < dropBefore {
				drop = append(drop, ids[i], strconv.FormatFloat(zs[i].Score, 'f', -1, 64))
			}
			continue
		}
		if !b.FiringAt.Before(p.Before) {
			continue
		}
		if b.Complete == jobtype.CallbackFiring {
			out = append(out, jobtype.BatchFire{BatchID: b.ID, Event: jobtype.BatchEventComplete})
		}
		if b.Success == jobtype.CallbackFiring {
			out = append(out, jobtype.BatchFire{BatchID: b.ID, Event: jobtype.BatchEventSuccess})
		}
	}
	if len(drop) > 0 {
		if err := firingPruneScript.Run(ctx, d.rdb, []string{d.keys.batchesFiring()}, drop...).Err(); err != nil {
			return nil, fmt.Errorf("prune the batch firing index: %w", err)
		}
	}
	return out, nil
}

func retentionSeconds(d time.Duration) int64 { return max(int64(d/time.Second), 1) }
