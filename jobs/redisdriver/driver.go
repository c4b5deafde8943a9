// Package redisdriver is the job engine's Redis broker.
//
// Each queue is a handful of keys that share the hash tag {queue}: a ready
// list, an inflight sorted set of leased jobs scored by lease deadline, and
// scheduled, retry and dead sorted sets. Every atomic step is a Lua script on
// one queue's keys (see scripts/), so a Redis Cluster works as well as a
// single server. Throughput comes from batching: a fetch takes up to a few
// hundred jobs in one call, completions and lease extensions are batched, and
// bulk enqueue is pipelined.
package redisdriver

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/internal/rediswait"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Defaults of Config.
const (
	PrefixDefault          = "quire"
	DeadMaxJobsDefault     = 10_000
	DeadMaxAgeDefault      = 180 * 24 * time.Hour
	DailyStatsTTLDefault   = 400 * 24 * time.Hour
	WaitTimeoutDefault     = time.Second
	insertChunk            = 500 // jobs per LPUSH: larger commands gain nothing
	scanCount              = 1000
	listScanChunk          = 1000
	undecodableJobType     = "quire.undecodable"
	undecodableErrorPrefix = "undecodable job entry: "
)

// Config configures a Driver.
type Config struct {
	// Prefix starts every key, so several deployments or tests can share one
	// Redis. Defaults to "quire".
	Prefix string
	// DeadMaxJobs caps the dead set of each queue; the oldest go first.
	// Defaults to 10,000.
	DeadMaxJobs int
	// DeadMaxAge drops dead jobs older than this. Defaults to 180 days.
	DeadMaxAge time.Duration
	// DailyStatsTTL is how long daily counters are kept. Defaults to 400 days.
	DailyStatsTTL time.Duration
	// WaitReplicas makes enqueue durable across a failover: an enqueue
	// returns only once that many replicas of the queue's master hold the
	// job (Redis WAIT), and fails otherwise. It costs a replication round
	// trip per enqueue call. Defaults to 0: acknowledged by the master alone.
	WaitReplicas int
	// WaitTimeout is how long an enqueue waits for WaitReplicas. Defaults to
	// 1 second.
	WaitTimeout time.Duration
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.Prefix = cmp.Or(c.Prefix, PrefixDefault)
	c.DeadMaxJobs = cmp.Or(c.DeadMaxJobs, DeadMaxJobsDefault)
	c.DeadMaxAge = cmp.Or(c.DeadMaxAge, DeadMaxAgeDefault)
	c.DailyStatsTTL = cmp.Or(c.DailyStatsTTL, DailyStatsTTLDefault)
	c.WaitTimeout = cmp.Or(c.WaitTimeout, WaitTimeoutDefault)
	return c
}

func (c Config) validate() error {
	if strings.ContainsAny(c.Prefix, "{} \t\n") {
		return fmt.Errorf("redisdriver: Prefix %q must not contain braces or spaces", c.Prefix)
	}
	if c.DeadMaxJobs < 0 || c.DeadMaxAge < 0 || c.DailyStatsTTL < 0 || c.WaitReplicas < 0 || c.WaitTimeout < 0 {
		return errors.New("redisdriver: DeadMaxJobs, DeadMaxAge, DailyStatsTTL, WaitReplicas and WaitTimeout must not be negative")
	}
	return nil
}

// Driver is a jobdriver.Driver on Redis or Redis Cluster.
type Driver struct {
	rdb  redis.UniversalClient
	cfg  Config
	keys keys

	fetchSeq    atomic.Uint64
	knownQueues sync.Map // queue name -> struct{}: registered in the queues set

	firingMarks  sync.Map // batch id -> time.Time: last written in the firing index
	firingMarksN atomic.Uint64

	waiter rediswait.Waiter
}

var _ jobdriver.Driver = (*Driver)(nil)

// New returns a driver on rdb. The caller keeps ownership of rdb.
func New(rdb redis.UniversalClient, cfg *Config) (*Driver, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Driver{rdb: rdb, cfg: c, keys: keys{prefix: c.Prefix}}, nil
}

// Client returns the Redis client the driver uses.
func (d *Driver) Client() redis.UniversalClient { return d.rdb }

// Prefix returns the key prefix.
func (d *Driver) Prefix() string { return d.cfg.Prefix }

// Close does nothing: the caller owns the Redis client.
func (d *Driver) Close() error { return nil }

// JobInsertMany pushes ready jobs with pipelined LPUSH and adds scheduled
// jobs to their queue's scheduled set, in one round trip. Jobs with a unique
// key go through one script call per queue in the same pipeline.
func (d *Driver) JobInsertMany(ctx context.Context, p *jobdriver.JobInsertManyParams) (*jobdriver.JobInsertManyResult, error) {
	res := &jobdriver.JobInsertManyResult{}
	if len(p.Jobs) == 0 {
		return res, nil
	}
	type queueBatch struct {
		ready     []any
		scheduled []redis.Z
		unique    []any // insertunique.lua's ARGV
		uniqueIdx []int // index in p.Jobs of each unique job
		uniqueCmd *redis.Cmd
	}
	batches := make(map[string]*queueBatch, 1)
	var order []string
	for i, j := range p.Jobs {
		b := batches[j.Queue]
		if b == nil {
			b = &queueBatch{}
			batches[j.Queue] = b
			order = append(order, j.Queue)
		}
		enc := encodeJob(j)
		if j.UniqueKey != "" {
			if b.unique == nil {
				b.unique = []any{millis(p.Now)}
			}
			var due, expiry int64
			if j.ScheduledAt.After(p.Now) {
				due = millis(j.ScheduledAt)
			}
			if !j.UniqueUntil.IsZero() {
				expiry = millis(j.UniqueUntil)
			}
			b.unique = append(b.unique, j.UniqueKey, j.ID, enc, due, expiry)
			b.uniqueIdx = append(b.uniqueIdx, i)
			continue
		}
		if !j.ScheduledAt.IsZero() && j.ScheduledAt.After(p.Now) {
			b.scheduled = append(b.scheduled, redis.Z{Score: float64(millis(j.ScheduledAt)), Member: enc})
		} else {
			b.ready = append(b.ready, enc)
		}
	}
	pipe := d.rdb.Pipeline()
	var newQueues []string
	// With WaitReplicas, each master gets its own pipeline that ends in WAIT,
	// on one connection, so WAIT covers exactly the writes before it.
	durable := map[*redis.Client]redis.Pipeliner{}
	for _, q := range order {
		if _, ok := d.knownQueues.Load(q); !ok {
			newQueues = append(newQueues, q)
			pipe.SAdd(ctx, d.keys.queues(), q)
		}
		b, qk := batches[q], d.keys.queue(q)
		qpipe := pipe
		if d.cfg.WaitReplicas > 0 && !p.NoSync {
			node, err := d.masterFor(ctx, qk.ready)
			if err != nil {
				return nil, fmt.Errorf("insert %d jobs: find master of queue %s: %w", len(p.Jobs), q, err)
			}
			if durable[node] == nil {
				durable[node] = node.Pipeline()
			}
			qpipe = durable[node]
		}
		for i := 0; i < len(b.ready); i += insertChunk {
			qpipe.LPush(ctx, qk.ready, b.ready[i:min(i+insertChunk, len(b.ready))]...)
		}
		for i := 0; i < len(b.scheduled); i += insertChunk {
			qpipe.ZAdd(ctx, qk.scheduled, b.scheduled[i:min(i+insertChunk, len(b.scheduled))]...)
		}
		if b.unique != nil {
			b.uniqueCmd = qpipe.Eval(ctx, insertUniqueLua, []string{qk.unique, qk.uniqueTTL, qk.ready, qk.scheduled}, b.unique...)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		d.relearnTopology(ctx)
		return nil, fmt.Errorf("insert %d jobs: %w", len(p.Jobs), err)
	}
	for node, np := range durable {
		wait := np.Do(ctx, "WAIT", d.cfg.WaitReplicas, d.cfg.WaitTimeout.Milliseconds())
		if _, err := np.Exec(ctx); err != nil {
			d.relearnTopology(ctx)
			return nil, fmt.Errorf("insert %d jobs on %s: %w", len(p.Jobs), node.Options().Addr, err)
		}
		if n, _ := wait.Int64(); n < int64(d.cfg.WaitReplicas) {
			return nil, fmt.Errorf("insert %d jobs: %w: %d of %d replicas of %s acknowledged within %s",
				len(p.Jobs), ErrNotReplicated, n, d.cfg.WaitReplicas, node.Options().Addr, d.cfg.WaitTimeout)
		}
	}
	for _, q := range newQueues {
		d.knownQueues.Store(q, struct{}{})
	}
	for _, q := range order {
		b := batches[q]
		if b.uniqueCmd == nil {
			continue
		}
		holders, err := b.uniqueCmd.StringSlice()
		if err != nil || len(holders) != len(b.uniqueIdx) {
			return nil, fmt.Errorf("insert unique jobs of queue %s: unexpected reply %v: %w", q, b.uniqueCmd.Val(), err)
		}
		for k, h := range holders {
			if h != "" {
				if res.Duplicates == nil {
					res.Duplicates = map[int]string{}
				}
				res.Duplicates[b.uniqueIdx[k]] = h
			}
		}
	}
	return res, nil
}

// ErrNotReplicated is returned by an enqueue with Config.WaitReplicas when
// too few replicas acknowledged the jobs in time. The jobs are on the master
// and will most likely run; a failover before they replicate could lose
// them, so the caller may enqueue them again (handlers are idempotent).
var ErrNotReplicated = errors.New("jobs not replicated")

// relearnTopology asks a cluster client to reload which node serves which
// slots after a failed call. go-redis relearns by itself on MOVED replies,
// but a master that died answers nothing, and pipelines and direct node
// writes kept failing for up to a minute after a failover without this. The
// reload is asynchronous and debounced, so calling it on every error is
// cheap.
func (d *Driver) relearnTopology(ctx context.Context) {
	if c, ok := d.rdb.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}

// masterFor returns the client of the master that holds key.
func (d *Driver) masterFor(ctx context.Context, key string) (*redis.Client, error) {
	switch c := d.rdb.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, fmt.Errorf("WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", d.rdb)
}

// JobFetch takes up to Max ready jobs from the right end of the queue (the
// oldest) and holds them in the inflight set under a lease token unique to
// this call.
func (d *Driver) JobFetch(ctx context.Context, p *jobdriver.JobFetchParams) (*jobdriver.JobFetchResult, error) {
	qk := d.keys.queue(p.Queue)
	token := p.LeaseOwner + ":" + strconv.FormatUint(d.fetchSeq.Add(1), 36) + "|"
	res, err := fetchScript.Run(ctx, d.rdb, []string{qk.ready, qk.inflight, qk.paused},
		p.Max, millis(p.LeaseUntil), token, max(p.MaxRunning, 0)).Result()
	if err != nil {
		d.relearnTopology(ctx)
		return nil, fmt.Errorf("fetch from queue %s: %w", p.Queue, err)
	}
	if n, ok := res.(int64); ok && n < 0 {
		return &jobdriver.JobFetchResult{Paused: n == -1, Capped: n == -2}, nil
	}
	raw, _ := res.([]any)
	out := &jobdriver.JobFetchResult{Jobs: make([]*jobtype.Job, 0, len(raw))}
	for _, r := range raw {
		s, _ := r.(string)
		j, err := decodeJob([]byte(s))
		if err != nil {
			if werr := d.buryUndecodable(ctx, p.Queue, token+s, s, err, p.Now); werr != nil {
				return out, werr
			}
			out.Undecodable++
			continue
		}
		j.State = jobtype.StateRunning
		j.Lease = token + s
		out.Jobs = append(out.Jobs, j)
	}
	return out, nil
}

// buryUndecodable moves an entry that is not a job to the dead set, wrapped in
// a job record that keeps the raw bytes and says what was wrong, so it can be
// seen, and deleted, like any dead job.
func (d *Driver) buryUndecodable(ctx context.Context, queue, member, raw string, cause error, now time.Time) error {
	args, _ := json.Marshal(map[string]string{"raw": raw})
	w := &jobtype.Job{
		ID:         ulid.Make().String(),
		Type:       undecodableJobType,
		Queue:      queue,
		Args:       args,
		CreatedAt:  now,
		EnqueuedAt: now,
		Error:      undecodableErrorPrefix + cause.Error(),
		FailedAt:   now,
	}
	qk := d.keys.queue(queue)
	date := now.UTC().Format(time.DateOnly)
	err := deadwrapScript.Run(ctx, d.rdb, []string{qk.inflight, qk.dead, qk.failed, qk.failedDay(date)},
		member, millis(now), encodeJob(w), int64(d.cfg.DailyStatsTTL/time.Second)).Err()
	if err != nil {
		return fmt.Errorf("move undecodable entry of queue %s to the dead set: %w", queue, err)
	}
	return nil
}

// minutesTTL keeps a day's per-minute counters a day past its end: the
// two days jobdriver.MinutesMax promises.
var minutesTTL = int64((2 * 24 * time.Hour) / time.Second)

var opCodes = [...]string{
	jobdriver.OutcomeDone:    "d",
	jobdriver.OutcomeRetry:   "r",
	jobdriver.OutcomeDead:    "x",
	jobdriver.OutcomeSnooze:  "s",
	jobdriver.OutcomeRequeue: "q",
}

// JobCompleteMany records outcomes with one script call per queue, all in one
// pipeline.
func (d *Driver) JobCompleteMany(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	if len(p.Completions) == 0 {
		return &jobdriver.JobCompleteManyResult{}, nil
	}
	date := p.Now.UTC().Format(time.DateOnly)
	minute := p.Now.UTC().Format("15:04")
	deadMinScore := millis(p.Now.Add(-d.cfg.DeadMaxAge))
	ttl := int64(d.cfg.DailyStatsTTL / time.Second)
	byQueue := make(map[string]int, 1)
	var calls []scriptCall
	for _, c := range p.Completions {
		if c.Outcome == 0 || int(c.Outcome) >= len(opCodes) {
			return nil, fmt.Errorf("complete job %s: unknown outcome %d", c.Job.ID, c.Outcome)
		}
		i, ok := byQueue[c.Job.Queue]
		if !ok {
			qk := d.keys.queue(c.Job.Queue)
			i = len(calls)
			byQueue[c.Job.Queue] = i
			calls = append(calls, scriptCall{
				script: completeScript,
				keys: []string{qk.inflight, qk.ready, qk.scheduled, qk.retry, qk.dead,
					qk.processed, qk.processedDay(date), qk.failed, qk.failedDay(date),
					qk.unique, qk.uniqueTTL, qk.cancel, qk.processedMinutes(date), qk.failedMinutes(date)},
				args: append(make([]any, 0, 5+6*len(p.Completions)), d.cfg.DeadMaxJobs, deadMinScore, ttl, minute, minutesTTL),
			})
		}
		var score int64
		var enc string
		switch c.Outcome {
		case jobdriver.OutcomeRetry, jobdriver.OutcomeSnooze:
			score = millis(c.Updated.ScheduledAt)
			enc = encodeJob(c.Updated)
		case jobdriver.OutcomeDead:
			score = millis(p.Now)
			enc = encodeJob(c.Updated)
		case jobdriver.OutcomeRequeue:
			enc = c.Job.Lease[strings.IndexByte(c.Job.Lease, '|')+1:]
		}
		calls[i].args = append(calls[i].args, opCodes[c.Outcome], c.Job.Lease, score, enc, heldUntilFinished(c.Job), c.Job.ID)
	}
	cmds, err := d.runScripts(ctx, calls)
	if err != nil {
		d.relearnTopology(ctx)
		return nil, fmt.Errorf("complete %d jobs: %w", len(p.Completions), err)
	}
	res := &jobdriver.JobCompleteManyResult{}
	for _, cmd := range cmds {
		vals, _ := cmd.Val().([]any)
		if len(vals) == 2 {
			a, _ := vals[0].(int64)
			s, _ := vals[1].(int64)
			res.Applied += int(a)
			res.Stale += int(s)
		}
	}
	return res, nil
}

// JobLeaseExtendMany extends leases with one script call per queue.
func (d *Driver) JobLeaseExtendMany(ctx context.Context, p *jobdriver.JobLeaseExtendManyParams) error {
	if len(p.Jobs) == 0 {
		return nil
	}
	until := millis(p.LeaseUntil)
	byQueue := map[string]int{}
	var calls []scriptCall
	for _, j := range p.Jobs {
		i, ok := byQueue[j.Queue]
		if !ok {
			i = len(calls)
			byQueue[j.Queue] = i
			calls = append(calls, scriptCall{script: extendScript, keys: []string{d.keys.queue(j.Queue).inflight}, args: []any{until}})
		}
		calls[i].args = append(calls[i].args, j.Lease)
	}
	if _, err := d.runScripts(ctx, calls); err != nil {
		d.relearnTopology(ctx)
		return fmt.Errorf("extend leases of %d jobs: %w", len(p.Jobs), err)
	}
	return nil
}

// JobPromoteDue moves due scheduled jobs and retries to the ready list.
func (d *Driver) JobPromoteDue(ctx context.Context, p *jobdriver.JobPromoteDueParams) (*jobdriver.JobPromoteDueResult, error) {
	qk := d.keys.queue(p.Queue)
	vals, err := promoteScript.Run(ctx, d.rdb, []string{qk.scheduled, qk.retry, qk.ready}, millis(p.Now), cmp.Or(p.Max, 1000)).Int64Slice()
	if err != nil {
		d.relearnTopology(ctx)
		return nil, fmt.Errorf("promote due jobs of queue %s: %w", p.Queue, err)
	}
	res := &jobdriver.JobPromoteDueResult{Promoted: int(vals[0])}
	if vals[1] >= 0 {
		res.NextAt = time.UnixMilli(vals[1]).UTC()
	}
	return res, nil
}

// JobRescueExpired returns jobs whose lease expired to the front of the ready
// list.
func (d *Driver) JobRescueExpired(ctx context.Context, p *jobdriver.JobRescueExpiredParams) (int, error) {
	qk := d.keys.queue(p.Queue)
	n, err := rescueScript.Run(ctx, d.rdb, []string{qk.inflight, qk.ready}, millis(p.Now), cmp.Or(p.Max, 1000)).Int()
	if err != nil {
		d.relearnTopology(ctx)
		return 0, fmt.Errorf("rescue expired jobs of queue %s: %w", p.Queue, err)
	}
	return n, nil
}

// QueueWait blocks until the queue has a ready job, without taking it
// (rediswait): a cancelled ctx ends the wait at once.
func (d *Driver) QueueWait(ctx context.Context, p *jobdriver.QueueWaitParams) (bool, error) {
	ok, err := d.waiter.Wait(ctx, d.rdb, d.keys.queue(p.Queue).ready, p.Timeout)
	if err != nil {
		if ctx.Err() == nil {
			d.relearnTopology(ctx)
		}
		return false, fmt.Errorf("wait on queue %s: %w", p.Queue, err)
	}
	return ok, nil
}

// heldUntilFinished returns the unique key j holds until it finishes, or "".
func heldUntilFinished(j *jobtype.Job) string {
	if j.UniqueUntil.IsZero() {
		return j.UniqueKey
	}
	return ""
}
