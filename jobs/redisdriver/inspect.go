package redisdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// The operations here serve introspection (CLI, web UI, metrics). They are
// not on the hot path: finding a job by id scans its queue's sets.

// JobList lists a page of one queue's jobs in one state: ready jobs in the
// order they will run, running jobs by lease deadline, scheduled jobs and
// retries by due time, dead jobs newest first.
func (d *Driver) JobList(ctx context.Context, p *jobdriver.JobListParams) ([]*jobtype.Job, error) {
	qk := d.keys.queue(p.Queue)
	limit := p.Limit
	if limit <= 0 {
		limit = 25
	}
	start, stop := int64(p.Offset), int64(p.Offset+limit-1)
	var raws []string
	var err error
	switch p.State {
	case jobtype.StateReady:
		raws, err = d.rdb.LRange(ctx, qk.ready, -stop-1, -start-1).Result()
		slices.Reverse(raws)
	case jobtype.StateRunning:
		raws, err = d.rdb.ZRange(ctx, qk.inflight, start, stop).Result()
		for i, r := range raws {
			raws[i] = r[strings.IndexByte(r, '|')+1:]
		}
	case jobtype.StateScheduled:
		raws, err = d.rdb.ZRange(ctx, qk.scheduled, start, stop).Result()
	case jobtype.StateRetry:
		raws, err = d.rdb.ZRange(ctx, qk.retry, start, stop).Result()
	case jobtype.StateDead:
		raws, err = d.rdb.ZRevRange(ctx, qk.dead, start, stop).Result()
	default:
		return nil, fmt.Errorf("list jobs: unknown state %q", p.State)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s jobs of queue %s: %w", p.State, p.Queue, err)
	}
	out := make([]*jobtype.Job, 0, len(raws))
	for _, r := range raws {
		out = append(out, decodeForDisplay(r, p.Queue, p.State))
	}
	return out, nil
}

// decodeForDisplay decodes a stored entry; an entry that is not a job is shown
// as one, so listings never fail on garbage.
func decodeForDisplay(raw, queue string, state jobtype.State) *jobtype.Job {
	j, err := decodeJob([]byte(raw))
	if err != nil {
		args, _ := json.Marshal(map[string]string{"raw": raw})
		j = &jobtype.Job{Type: undecodableJobType, Queue: queue, Args: args, Error: undecodableErrorPrefix + err.Error()}
	}
	j.State = state
	return j
}

// found is a job located in a queue: the stored entry and where it is.
type found struct {
	queue  string
	state  jobtype.State
	member string
	job    *jobtype.Job
}

// find locates a job by id in one queue, or in every queue when queue is
// empty; states narrows the search.
func (d *Driver) find(ctx context.Context, queue, id string, states ...jobtype.State) (*found, error) {
	if id == "" || strings.ContainsAny(id, `"*?[]\`) {
		return nil, fmt.Errorf("job id %q: %w", id, jobtype.ErrNotFound)
	}
	queues := []string{queue}
	if queue == "" {
		var err error
		if queues, err = d.QueueList(ctx, &jobdriver.QueueListParams{}); err != nil {
			return nil, err
		}
	}
	if len(states) == 0 {
		states = []jobtype.State{jobtype.StateRunning, jobtype.StateScheduled, jobtype.StateRetry, jobtype.StateDead, jobtype.StateReady}
	}
	head := `{"id":"` + id + `",`
	for _, q := range queues {
		qk := d.keys.queue(q)
		for _, s := range states {
			var member string
			var err error
			switch s {
			case jobtype.StateReady:
				member, err = d.findInList(ctx, qk.ready, head)
			case jobtype.StateRunning:
				member, err = d.findInZSet(ctx, qk.inflight, "*|"+head+"*")
			default:
				member, err = d.findInZSet(ctx, qk.set(string(s)), head+"*")
			}
			if err != nil {
				return nil, fmt.Errorf("find job %s in queue %s: %w", id, q, err)
			}
			if member == "" {
				continue
			}
			raw := member
			if s == jobtype.StateRunning {
				raw = member[strings.IndexByte(member, '|')+1:]
			}
			j := decodeForDisplay(raw, q, s)
			if s == jobtype.StateRunning {
				j.Lease = member
			}
			return &found{queue: q, state: s, member: member, job: j}, nil
		}
	}
	return nil, fmt.Errorf("job %s: %w", id, jobtype.ErrNotFound)
}

func (d *Driver) findInZSet(ctx context.Context, key, match string) (string, error) {
	iter := d.rdb.ZScan(ctx, key, 0, match, scanCount).Iterator()
	for i := 0; iter.Next(ctx); i++ {
		if i%2 == 0 { // members and scores alternate
			return iter.Val(), nil
		}
	}
	return "", iter.Err()
}

func (d *Driver) findInList(ctx context.Context, key, head string) (string, error) {
	for start := int64(0); ; start += listScanChunk {
		vals, err := d.rdb.LRange(ctx, key, start, start+listScanChunk-1).Result()
		if err != nil {
			return "", err
		}
		for _, v := range vals {
			if strings.HasPrefix(v, head) {
				return v, nil
			}
		}
		if len(vals) < listScanChunk {
			return "", nil
		}
	}
}

// JobGet finds a job by id.
func (d *Driver) JobGet(ctx context.Context, p *jobdriver.JobGetParams) (*jobtype.Job, error) {
	f, err := d.find(ctx, p.Queue, p.ID)
	if err != nil {
		return nil, err
	}
	return f.job, nil
}

// JobRetry makes a scheduled, retry or dead job ready now. The job keeps its
// attempts, as in Sidekiq: a dead job retried by hand that fails again is
// dead again at once.
func (d *Driver) JobRetry(ctx context.Context, p *jobdriver.JobRetryParams) error {
	if p.State != jobtype.StateScheduled && p.State != jobtype.StateRetry && p.State != jobtype.StateDead {
		return fmt.Errorf("retry job %s: only scheduled, retry and dead jobs can be retried, not %s", p.ID, p.State)
	}
	f, err := d.find(ctx, p.Queue, p.ID, p.State)
	if err != nil {
		return fmt.Errorf("retry: %w", err)
	}
	j := *f.job
	j.EnqueuedAt = p.Now
	j.ScheduledAt = time.Time{}
	j.Rescues = 0 // a person's retry is a fresh start
	n, err := d.move(ctx, f, "ready", encodeJob(&j), time.Time{})
	if err != nil {
		return fmt.Errorf("retry job %s: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("retry job %s: it left the %s set meanwhile: %w", p.ID, f.state, jobtype.ErrNotFound)
	}
	return nil
}

// JobDelete removes a ready, scheduled, retry or dead job.
func (d *Driver) JobDelete(ctx context.Context, p *jobdriver.JobDeleteParams) error {
	if p.State == jobtype.StateRunning {
		return fmt.Errorf("delete job %s: a running job cannot be deleted", p.ID)
	}
	f, err := d.find(ctx, p.Queue, p.ID, p.State)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	n, err := d.move(ctx, f, "delete", "", time.Time{})
	if err != nil {
		return fmt.Errorf("delete job %s: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("delete job %s: it left the %s set meanwhile: %w", p.ID, f.state, jobtype.ErrNotFound)
	}
	return nil
}

// move runs move.lua on a found job that is not running.
func (d *Driver) move(ctx context.Context, f *found, to, enc string, at time.Time) (int, error) {
	qk := d.keys.queue(f.queue)
	return moveScript.Run(ctx, d.rdb,
		[]string{qk.set(string(f.state)), qk.ready, qk.dead, qk.unique, qk.uniqueTTL, qk.cancel},
		f.member, to, enc, millis(at), heldUntilFinished(f.job), f.job.ID,
		d.cfg.DeadMaxJobs, millis(at.Add(-d.cfg.DeadMaxAge))).Int()
}

// JobCancel sends a job that is not running to the dead set, or marks a
// running one for its process to cancel. A job that moves between the lookup
// and the change is looked up again.
func (d *Driver) JobCancel(ctx context.Context, p *jobdriver.JobCancelParams) (*jobdriver.JobCancelResult, error) {
	for range 5 {
		f, err := d.find(ctx, p.Queue, p.ID)
		if err != nil {
			return nil, err
		}
		qk := d.keys.queue(f.queue)
		var n int
		if f.state == jobtype.StateRunning {
			n, err = cancelScript.Run(ctx, d.rdb, []string{qk.inflight, qk.cancel}, f.member, f.job.ID).Int()
		} else {
			j := *f.job
			j.Error, j.FailedAt, j.State = p.Reason, p.Now, ""
			n, err = d.move(ctx, f, "dead", encodeJob(&j), p.Now)
		}
		if err != nil {
			return nil, fmt.Errorf("cancel job %s: %w", p.ID, err)
		}
		if n == 1 {
			return &jobdriver.JobCancelResult{Was: f.state}, nil
		}
	}
	return nil, fmt.Errorf("cancel job %s: it kept moving between states; try again", p.ID)
}

// JobCancelRequested asks each queue's cancel set about its held jobs, in
// one pipeline.
func (d *Driver) JobCancelRequested(ctx context.Context, p *jobdriver.JobCancelRequestedParams) ([]string, error) {
	byQueue := map[string][]string{}
	for _, j := range p.Jobs {
		byQueue[j.Queue] = append(byQueue[j.Queue], j.ID)
	}
	pipe := d.rdb.Pipeline()
	type ask struct {
		ids []string
		cmd *redis.BoolSliceCmd
	}
	asks := make([]ask, 0, len(byQueue))
	for q, ids := range byQueue {
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = id
		}
		asks = append(asks, ask{ids, pipe.SMIsMember(ctx, d.keys.queue(q).cancel, members...)})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		d.relearnTopology(ctx)
		return nil, fmt.Errorf("check %d running jobs for cancellation: %w", len(p.Jobs), err)
	}
	var out []string
	for _, a := range asks {
		for i, marked := range a.cmd.Val() {
			if marked {
				out = append(out, a.ids[i])
			}
		}
	}
	return out, nil
}

// ProcessHeartbeat stores the process record with a TTL and registers its id.
func (d *Driver) ProcessHeartbeat(ctx context.Context, p *jobdriver.ProcessHeartbeatParams) error {
	data, err := json.Marshal(p.Info)
	if err != nil {
		return fmt.Errorf("encode process %s: %w", p.Info.ID, err)
	}
	pipe := d.rdb.Pipeline()
	pipe.SAdd(ctx, d.keys.processes(), p.Info.ID)
	pipe.Set(ctx, d.keys.process(p.Info.ID), data, p.TTL)
	for _, q := range p.Info.Queues {
		if _, ok := d.knownQueues.Load(q); !ok {
			pipe.SAdd(ctx, d.keys.queues(), q)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("heartbeat of process %s: %w", p.Info.ID, err)
	}
	for _, q := range p.Info.Queues {
		d.knownQueues.Store(q, struct{}{})
	}
	return nil
}

// ProcessList returns the live processes, dropping ids whose record expired.
func (d *Driver) ProcessList(ctx context.Context, _ *jobdriver.ProcessListParams) ([]*jobdriver.ProcessInfo, error) {
	ids, err := d.rdb.SMembers(ctx, d.keys.processes()).Result()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	slices.Sort(ids)
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.Get(ctx, d.keys.process(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []*jobdriver.ProcessInfo
	var gone []any
	for i, cmd := range cmds {
		data, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			gone = append(gone, ids[i])
			continue
		}
		var info jobdriver.ProcessInfo
		if err := json.Unmarshal(data, &info); err != nil {
			gone = append(gone, ids[i])
			continue
		}
		out = append(out, &info)
	}
	if len(gone) > 0 {
		d.rdb.SRem(ctx, d.keys.processes(), gone...)
	}
	return out, nil
}

// ProcessRemove forgets a stopped process.
func (d *Driver) ProcessRemove(ctx context.Context, params *jobdriver.ProcessRemoveParams) error {
	id := params.ID
	pipe := d.rdb.Pipeline()
	pipe.SRem(ctx, d.keys.processes(), id)
	pipe.Del(ctx, d.keys.process(id))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("remove process %s: %w", id, err)
	}
	return nil
}

// QueueList returns the known queues, sorted.
func (d *Driver) QueueList(ctx context.Context, _ *jobdriver.QueueListParams) ([]string, error) {
	qs, err := d.rdb.SMembers(ctx, d.keys.queues()).Result()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	slices.Sort(qs)
	return qs, nil
}

// QueuePause sets the queue's paused flag, which the fetch script checks.
func (d *Driver) QueuePause(ctx context.Context, params *jobdriver.QueuePauseParams) error {
	queue := params.Queue
	pipe := d.rdb.Pipeline()
	pipe.Set(ctx, d.keys.queue(queue).paused, "1", 0)
	pipe.SAdd(ctx, d.keys.queues(), queue)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("pause queue %s: %w", queue, err)
	}
	return nil
}

// QueueResume clears the queue's paused flag.
func (d *Driver) QueueResume(ctx context.Context, params *jobdriver.QueueResumeParams) error {
	queue := params.Queue
	if err := d.rdb.Del(ctx, d.keys.queue(queue).paused).Err(); err != nil {
		return fmt.Errorf("resume queue %s: %w", queue, err)
	}
	return nil
}

// QueueStats reads a queue's sizes and counters in one pipeline.
func (d *Driver) QueueStats(ctx context.Context, p *jobdriver.QueueStatsParams) (*jobdriver.QueueStats, error) {
	qk := d.keys.queue(p.Queue)
	pipe := d.rdb.Pipeline()
	ready := pipe.LLen(ctx, qk.ready)
	running := pipe.ZCard(ctx, qk.inflight)
	scheduled := pipe.ZCard(ctx, qk.scheduled)
	retry := pipe.ZCard(ctx, qk.retry)
	dead := pipe.ZCard(ctx, qk.dead)
	paused := pipe.Exists(ctx, qk.paused)
	oldest := pipe.LIndex(ctx, qk.ready, -1)
	processed := pipe.Get(ctx, qk.processed)
	failed := pipe.Get(ctx, qk.failed)
	type day struct {
		date              string
		processed, failed *redis.StringCmd
	}
	days := make([]day, p.Days)
	for i := range days {
		date := p.Now.UTC().AddDate(0, 0, -i).Format(time.DateOnly)
		days[i] = day{date, pipe.Get(ctx, qk.processedDay(date)), pipe.Get(ctx, qk.failedDay(date))}
	}
	// The minutes asked for, by the day whose hashes hold them.
	var minutes []jobdriver.MinuteStats
	type dayMinutes struct {
		first             int // index in minutes of the day's first field
		processed, failed *redis.SliceCmd
	}
	var mdays []dayMinutes
	if p.Minutes > 0 {
		minutes = jobdriver.Minutes(p.Now, min(p.Minutes, jobdriver.MinutesMax))
		for i := 0; i < len(minutes); {
			date := minutes[i].Minute.Format(time.DateOnly)
			var fields []string
			j := i
			for ; j < len(minutes) && minutes[j].Minute.Format(time.DateOnly) == date; j++ {
				fields = append(fields, minutes[j].Minute.Format("15:04"))
			}
			mdays = append(mdays, dayMinutes{i, pipe.HMGet(ctx, qk.processedMinutes(date), fields...), pipe.HMGet(ctx, qk.failedMinutes(date), fields...)})
			i = j
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("stats of queue %s: %w", p.Queue, err)
	}
	for _, md := range mdays {
		for k, v := range md.processed.Val() {
			minutes[md.first+k].Processed = hashCount(v)
		}
		for k, v := range md.failed.Val() {
			minutes[md.first+k].Failed = hashCount(v)
		}
	}
	st := &jobdriver.QueueStats{Minutely: minutes,
		Queue:     p.Queue,
		Paused:    paused.Val() == 1,
		Ready:     ready.Val(),
		Running:   running.Val(),
		Scheduled: scheduled.Val(),
		Retry:     retry.Val(),
		Dead:      dead.Val(),
	}
	st.Processed, _ = processed.Int64()
	st.Failed, _ = failed.Int64()
	if raw := oldest.Val(); raw != "" {
		if j, err := decodeJob([]byte(raw)); err == nil {
			st.OldestReadyAt = j.ReadyAt()
		}
	}
	for _, dd := range days {
		ds := jobdriver.DayStats{Date: dd.date}
		ds.Processed, _ = dd.processed.Int64()
		ds.Failed, _ = dd.failed.Int64()
		st.Daily = append(st.Daily, ds)
	}
	return st, nil
}

// hashCount reads a counter of HMGET's answer: nil for a minute without
// executions.
func hashCount(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
