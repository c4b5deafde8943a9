package sidekiq

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// errUseSidekiqAPI explains the operations a Sidekiq installation does
// through Sidekiq's own API and Web UI, which work on the same data.
var errUseSidekiqAPI = fmt.Errorf("%w: on a Sidekiq installation, use Sidekiq's API or Web UI", jobdriver.ErrNotImplemented)

// JobCancel is not supported: Sidekiq has no cancellation. A Ruby process
// never looks for a cancellation mark, so a running job could not be
// stopped wherever it runs; a waiting job can be killed from the Web UI.
func (d *Driver) JobCancel(context.Context, *jobdriver.JobCancelParams) (*jobdriver.JobCancelResult, error) {
	return nil, errUseSidekiqAPI
}

// JobCancelRequested reports nothing: no job can be cancelled.
func (d *Driver) JobCancelRequested(context.Context, *jobdriver.JobCancelRequestedParams) ([]string, error) {
	return nil, nil
}

// The Inspector's operations read Sidekiq's keys as Sidekiq's API does
// (Queue, ScheduledSet, RetrySet, DeadSet): finding a job scans its queue
// and the shared sorted sets. Running jobs are those Quire processes hold in
// their in-progress lists; a job a Ruby process runs is in no key but its
// process's busy hash, and is not found.

// listChunk is how many entries one read of a list or sorted set takes.
const listChunk = 1000

// JobList lists a page of one queue's jobs in one state: ready jobs in the
// order they will run, running jobs by process, scheduled jobs and retries
// by due time, dead jobs newest first, as Sidekiq's Web UI lists them. The
// sorted sets hold every queue's jobs, so a page of one queue reads the set
// up to that page.
func (d *Driver) JobList(ctx context.Context, p *jobdriver.JobListParams) ([]*jobtype.Job, error) {
	limit := p.Limit
	if limit <= 0 {
		limit = 25
	}
	offset := max(p.Offset, 0)
	var out []*jobtype.Job
	var err error
	switch p.State {
	case jobtype.StateReady:
		out, err = d.listReady(ctx, p.Queue, offset, limit)
	case jobtype.StateRunning:
		out, err = d.listRunning(ctx, p.Queue, offset, limit)
	case jobtype.StateScheduled, jobtype.StateRetry, jobtype.StateDead:
		out, err = d.listSet(ctx, p.Queue, p.State, offset, limit)
	default:
		return nil, fmt.Errorf("list jobs: unknown state %q", p.State)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s jobs of queue %s: %w", p.State, p.Queue, err)
	}
	return out, nil
}

func (d *Driver) listReady(ctx context.Context, queue string, offset, limit int) ([]*jobtype.Job, error) {
	// Sidekiq takes jobs from the right end: the page counts from there.
	raws, err := d.rdb.LRange(ctx, d.keyQueue(queue), int64(-offset-limit), int64(-offset-1)).Result()
	if err != nil {
		return nil, err
	}
	slices.Reverse(raws)
	out := make([]*jobtype.Job, 0, len(raws))
	for _, raw := range raws {
		if j, err := d.decodeJob(raw, queue); err == nil {
			j.State = jobtype.StateReady
			out = append(out, j)
		}
	}
	return out, nil
}

func (d *Driver) listRunning(ctx context.Context, queue string, offset, limit int) ([]*jobtype.Job, error) {
	holders, err := d.rdb.SMembers(ctx, d.keyHolders(queue)).Result()
	if err != nil {
		return nil, err
	}
	slices.Sort(holders)
	var out []*jobtype.Job
	for _, h := range holders {
		raws, err := d.rdb.LRange(ctx, d.keyInProgress(queue, h), 0, -1).Result()
		if err != nil {
			return nil, err
		}
		slices.Reverse(raws) // fetched first, first
		for _, raw := range raws {
			j, err := d.decodeJob(raw, queue)
			if err != nil {
				continue
			}
			if offset > 0 {
				offset--
				continue
			}
			j.State = jobtype.StateRunning
			if out = append(out, j); len(out) == limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// setOf returns the sorted set that holds jobs in state.
func (d *Driver) setOf(state jobtype.State) string {
	switch state {
	case jobtype.StateScheduled:
		return d.key(keySchedule)
	case jobtype.StateRetry:
		return d.key(keyRetry)
	}
	return d.key(keyDead)
}

func (d *Driver) listSet(ctx context.Context, queue string, state jobtype.State, offset, limit int) ([]*jobtype.Job, error) {
	key := d.setOf(state)
	var out []*jobtype.Job
	for start := int64(0); ; start += listChunk {
		q := redis.ZRangeArgs{Key: key, Start: start, Stop: start + listChunk - 1, Rev: state == jobtype.StateDead}
		zs, err := d.rdb.ZRangeArgsWithScores(ctx, q).Result()
		if err != nil {
			return nil, err
		}
		for _, z := range zs {
			j, ok := d.setEntry(z, queue, state)
			if !ok {
				continue
			}
			if offset > 0 {
				offset--
				continue
			}
			if out = append(out, j); len(out) == limit {
				return out, nil
			}
		}
		if len(zs) < listChunk {
			return out, nil
		}
	}
}

// setEntry decodes an entry of a sorted set that belongs to queue (any
// queue when empty). Entries that are not jobs, which Sidekiq keeps in the
// dead set as they are, belong to no queue.
func (d *Driver) setEntry(z redis.Z, queue string, state jobtype.State) (*jobtype.Job, bool) {
	raw, _ := z.Member.(string)
	if queue != "" && !strings.Contains(raw, queue) {
		return nil, false // cheap: most entries of a shared set are another queue's
	}
	j, err := d.decodeJob(raw, "")
	if err != nil || (queue != "" && j.Queue != queue) {
		return nil, false
	}
	j.State = state
	if state != jobtype.StateDead {
		j.ScheduledAt = secondsTime(z.Score)
	}
	return j, true
}

// found is a job located by id: the entry as stored and where it is.
type found struct {
	state jobtype.State
	key   string // the list or sorted set that holds it
	raw   string
	job   *jobtype.Job
}

// find locates a job by id in one queue, or in every queue when queue is
// empty; states narrows the search.
func (d *Driver) find(ctx context.Context, queue, id string, states ...jobtype.State) (*found, error) {
	if id == "" {
		return nil, fmt.Errorf("job id %q: %w", id, jobtype.ErrNotFound)
	}
	if len(states) == 0 {
		states = []jobtype.State{jobtype.StateRunning, jobtype.StateScheduled, jobtype.StateRetry, jobtype.StateDead, jobtype.StateReady}
	}
	queues := []string{queue}
	if queue == "" {
		var err error
		if queues, err = d.QueueList(ctx, &jobdriver.QueueListParams{}); err != nil {
			return nil, err
		}
	}
	for _, s := range states {
		var f *found
		var err error
		switch s {
		case jobtype.StateReady:
			for _, q := range queues {
				if f, err = d.findInList(ctx, d.keyQueue(q), q, id); f != nil || err != nil {
					break
				}
			}
		case jobtype.StateRunning:
			f, err = d.findRunning(ctx, queues, id)
		default:
			f, err = d.findInSet(ctx, d.setOf(s), queue, id, s)
		}
		if err != nil {
			return nil, fmt.Errorf("find job %s: %w", id, err)
		}
		if f != nil {
			f.state, f.job.State = s, s
			return f, nil
		}
	}
	return nil, fmt.Errorf("job %s: %w", id, jobtype.ErrNotFound)
}

func (d *Driver) findRunning(ctx context.Context, queues []string, id string) (*found, error) {
	for _, q := range queues {
		holders, err := d.rdb.SMembers(ctx, d.keyHolders(q)).Result()
		if err != nil {
			return nil, err
		}
		for _, h := range holders {
			if f, err := d.findInList(ctx, d.keyInProgress(q, h), q, id); f != nil || err != nil {
				return f, err
			}
		}
	}
	return nil, nil
}

func (d *Driver) findInList(ctx context.Context, key, queue, id string) (*found, error) {
	for start := int64(0); ; start += listChunk {
		raws, err := d.rdb.LRange(ctx, key, start, start+listChunk-1).Result()
		if err != nil {
			return nil, err
		}
		for _, raw := range raws {
			if !strings.Contains(raw, id) {
				continue
			}
			if j, err := d.decodeJob(raw, queue); err == nil && j.ID == id {
				return &found{key: key, raw: raw, job: j}, nil
			}
		}
		if len(raws) < listChunk {
			return nil, nil
		}
	}
}

func (d *Driver) findInSet(ctx context.Context, key, queue, id string, state jobtype.State) (*found, error) {
	iter := d.rdb.ZScan(ctx, key, 0, "*"+globEscaper.Replace(id)+"*", listChunk).Iterator()
	for iter.Next(ctx) {
		raw := iter.Val()
		if !iter.Next(ctx) { // members and scores alternate
			break
		}
		score, _ := strconv.ParseFloat(iter.Val(), 64)
		j, ok := d.setEntry(redis.Z{Member: raw, Score: score}, queue, state)
		if ok && j.ID == id {
			return &found{key: key, raw: raw, job: j}, nil
		}
	}
	return nil, iter.Err()
}

// globEscaper quotes the characters a Redis MATCH pattern gives meaning.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// JobGet finds a job by id: in its queue, held by a Quire process, or in the
// schedule, retry or dead set.
func (d *Driver) JobGet(ctx context.Context, p *jobdriver.JobGetParams) (*jobtype.Job, error) {
	f, err := d.find(ctx, p.Queue, p.ID)
	if err != nil {
		return nil, err
	}
	return f.job, nil
}

// retryScript moves an entry of a sorted set to its queue, if it is still
// in the set.
// KEYS[1] the set, KEYS[2] the queues set, KEYS[3] queue:NAME.
// ARGV[1] the entry, ARGV[2] its queue, ARGV[3] the entry to push.
// Returns 1 if it moved the entry, else 0.
var retryScript = redis.NewScript(`
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[3])
return 1
`)

// JobRetry makes a scheduled, retry or dead job ready now, as the Web UI's
// buttons do: a scheduled job is added to its queue unchanged
// (SortedEntry#add_to_queue); a retry or dead job has its retry_count
// lowered by one first (SortedEntry#retry), so that a failure counts the
// same attempt again and a dead job that fails once more is dead again.
// Either gets enqueued_at now.
func (d *Driver) JobRetry(ctx context.Context, p *jobdriver.JobRetryParams) error {
	if p.State != jobtype.StateScheduled && p.State != jobtype.StateRetry && p.State != jobtype.StateDead {
		return fmt.Errorf("retry job %s: only scheduled, retry and dead jobs can be retried, not %s", p.ID, p.State)
	}
	f, err := d.find(ctx, p.Queue, p.ID, p.State)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	fs, err := parseFields(f.raw)
	if err != nil {
		return fmt.Errorf("retry job %s: %w", p.ID, err)
	}
	if rc, ok := fs["retry_count"]; ok && p.State != jobtype.StateScheduled {
		if n, err := strconv.Atoi(string(rc)); err == nil {
			fs["retry_count"] = json.RawMessage(strconv.Itoa(n - 1))
		}
	}
	fs["enqueued_at"] = d.formatTime(p.Now)
	out, err := fs.encode()
	if err != nil {
		return fmt.Errorf("retry job %s: %w", p.ID, err)
	}
	q := f.job.Queue
	n, err := retryScript.Run(ctx, d.rdb, []string{f.key, d.key(keyQueues), d.keyQueue(q)}, f.raw, q, out).Int()
	if err != nil {
		return fmt.Errorf("retry job %s: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("retry job %s: it left the %s set meanwhile: %w", p.ID, f.state, jobtype.ErrNotFound)
	}
	return nil
}

// JobDelete removes a ready, scheduled, retry or dead job, as
// Sidekiq's JobRecord#delete and SortedEntry#delete do.
func (d *Driver) JobDelete(ctx context.Context, p *jobdriver.JobDeleteParams) error {
	if p.State == jobtype.StateRunning {
		return fmt.Errorf("delete job %s: a running job cannot be deleted", p.ID)
	}
	var states []jobtype.State
	if p.State != "" {
		states = []jobtype.State{p.State}
	} else {
		states = []jobtype.State{jobtype.StateScheduled, jobtype.StateRetry, jobtype.StateDead, jobtype.StateReady}
	}
	f, err := d.find(ctx, p.Queue, p.ID, states...)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	var n int64
	if f.state == jobtype.StateReady {
		n, err = d.rdb.LRem(ctx, f.key, 1, f.raw).Result()
	} else {
		n, err = d.rdb.ZRem(ctx, f.key, f.raw).Result()
	}
	if err != nil {
		return fmt.Errorf("delete job %s: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("delete job %s: it left the %s set meanwhile: %w", p.ID, f.state, jobtype.ErrNotFound)
	}
	return nil
}

// QueueList lists the queues in Sidekiq's queues set.
func (d *Driver) QueueList(ctx context.Context, _ *jobdriver.QueueListParams) ([]string, error) {
	qs, err := d.rdb.SMembers(ctx, d.key(keyQueues)).Result()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	slices.Sort(qs)
	return qs, nil
}

// QueuePause is not supported: Sidekiq OSS has no paused queues.
func (d *Driver) QueuePause(context.Context, *jobdriver.QueuePauseParams) error {
	return errUseSidekiqAPI
}

// QueueResume is not supported: Sidekiq OSS has no paused queues.
func (d *Driver) QueueResume(context.Context, *jobdriver.QueueResumeParams) error {
	return errUseSidekiqAPI
}

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
