package sidekiq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// JobInsertMany writes jobs as Sidekiq::Client.push_bulk does: ready jobs are
// LPUSHed to queue:NAME (and the queue added to the queues set) with
// enqueued_at; scheduled ones go to the schedule set. All in one MULTI.
//
// Job.Args must be a JSON array (Sidekiq's args), or null for no arguments.
// Quire options Sidekiq has no field for are refused rather than dropped:
// unique keys, per-job timeouts and backoffs.
func (d *Driver) JobInsertMany(ctx context.Context, p *jobdriver.JobInsertManyParams) (*jobdriver.JobInsertManyResult, error) {
	ready := make(map[string][]any)
	var queues []string // in first-seen order, for a stable command order
	var scheduled []redis.Z
	for i, j := range p.Jobs {
		raw, err := d.encodeJob(j, p.Now)
		if err != nil {
			return nil, fmt.Errorf("job %d of %d (%s): %w", i+1, len(p.Jobs), j.Type, err)
		}
		if j.ScheduledAt.After(p.Now) {
			scheduled = append(scheduled, redis.Z{Score: unixSeconds(j.ScheduledAt), Member: raw})
			continue
		}
		if _, ok := ready[j.Queue]; !ok {
			queues = append(queues, j.Queue)
		}
		ready[j.Queue] = append(ready[j.Queue], raw)
	}
	_, err := d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, q := range queues {
			pipe.SAdd(ctx, d.key(keyQueues), q)
			for vs := ready[q]; len(vs) > 0; {
				n := min(len(vs), insertChunk)
				pipe.LPush(ctx, d.keyQueue(q), vs[:n]...)
				vs = vs[n:]
			}
		}
		for len(scheduled) > 0 {
			n := min(len(scheduled), insertChunk)
			pipe.ZAdd(ctx, d.key(keySchedule), scheduled[:n]...)
			scheduled = scheduled[n:]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("push %d Sidekiq jobs: %w", len(p.Jobs), err)
	}
	return &jobdriver.JobInsertManyResult{}, nil
}

func (d *Driver) encodeJob(j *jobtype.Job, now time.Time) (string, error) {
	switch {
	case j.UniqueKey != "":
		return "", errors.New("unique jobs cannot be written in Sidekiq's format")
	case j.Timeout != 0:
		return "", errors.New("a per-job timeout cannot be written in Sidekiq's format; set it on the handler")
	case j.Backoff != nil:
		return "", errors.New("a per-job backoff cannot be written in Sidekiq's format; set RetryDelayFunc on the handler")
	case !j.ExpiresAt.IsZero():
		return "", errors.New("a job deadline cannot be written in Sidekiq's format: a Ruby Sidekiq process would run the job however late")
	}
	args := bytes.TrimSpace(j.Args)
	if len(args) == 0 || string(args) == "null" {
		args = []byte("[]")
	}
	if args[0] != '[' {
		return "", fmt.Errorf("Sidekiq arguments must be a JSON array, not %.40s", args)
	}
	f := fields{"args": args}
	f.setString("class", j.Type)
	f.setString("queue", j.Queue)
	f.setString("jid", j.ID)
	if j.MaxRetries == d.cfg.MaxRetries {
		f["retry"] = json.RawMessage("true")
	} else {
		f["retry"] = json.RawMessage(strconv.Itoa(j.MaxRetries))
	}
	created := j.CreatedAt
	if created.IsZero() {
		created = now
	}
	f["created_at"] = d.formatTime(created)
	if !j.ScheduledAt.After(now) {
		f["enqueued_at"] = d.formatTime(now)
	}
	if len(j.Headers) > 0 {
		// An extra key, which Sidekiq keeps and ignores, as it does "tags".
		b, err := json.Marshal(j.Headers)
		if err != nil {
			return "", err
		}
		f[headersKey] = b
	}
	if len(j.Tags) > 0 {
		b, err := json.Marshal(j.Tags)
		if err != nil {
			return "", err
		}
		f["tags"] = b
	}
	return f.encode()
}

// promoteScript moves due entries of a sorted set to their queues, each only
// if it is still in the set (a Ruby poller may have taken it).
// KEYS[1] the set, KEYS[2] the queues set. ARGV[1] the start of a queue's
// key ("queue:", in the namespace); then triples of entry, queue, entry with
// enqueued_at. Returns the number moved.
var promoteScript = redis.NewScript(`
local n = 0
for i = 2, #ARGV, 3 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('SADD', KEYS[2], ARGV[i+1])
    redis.call('LPUSH', ARGV[1] .. ARGV[i+1], ARGV[i+2])
    n = n + 1
  end
end
return n
`)

// JobPromoteDue moves due retries and scheduled jobs to their queues, as
// Sidekiq's poller (Scheduled::Enq) does: for every queue, not only the
// given one, since the retry and schedule sets are shared.
func (d *Driver) JobPromoteDue(ctx context.Context, p *jobdriver.JobPromoteDueParams) (*jobdriver.JobPromoteDueResult, error) {
	res := &jobdriver.JobPromoteDueResult{}
	for _, set := range []string{d.key(keyRetry), d.key(keySchedule)} {
		due, err := d.rdb.ZRangeByScore(ctx, set, &redis.ZRangeBy{
			Min: "-inf", Max: strconv.FormatFloat(unixSeconds(p.Now), 'f', -1, 64), Count: int64(max(p.Max, 1)),
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("read due jobs of the %s set: %w", set, err)
		}
		if len(due) > 0 {
			args := make([]any, 0, 1+3*len(due))
			args = append(args, d.keyQueue(""))
			var bad []any
			for _, raw := range due {
				f, err := parseFields(raw)
				q := ""
				if err == nil {
					q = f.str("queue")
				}
				if q == "" {
					bad = append(bad, raw)
					continue
				}
				f["enqueued_at"] = d.formatTime(p.Now)
				out, err := f.encode()
				if err != nil {
					return nil, err
				}
				args = append(args, raw, q, out)
			}
			if len(bad) > 0 {
				// Not jobs: to the dead set, so the poller does not trip
				// on them forever.
				if err := d.bury(ctx, set, bad, p.Now); err != nil {
					return nil, err
				}
			}
			if len(args) > 1 {
				n, err := promoteScript.Run(ctx, d.rdb, []string{set, d.key(keyQueues)}, args...).Int()
				if err != nil {
					return nil, fmt.Errorf("move due jobs of the %s set to their queues: %w", set, err)
				}
				res.Promoted += n
			}
		}
		next, err := d.rdb.ZRangeWithScores(ctx, set, 0, 0).Result()
		if err != nil {
			return nil, fmt.Errorf("read the next due job of the %s set: %w", set, err)
		}
		if len(next) == 1 {
			sec, frac := math.Modf(next[0].Score)
			at := time.Unix(int64(sec), int64(frac*1e9))
			if res.NextAt.IsZero() || at.Before(res.NextAt) {
				res.NextAt = at
			}
		}
	}
	return res, nil
}

func (d *Driver) bury(ctx context.Context, set string, entries []any, now time.Time) error {
	_, err := d.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, e := range entries {
			pipe.ZRem(ctx, set, e)
			pipe.ZAdd(ctx, d.key(keyDead), redis.Z{Score: unixSeconds(now), Member: e})
		}
		d.trimDead(ctx, pipe, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("move %d entries of the %s set that are not jobs to the dead set: %w", len(entries), set, err)
	}
	return nil
}
