package jobs

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// QueueDefault is the queue of jobs enqueued without one.
const QueueDefault = "default"

// NoRetries is the EnqueueOpts.MaxRetries that sends a job to the dead set
// on its first failure.
const NoRetries = -1

// uniqueKeyMax bounds a unique key, which brokers store with every job.
const uniqueKeyMax = 1000

// ValidateQueueName reports whether name can be a queue: 1 to 100 letters,
// digits, '_', '.' or '-'. Braces are excluded because the Redis driver uses
// the queue name as a Redis Cluster hash tag.
func ValidateQueueName(name string) error {
	if !validName(name, 100, "_.-") {
		return fmt.Errorf("queue name %q must be 1 to 100 letters, digits, '_', '.' or '-'", name)
	}
	return nil
}

// EnqueueOpts are optional settings of one enqueued job. nil means defaults.
type EnqueueOpts struct {
	// Queue is the queue to put the job on. Defaults to "default".
	Queue string
	// MaxRetries is how many times a failed job is retried. Defaults to 25;
	// NoRetries (-1) allows none.
	MaxRetries int
	// RunAt schedules the job for a time; RunIn schedules it after a delay.
	// Either defaults to now.
	RunAt time.Time
	RunIn time.Duration
	// Timeout bounds one execution. Defaults to the handler's or server's.
	Timeout time.Duration
	// Backoff sets this job's retry delays. Defaults to the handler's or
	// server's RetryDelayFunc.
	Backoff *Backoff
	// Tags label the job for filtering and display.
	Tags []string
	// Unique, when set, stores the job only if no job of its queue holds the
	// same unique key; otherwise the enqueue stores nothing and returns the
	// job that holds the key, with Duplicate set.
	Unique *UniqueOpts

	// Expiry and metadata (issue #21).

	// ExpiresAt is the deadline for the job to start; ExpiresIn sets it
	// after a delay from now. A job fetched after its deadline goes to the
	// dead set with ErrExpired as its reason and never runs; a job that
	// started and is retried is not expired again. Either defaults to no
	// deadline.
	ExpiresAt time.Time
	ExpiresIn time.Duration
	// Headers are small string metadata carried with the job to its
	// handler (see Job.Headers). Enqueue middleware may add to them.
	Headers map[string]string

	// NoSync lets the enqueue return once the broker holds the job, before
	// it reaches the disk: the embedded driver commits it without a flush
	// (SQLite synchronous=NORMAL), Redis without waiting for replicas
	// (redisdriver's WaitReplicas). A crash of the process loses nothing;
	// a crash of the machine, or a failover, may lose the job. It is for
	// jobs the application enqueues again after such a crash from a record
	// of its own, as Quire's pipeline does its stages from the document's
	// state: their enqueue then costs no flush. An EnqueueMany skips the
	// flush only when every one of its jobs asks to; a job that joins a
	// batch is always flushed with the batch's count.
	NoSync bool
}

// noSyncKey marks the context of an enqueue whose jobs all asked for
// EnqueueOpts.NoSync, for the store at the end of the middleware.
type noSyncKey struct{}

// UniqueOpts make a job unique in its queue.
type UniqueOpts struct {
	// Key is the unique key. Empty derives it from the job's type and
	// arguments, so the same work cannot be enqueued twice.
	Key string
	// TTL is how long the key is held. Zero holds it until the job
	// finishes: it succeeds, goes dead (failed, discarded or cancelled) or
	// is deleted. Retries keep it.
	TTL time.Duration
}

// EnqueueParams describe one job of a bulk enqueue.
type EnqueueParams struct {
	Type string
	Args any
	Opts *EnqueueOpts
}

// EnqueueFunc stores jobs in the broker.
type EnqueueFunc func(ctx context.Context, jobs []*Job) error

// EnqueueMiddleware wraps every enqueue of a client: it may inspect or change
// the jobs, refuse them, or add work around the store. The first middleware
// in ClientConfig.Middleware is the outermost.
type EnqueueMiddleware func(next EnqueueFunc) EnqueueFunc

// ClientConfig configures a Client.
type ClientConfig struct {
	// Clock tells the time. Defaults to the system clock.
	Clock jobtype.Clock
	// Middleware wraps every enqueue.
	Middleware []EnqueueMiddleware

	// Batches (issue #21).

	// BatchRetention is how long a batch stays after it finished or was
	// cancelled. Defaults to BatchRetentionDefault (7 days).
	BatchRetention time.Duration

	// Keyring, when set, encrypts the arguments of every job at rest (see
	// Keyring); servers need a keyring with the same keys. Defaults to none:
	// arguments are stored as they are.
	Keyring *Keyring
}

// Client enqueues jobs. It is safe for concurrent use.
type Client struct {
	driver jobdriver.Driver
	clock  jobtype.Clock
	insert EnqueueFunc

	// Batches (issue #21).
	batchRetention time.Duration
}

// NewClient returns a client that enqueues on d.
func NewClient(d Driver, cfg *ClientConfig) (*Client, error) {
	if d == nil {
		return nil, errors.New("jobs: NewClient needs a driver")
	}
	var c ClientConfig
	if cfg != nil {
		c = *cfg
	}
	cl := &Client{driver: d, clock: cmp.Or[jobtype.Clock](c.Clock, jobtype.SystemClock{})}
	cl.insert = cl.store
	cl.batchRetention = cmp.Or(c.BatchRetention, BatchRetentionDefault)
	if c.Keyring != nil {
		cl.insert = encryptMiddleware(c.Keyring)(cl.insert)
	}
	for i := len(c.Middleware) - 1; i >= 0; i-- {
		cl.insert = c.Middleware[i](cl.insert)
	}
	return cl, nil
}

// Enqueue stores one job and returns it once the broker holds it durably.
// args is encoded as JSON; json.RawMessage and []byte are taken as JSON as
// they are.
func (c *Client) Enqueue(ctx context.Context, jobType string, args any, opts *EnqueueOpts) (*Job, error) {
	if id := BatchFromContext(ctx); id != "" {
		j, err := c.OpenBatch(id).Enqueue(ctx, jobType, args, opts)
		if !batchGone(err) {
			return j, err
		}
	}
	j, err := c.newJob(c.clock.Now(), jobType, args, opts)
	if err != nil {
		return nil, err
	}
	if opts != nil && opts.NoSync {
		ctx = context.WithValue(ctx, noSyncKey{}, true)
	}
	if err := c.insert(ctx, []*Job{j}); err != nil {
		return nil, fmt.Errorf("enqueue %s job: %w", jobType, err)
	}
	return j, nil
}

// EnqueueMany stores many jobs in as few round trips as the broker allows
// and returns them once all are durable. If any job is invalid, none is
// stored.
func (c *Client) EnqueueMany(ctx context.Context, params []EnqueueParams) ([]*Job, error) {
	if id := BatchFromContext(ctx); id != "" {
		js, err := c.OpenBatch(id).EnqueueMany(ctx, params)
		if !batchGone(err) {
			return js, err
		}
	}
	now := c.clock.Now()
	out := make([]*Job, len(params))
	noSync := len(params) > 0
	for i, p := range params {
		j, err := c.newJob(now, p.Type, p.Args, p.Opts)
		if err != nil {
			return nil, fmt.Errorf("job %d of %d: %w", i+1, len(params), err)
		}
		out[i] = j
		noSync = noSync && p.Opts != nil && p.Opts.NoSync
	}
	if noSync {
		ctx = context.WithValue(ctx, noSyncKey{}, true)
	}
	if err := c.insert(ctx, out); err != nil {
		return nil, fmt.Errorf("enqueue %d jobs: %w", len(out), err)
	}
	return out, nil
}

func (c *Client) store(ctx context.Context, jobs []*Job) error {
	noSync, _ := ctx.Value(noSyncKey{}).(bool)
	res, err := c.driver.JobInsertMany(ctx, &jobdriver.JobInsertManyParams{Jobs: jobs, Now: c.clock.Now(), NoSync: noSync})
	if err != nil {
		return err
	}
	for i, id := range res.Duplicates {
		jobs[i].ID = id
		jobs[i].Duplicate = true
	}
	return nil
}

func (c *Client) newJob(now time.Time, jobType string, args any, opts *EnqueueOpts) (*Job, error) {
	if !validJobType(jobType) {
		return nil, fmt.Errorf("job type %q must be 1 to 200 letters, digits or _.:/-", jobType)
	}
	var o EnqueueOpts
	if opts != nil {
		o = *opts
	}
	j := &Job{
		ID:         ulid.Make().String(),
		Type:       jobType,
		Queue:      cmp.Or(o.Queue, QueueDefault),
		MaxRetries: o.MaxRetries,
		CreatedAt:  now,
		EnqueuedAt: now,
		Tags:       o.Tags,
		Timeout:    o.Timeout,
		Backoff:    o.Backoff,
		State:      StateReady,
	}
	if err := ValidateQueueName(j.Queue); err != nil {
		return nil, err
	}
	switch {
	case o.MaxRetries == 0:
		j.MaxRetries = MaxRetriesDefault
	case o.MaxRetries == NoRetries:
		j.MaxRetries = 0
	case o.MaxRetries < 0:
		return nil, fmt.Errorf("MaxRetries %d: use a positive count or NoRetries", o.MaxRetries)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("Timeout %s must not be negative", o.Timeout)
	}
	if o.Backoff != nil && (o.Backoff.Base <= 0 || o.Backoff.Max < 0) {
		return nil, errors.New("Backoff needs a positive Base and a Max that is not negative")
	}
	switch {
	case !o.RunAt.IsZero():
		j.ScheduledAt = o.RunAt
	case o.RunIn > 0:
		j.ScheduledAt = now.Add(o.RunIn)
	}
	if j.ScheduledAt.After(now) {
		j.State = StateScheduled
	} else {
		j.ScheduledAt = time.Time{}
	}
	raw := true // arguments given as JSON must be checked; encoded ones are valid
	switch a := args.(type) {
	case json.RawMessage:
		j.Args = a
	case []byte:
		j.Args = a
	case nil:
	default:
		raw = false
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("encode arguments of %s job: %w", jobType, err)
		}
		j.Args = b
	}
	if len(j.Args) == 0 {
		j.Args = json.RawMessage("null")
	} else if raw && !json.Valid(j.Args) {
		return nil, fmt.Errorf("arguments of %s job are not valid JSON", jobType)
	}
	if err := setExpiry(j, now, o); err != nil {
		return nil, err
	}
	if len(o.Headers) > 0 {
		j.Headers = maps.Clone(o.Headers)
	}
	if u := o.Unique; u != nil {
		if u.TTL < 0 {
			return nil, fmt.Errorf("Unique.TTL %s must not be negative", u.TTL)
		}
		if len(u.Key) > uniqueKeyMax {
			return nil, fmt.Errorf("Unique.Key is %d bytes; at most %d are allowed", len(u.Key), uniqueKeyMax)
		}
		j.UniqueKey = u.Key
		if j.UniqueKey == "" {
			sum := sha256.Sum256(append([]byte(jobType+"\x00"), j.Args...))
			j.UniqueKey = jobType + ":" + hex.EncodeToString(sum[:16])
		}
		if u.TTL > 0 {
			j.UniqueUntil = now.Add(u.TTL)
		}
	}
	return j, nil
}
