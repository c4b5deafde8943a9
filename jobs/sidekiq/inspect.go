package sidekiq

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// errUseSidekiqAPI explains the operations a Sidekiq installation does
// through Sidekiq's own API and Web UI, which work on the same data.
var errUseSidekiqAPI = fmt.Errorf("%w: on a Sidekiq installation, use Sidekiq's API or Web UI", jobdriver.ErrNotImplemented)

// JobCancel is not supported: Sidekiq OSS cannot cancel jobs.
func (d *Driver) JobCancel(context.Context, *jobdriver.JobCancelParams) (*jobdriver.JobCancelResult, error) {
	return nil, errUseSidekiqAPI
}

// JobCancelRequested reports nothing: no job can be cancelled.
func (d *Driver) JobCancelRequested(context.Context, *jobdriver.JobCancelRequestedParams) ([]string, error) {
	return nil, nil
}

// JobDelete is not supported; Sidekiq's SortedEntry#delete does it.
func (d *Driver) JobDelete(context.Context, *jobdriver.JobDeleteParams) error {
	return errUseSidekiqAPI
}

// JobGet is not supported; Sidekiq's RetrySet#find_job and friends do it.
func (d *Driver) JobGet(context.Context, *jobdriver.JobGetParams) (*jobtype.Job, error) {
	return nil, errUseSidekiqAPI
}

// JobList is not supported; Sidekiq's Queue, RetrySet, ScheduledSet and
// DeadSet list jobs.
func (d *Driver) JobList(context.Context, *jobdriver.JobListParams) ([]*jobtype.Job, error) {
	return nil, errUseSidekiqAPI
}

// JobRetry is not supported; Sidekiq's SortedEntry#retry does it, and a Quire
// server then runs the job.
func (d *Driver) JobRetry(context.Context, *jobdriver.JobRetryParams) error {
	return errUseSidekiqAPI
}

// QueueList lists the queues in Sidekiq's queues set.
func (d *Driver) QueueList(ctx context.Context) ([]string, error) {
	qs, err := d.rdb.SMembers(ctx, d.key(keyQueues)).Result()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	slices.Sort(qs)
	return qs, nil
}

// QueuePause is not supported: Sidekiq OSS has no paused queues.
func (d *Driver) QueuePause(context.Context, string) error { return errUseSidekiqAPI }

// QueueResume is not supported: Sidekiq OSS has no paused queues.
func (d *Driver) QueueResume(context.Context, string) error { return errUseSidekiqAPI }

// QueueStats counts a queue's ready jobs and the jobs Quire processes hold.
// Processed and Failed are the installation's totals (stat:processed,
// stat:failed), since Sidekiq does not count per queue; Scheduled, Retry and
// Dead count the entries of the shared sets that belong to the queue.
func (d *Driver) QueueStats(ctx context.Context, p *jobdriver.QueueStatsParams) (*jobdriver.QueueStats, error) {
	st := &jobdriver.QueueStats{Queue: p.Queue}
	holders, err := d.rdb.SMembers(ctx, d.keyHolders(p.Queue)).Result()
	if err != nil {
		return nil, fmt.Errorf("stats of queue %s: %w", p.Queue, err)
	}
	days := make([]string, max(p.Days, 0))
	for i := range days {
		days[i] = p.Now.UTC().AddDate(0, 0, -i).Format("2006-01-02")
	}
	var ready *redis.IntCmd
	var oldest *redis.StringCmd
	held := make([]*redis.IntCmd, len(holders))
	totals := make([]*redis.StringCmd, 2)
	daily := make([]*redis.StringCmd, 2*len(days))
	if _, err := d.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		ready = pipe.LLen(ctx, d.keyQueue(p.Queue))
		oldest = pipe.LIndex(ctx, d.keyQueue(p.Queue), -1)
		for i, h := range holders {
			held[i] = pipe.LLen(ctx, d.keyInProgress(p.Queue, h))
		}
		totals[0] = pipe.Get(ctx, d.keyStat("processed"))
		totals[1] = pipe.Get(ctx, d.keyStat("failed"))
		for i, day := range days {
			daily[2*i] = pipe.Get(ctx, d.keyStat("processed:"+day))
			daily[2*i+1] = pipe.Get(ctx, d.keyStat("failed:"+day))
		}
		return nil
	}); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("stats of queue %s: %w", p.Queue, err)
	}
	st.Ready = ready.Val()
	for _, h := range held {
		st.Running += h.Val()
	}
	if raw := oldest.Val(); raw != "" {
		if j, err := d.decodeJob(raw, p.Queue); err == nil {
			st.OldestReadyAt = j.EnqueuedAt
		}
	}
	st.Processed, _ = totals[0].Int64()
	st.Failed, _ = totals[1].Int64()
	for i, day := range days {
		ds := jobdriver.DayStats{Date: day}
		ds.Processed, _ = daily[2*i].Int64()
		ds.Failed, _ = daily[2*i+1].Int64()
		st.Daily = append(st.Daily, ds)
	}
	for _, s := range []struct {
		key string
		to  *int64
	}{{d.key(keySchedule), &st.Scheduled}, {d.key(keyRetry), &st.Retry}, {d.key(keyDead), &st.Dead}} {
		n, err := d.countQueue(ctx, s.key, p.Queue)
		if err != nil {
			return nil, err
		}
		*s.to = n
	}
	return st, nil
}

// countQueue counts the entries of a sorted set that belong to queue. It
// reads the whole set: Sidekiq keeps one set for every queue.
func (d *Driver) countQueue(ctx context.Context, set, queue string) (int64, error) {
	var n int64
	iter := d.rdb.ZScan(ctx, set, 0, "*", 1000).Iterator()
	member := true
	for iter.Next(ctx) {
		// ZSCAN yields member, score, member, score...
		if member {
			var q struct {
				Queue string `json:"queue"`
			}
			v := iter.Val()
			if strings.Contains(v, queue) && json.Unmarshal([]byte(v), &q) == nil && q.Queue == queue {
				n++
			}
		}
		member = !member
	}
	if err := iter.Err(); err != nil {
		return 0, fmt.Errorf("count the %s set's jobs of queue %s: %w", set, queue, err)
	}
	return n, nil
}
