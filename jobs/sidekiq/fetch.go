package sidekiq

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

// Reliable fetch, as Sidekiq Pro's super_fetch: a fetch moves jobs from the
// right end of queue:NAME (where Sidekiq's BRPOP takes them) into the
// fetching process's in-progress list, in one script, so a job is always in
// exactly one list. The process's lease deadline is refreshed on every fetch
// and by the server's lease heartbeat; when it has passed, JobRescueExpired
// moves the list back to the front of the queue.

// fetchScript takes up to ARGV[1] jobs.
// KEYS[1] queue:NAME, KEYS[2] in-progress list, KEYS[3] holders set,
// KEYS[4] leases zset. ARGV[1] max, ARGV[2] identity, ARGV[3] lease
// deadline (ms). Returns the payloads taken, oldest first.
var fetchScript = redis.NewScript(`
redis.call('ZADD', KEYS[4], 'GT', ARGV[3], ARGV[2])
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  out[i] = v
end
if #out > 0 then redis.call('SADD', KEYS[3], ARGV[2]) end
return out
`)

// rescueScript returns the in-progress lists of processes whose lease
// passed to the front of their queue.
// KEYS[1] holders set, KEYS[2] queue:NAME, KEYS[3] leases zset.
// ARGV[1] now (ms), ARGV[2] in-progress key prefix, ARGV[3] max.
// Returns the number of jobs moved.
var rescueScript = redis.NewScript(`
local now, max, moved = tonumber(ARGV[1]), tonumber(ARGV[3]), 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local deadline = redis.call('ZSCORE', KEYS[3], id)
  if not deadline or tonumber(deadline) < now then
    local src = ARGV[2] .. id
    while moved < max do
      -- newest first to the right end: the oldest ends up next in line
      local v = redis.call('LMOVE', src, KEYS[2], 'LEFT', 'RIGHT')
      if not v then break end
      moved = moved + 1
    end
    if redis.call('LLEN', src) == 0 then
      redis.call('SREM', KEYS[1], id)
      if deadline then redis.call('ZREM', KEYS[3], id) end
    end
  end
end
return moved
`)

// JobFetch takes up to Max jobs from queue:NAME into the process's
// in-progress list. Entries that are not Sidekiq jobs go to the dead set as
// they are, as Sidekiq does with them.
func (d *Driver) JobFetch(ctx context.Context, p *jobdriver.JobFetchParams) (*jobdriver.JobFetchResult, error) {
	if p.LeaseOwner == "" {
		return nil, errors.New("sidekiq: fetch needs a LeaseOwner")
	}
	if p.MaxRunning > 0 {
		// Ruby Sidekiq processes fetch from the same lists without
		// counting, so a cap could not hold.
		return nil, fmt.Errorf("sidekiq: per-queue global concurrency: %w", jobdriver.ErrNotImplemented)
	}
	// Before the script: if its reply is lost, rescueOrphans must know
	// to look at this list.
	d.mu.Lock()
	if d.owned[p.Queue] == nil {
		d.owned[p.Queue] = make(map[string]bool)
	}
	d.owned[p.Queue][p.LeaseOwner] = true
	d.mu.Unlock()
	raws, err := fetchScript.Run(ctx, d.rdb,
		[]string{d.keyQueue(p.Queue), d.keyInProgress(p.Queue, p.LeaseOwner), d.keyHolders(p.Queue), d.keyLeases()},
		p.Max, p.LeaseOwner, p.LeaseUntil.UnixMilli()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("fetch from queue %s: %w", p.Queue, err)
	}
	res := &jobdriver.JobFetchResult{Jobs: make([]*jobtype.Job, 0, len(raws))}
	var bad []string
	for _, raw := range raws {
		j, err := d.decodeJob(raw, p.Queue)
		if err != nil {
			bad = append(bad, raw)
			continue
		}
		j.Lease = d.newLease(p.LeaseOwner, raw)
		res.Jobs = append(res.Jobs, j)
	}
	if len(bad) > 0 {
		res.Undecodable = len(bad)
		if err := d.buryUndecodable(ctx, p, bad); err != nil {
			// The fetched jobs are not handed out: they are orphans of
			// this process's list, which rescueOrphans returns to the
			// queue.
			return nil, err
		}
	}
	d.mu.Lock()
	for _, j := range res.Jobs {
		_, raw, _ := parseLease(j.Lease)
		d.running[j.ID] = raw
		d.held[raw]++
	}
	d.mu.Unlock()
	return res, nil
}

// buryUndecodable moves entries that are not jobs from the in-progress list
// to the dead set, where a person can see them.
func (d *Driver) buryUndecodable(ctx context.Context, p *jobdriver.JobFetchParams, bad []string) error {
	now := p.Now
	inProgress := d.keyInProgress(p.Queue, p.LeaseOwner)
	_, err := d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, raw := range bad {
			pipe.ZAdd(ctx, d.key(keyDead), redis.Z{Score: unixSeconds(now), Member: raw})
			pipe.LRem(ctx, inProgress, 1, raw)
		}
		d.trimDead(ctx, pipe, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("move %d undecodable entries of queue %s to the dead set: %w", len(bad), p.Queue, err)
	}
	return nil
}

func (d *Driver) trimDead(ctx context.Context, pipe redis.Pipeliner, now time.Time) {
	pipe.ZRemRangeByScore(ctx, d.key(keyDead), "-inf", "("+strconv.FormatFloat(unixSeconds(now.Add(-d.cfg.DeadMaxAge)), 'f', -1, 64))
	pipe.ZRemRangeByRank(ctx, d.key(keyDead), 0, int64(-d.cfg.DeadMaxJobs-1))
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// JobLeaseExtendMany moves the lease deadline of the processes that hold the
// jobs: one lease covers all the jobs a process holds.
func (d *Driver) JobLeaseExtendMany(ctx context.Context, p *jobdriver.JobLeaseExtendManyParams) error {
	owners := make(map[string]bool)
	for _, j := range p.Jobs {
		owner, _, err := parseLease(j.Lease)
		if err != nil {
			return err
		}
		owners[owner] = true
	}
	if len(owners) == 0 {
		return nil
	}
	members := make([]redis.Z, 0, len(owners))
	for o := range owners {
		members = append(members, redis.Z{Score: float64(p.LeaseUntil.UnixMilli()), Member: o})
	}
	if err := d.rdb.ZAddGT(ctx, d.keyLeases(), members...).Err(); err != nil {
		return fmt.Errorf("extend the leases of %d processes: %w", len(owners), err)
	}
	return nil
}

// release forgets one lease on payload. d.mu must be held.
func (d *Driver) release(payload string) {
	if d.held[payload] <= 1 {
		delete(d.held, payload)
	} else {
		d.held[payload]--
	}
}

// JobRescueExpired returns the jobs held by processes whose lease passed to
// the front of their queue, and the orphans of this driver's own lists.
func (d *Driver) JobRescueExpired(ctx context.Context, p *jobdriver.JobRescueExpiredParams) (int, error) {
	n, err := rescueScript.Run(ctx, d.rdb,
		[]string{d.keyHolders(p.Queue), d.keyQueue(p.Queue), d.keyLeases()},
		p.Now.UnixMilli(), d.keyInProgressPrefix(p.Queue), max(p.Max, 1)).Int()
	if err != nil {
		return 0, fmt.Errorf("rescue the jobs of dead processes in queue %s: %w", p.Queue, err)
	}
	orphans, err := d.rescueOrphans(ctx, p.Queue)
	return n + orphans, err
}

// requeueScript moves one entry from an in-progress list to the front of
// its queue, if it is still in the list.
// KEYS[1] in-progress list, KEYS[2] queue:NAME. ARGV[1] the entry.
var requeueScript = redis.NewScript(`
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
`)

// rescueOrphans returns to the queue the entries of this driver's own
// in-progress lists that no job it handed out holds: a fetch whose reply was
// lost (a timeout after the script ran) leaves them there, and the lease of
// a live process never passes. An entry must be an orphan at two looks in a
// row, a rescue interval apart, so that a fetch whose reply is still on its
// way keeps its jobs.
func (d *Driver) rescueOrphans(ctx context.Context, queue string) (int, error) {
	d.mu.Lock()
	var owners []string
	for o := range d.owned[queue] {
		owners = append(owners, o)
	}
	d.mu.Unlock()
	moved := 0
	for _, owner := range owners {
		key := d.keyInProgress(queue, owner)
		entries, err := d.rdb.LRange(ctx, key, 0, -1).Result()
		if err != nil {
			return moved, fmt.Errorf("read the in-progress list of %s in queue %s: %w", owner, queue, err)
		}
		inList := make(map[string]int, len(entries))
		for _, e := range entries {
			inList[e]++
		}
		var requeue []string
		now := make(map[string]bool)
		d.mu.Lock()
		for e, c := range inList {
			if c <= d.held[e] {
				continue
			}
			if d.suspects[key][e] {
				requeue = append(requeue, e)
			} else {
				now[e] = true
			}
		}
		d.suspects[key] = now
		d.mu.Unlock()
		for _, e := range requeue {
			n, err := requeueScript.Run(ctx, d.rdb, []string{key, d.keyQueue(queue)}, e).Int()
			if err != nil {
				return moved, fmt.Errorf("return an orphaned job to queue %s: %w", queue, err)
			}
			moved += n
		}
	}
	return moved, nil
}

// QueueWait blocks until queue:NAME has a job, without taking it
// (rediswait): a cancelled ctx ends the wait at once.
func (d *Driver) QueueWait(ctx context.Context, p *jobdriver.QueueWaitParams) (bool, error) {
	ok, err := d.waiter.Wait(ctx, d.rdb, d.keyQueue(p.Queue), p.Timeout)
	if err != nil {
		return false, fmt.Errorf("wait on queue %s: %w", p.Queue, err)
	}
	return ok, nil
}
