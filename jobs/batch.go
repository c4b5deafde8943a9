package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/quirehq/quire/jobs/internal/service"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobtype"
)

// Batches (issue #21) follow Sidekiq Pro: a batch is a group of jobs, and of
// child batches, tracked as one, with a callback job when every member
// reached a final state (OnComplete: done or dead) and one when every member
// succeeded (OnSuccess; a job that retried and then succeeded counts). Jobs
// may be added to a running batch until its completion callback fired.
//
// How a callback fires exactly once, on any broker and on Redis Cluster:
//  1. Before a batch job's outcome is recorded in its queue, the completer
//     records it in its batch (BatchRecord). Recording twice changes
//     nothing, so a crash in between only runs the job again.
//  2. The recording that makes a callback due also claims it (pending to
//     firing), atomically, and returns it to that one caller.
//  3. The caller enqueues the callback job under a unique key held for the
//     batch retention, records the child's outcome in its parent batch, then
//     marks the callback fired.
//  4. A process killed between 2 and 4 leaves the callback firing; the
//     batch sweep, run by the one server elected its leader, finishes
//     callbacks left firing longer than Config.BatchFiringGrace (the
//     drivers index the batches left firing, so it reads no other), and
//     the unique key keeps a callback that was enqueued already from being
//     enqueued again.
//
// On a driver that can (jobdriver.BatchCompleter: the embedded one), steps
// 1 and 2 happen in the transaction that completes the jobs.
//
// A job without a batch costs nothing extra: no round trip, no write.

// Defaults of the batch settings.
const (
	// BatchRetentionDefault is how long a batch stays in the broker after
	// it finished or was cancelled, as in Sidekiq Pro.
	BatchRetentionDefault = 7 * 24 * time.Hour
	// BatchFiringGraceDefault is how long a claimed callback may stay
	// unfired before the sweep fires it.
	BatchFiringGraceDefault = time.Minute
	// BatchSweepIntervalDefault is how often the sweep leader looks for
	// callbacks left firing.
	BatchSweepIntervalDefault = time.Minute
)

// ErrBatchFinished is returned when jobs are added to a batch whose
// completion callback fired or that was cancelled.
var ErrBatchFinished = jobtype.ErrBatchFinished

// BatchStatus is a batch and its progress: total, pending, succeeded and
// dead members, and the state of its callbacks.
type BatchStatus = jobtype.Batch

// BatchEvent names a batch callback: BatchEventComplete or
// BatchEventSuccess.
type BatchEvent = jobtype.BatchEvent

// CallbackState is where a batch callback is: pending (""), firing or
// fired.
type CallbackState = jobtype.CallbackState

// The batch callbacks.
const (
	BatchEventComplete = jobtype.BatchEventComplete
	BatchEventSuccess  = jobtype.BatchEventSuccess
)

// BatchOpts configure a new batch.
type BatchOpts struct {
	// Description is shown with the batch.
	Description string
	// ParentID makes the batch a member of a running parent batch: it
	// counts as one member there, succeeded when all its members succeeded,
	// dead when it completed with dead members.
	ParentID string
	// OnComplete is enqueued once every member reached a final state.
	OnComplete *BatchCallback
	// OnSuccess is enqueued once every member succeeded.
	OnSuccess *BatchCallback
}

// BatchCallback is a job enqueued when a batch completes or succeeds.
type BatchCallback struct {
	Type string
	// Args are the callback's arguments. Defaults to BatchCallbackArgs.
	Args any
	// Queue defaults to QueueDefault.
	Queue string
	// MaxRetries as in EnqueueOpts.
	MaxRetries int
	// ExpiresIn, when positive, discards the callback (to the dead set, as
	// EnqueueOpts.ExpiresIn does) if it has not started that long after it
	// fired: for a callback meant for one process, which may be gone.
	ExpiresIn time.Duration
}

// BatchCallbackArgs are the arguments of a callback enqueued without Args.
// Every callback also carries the tags "batch:<id>" and
// "batch_event:<event>".
type BatchCallbackArgs struct {
	BatchID string     `json:"batch_id"`
	Event   BatchEvent `json:"event"`
}

// storedCallback is a callback as the batch stores it.
type storedCallback struct {
	Type       string          `json:"type"`
	Args       json.RawMessage `json:"args,omitempty"`
	Queue      string          `json:"queue,omitempty"`
	MaxRetries int             `json:"max_retries,omitempty"`
	ExpiresIn  time.Duration   `json:"expires_in,omitempty"`
}

type storedCallbacks struct {
	Complete *storedCallback `json:"complete,omitempty"`
	Success  *storedCallback `json:"success,omitempty"`
}

// Batch adds jobs to one batch. Get one from Client.NewBatch, or
// Client.OpenBatch to add to a running batch.
type Batch struct {
	id string
	c  *Client
}

// ID returns the batch's id.
func (b *Batch) ID() string { return b.id }

// NewBatch creates a batch. Its callbacks cannot fire before Commit, so jobs
// may finish while more are added.
func (c *Client) NewBatch(ctx context.Context, opts *BatchOpts) (*Batch, error) {
	var o BatchOpts
	if opts != nil {
		o = *opts
	}
	var cbs storedCallbacks
	var err error
	if cbs.Complete, err = storeCallback(o.OnComplete); err != nil {
		return nil, fmt.Errorf("OnComplete: %w", err)
	}
	if cbs.Success, err = storeCallback(o.OnSuccess); err != nil {
		return nil, fmt.Errorf("OnSuccess: %w", err)
	}
	raw, _ := json.Marshal(cbs) // plain data always encodes
	st := &jobtype.Batch{ID: ulid.Make().String(), Description: o.Description, ParentID: o.ParentID,
		Callbacks: raw, CreatedAt: c.clock.Now().UTC()}
	if err := c.driver.BatchCreate(ctx, &jobdriver.BatchCreateParams{Batch: st}); err != nil {
		return nil, fmt.Errorf("create batch: %w", err)
	}
	if o.ParentID != "" {
		err := c.driver.BatchMemberAdd(ctx, &jobdriver.BatchMemberAddParams{
			ID: o.ParentID, Members: map[string]string{jobtype.BatchMemberPrefix + st.ID: ""}})
		if err != nil {
			return nil, fmt.Errorf("add batch %s to its parent: %w", st.ID, err)
		}
	}
	return &Batch{id: st.ID, c: c}, nil
}

func storeCallback(cb *BatchCallback) (*storedCallback, error) {
	if cb == nil {
		return nil, nil
	}
	if !validJobType(cb.Type) {
		return nil, fmt.Errorf("job type %q must be 1 to 200 letters, digits or _.:/-", cb.Type)
	}
	if cb.Queue != "" {
		if err := ValidateQueueName(cb.Queue); err != nil {
			return nil, err
		}
	}
	if cb.ExpiresIn < 0 {
		return nil, fmt.Errorf("ExpiresIn %s must not be negative", cb.ExpiresIn)
	}
	s := &storedCallback{Type: cb.Type, Queue: cb.Queue, MaxRetries: cb.MaxRetries, ExpiresIn: cb.ExpiresIn}
	if cb.Args != nil {
		b, err := json.Marshal(cb.Args)
		if err != nil {
			return nil, fmt.Errorf("encode arguments: %w", err)
		}
		s.Args = b
	}
	return s, nil
}

// OpenBatch returns a handle on an existing batch, to add jobs to it while
// it runs. Nothing is checked until jobs are added.
func (c *Client) OpenBatch(id string) *Batch { return &Batch{id: id, c: c} }

// Enqueue adds one job to the batch and enqueues it.
func (b *Batch) Enqueue(ctx context.Context, jobType string, args any, opts *EnqueueOpts) (*Job, error) {
	js, err := b.EnqueueMany(ctx, []EnqueueParams{{Type: jobType, Args: args, Opts: opts}})
	if err != nil {
		return nil, err
	}
	return js[0], nil
}

// EnqueueMany adds jobs to the batch and enqueues them. The jobs join the
// batch before they are stored, so the batch cannot finish without them.
//
// A unique job that another job holds the key of is not stored (its
// Duplicate is set, as with Client.Enqueue): it counts in the batch as a
// member that succeeded at once, since the job holding the key does its
// work. When the batch must wait for that work too, the holder has to be a
// member itself.
func (b *Batch) EnqueueMany(ctx context.Context, params []EnqueueParams) ([]*Job, error) {
	now := b.c.clock.Now()
	out := make([]*Job, len(params))
	members := make(map[string]string, len(params))
	ids := make([]string, len(params))
	for i, p := range params {
		j, err := b.c.newJob(now, p.Type, p.Args, p.Opts)
		if err != nil {
			return nil, fmt.Errorf("batch %s: job %d of %d: %w", b.id, i+1, len(params), err)
		}
		j.BatchID = b.id
		out[i] = j
		ids[i] = j.ID
		members[j.ID] = j.Queue
	}
	if err := b.c.driver.BatchMemberAdd(ctx, &jobdriver.BatchMemberAddParams{ID: b.id, Members: members}); err != nil {
		return nil, fmt.Errorf("batch %s: %w", b.id, err)
	}
	if err := b.c.insert(ctx, out); err != nil {
		return nil, fmt.Errorf("batch %s: enqueue %d jobs: %w", b.id, len(out), err)
	}
	// The store put the holder's id in place of a duplicate's: the member
	// recorded is the id the job had when it joined.
	var dups []jobdriver.BatchOutcome
	for i, j := range out {
		if j.Duplicate {
			dups = append(dups, jobdriver.BatchOutcome{Member: ids[i], Succeeded: true})
		}
	}
	if len(dups) > 0 {
		fires, err := b.c.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: b.id, Outcomes: dups, Now: b.c.clock.Now()})
		if err != nil {
			return nil, fmt.Errorf("batch %s: record %d duplicates: %w", b.id, len(dups), err)
		}
		if err := b.c.fireBatches(ctx, fires); err != nil {
			return nil, fmt.Errorf("batch %s: %w", b.id, err)
		}
	}
	return out, nil
}

// batchKey is the context key of the batch that jobs enqueued with the
// context join.
type batchKey struct{}

// WithBatch returns a context in which every job a Client enqueues joins
// batch id, as if enqueued through OpenBatch(id): a command that enqueues
// work deep in other code (an ingest that enqueues its first stage) tracks
// it as one batch without passing the batch along. An empty id detaches:
// jobs enqueued with the context join no batch.
//
// The context a handler runs with carries its job's batch, so the jobs a
// batch member enqueues join the batch too, and the batch completes only
// once the whole tree of work it started has. A handler detaches work that
// must not hold the batch up (a notification retried for hours) with
// WithBatch(ctx, "").
func WithBatch(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, batchKey{}, id)
}

// batchGone reports an error of a batch that takes no more members: the
// context's batch finished (a member run again after a crash, once the
// batch completed without it) or expired. Work enqueued with the context is
// then enqueued outside the batch: it must not be lost because the batch
// that started it is over.
func batchGone(err error) bool {
	return errors.Is(err, ErrBatchFinished) || errors.Is(err, ErrNotFound)
}

// BatchFromContext returns the batch that jobs enqueued with ctx join, or
// "" for none.
func BatchFromContext(ctx context.Context) string {
	id, _ := ctx.Value(batchKey{}).(string)
	return id
}

// Commit lets the batch's callbacks fire: at once if every member finished
// already (or the batch is empty). More jobs may be added after Commit,
// until the completion callback fired.
func (b *Batch) Commit(ctx context.Context) error {
	fires, err := b.c.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: b.id, Commit: true, Now: b.c.clock.Now()})
	if err != nil {
		return fmt.Errorf("commit batch %s: %w", b.id, err)
	}
	return b.c.fireBatches(ctx, fires)
}

// CancelBatch cancels a batch: its callbacks never fire, no job can be
// added, and its jobs that have not finished are cancelled as
// Inspector.Cancel does (a waiting one goes to the dead set, a running one is
// stopped), and so are its child batches. Its status reports Cancelled.
func (c *Client) CancelBatch(ctx context.Context, id string) error {
	pending, err := c.driver.BatchCancel(ctx, &jobdriver.BatchCancelParams{ID: id, Retention: c.batchRetention, Now: c.clock.Now()})
	if err != nil {
		return fmt.Errorf("cancel batch %s: %w", id, err)
	}
	var errs []error
	for m, q := range pending {
		if child, ok := cutPrefix(m, jobtype.BatchMemberPrefix); ok {
			if err := c.CancelBatch(ctx, child); err != nil && !errors.Is(err, ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		_, err := c.driver.JobCancel(ctx, &jobdriver.JobCancelParams{Queue: q, ID: m, Reason: "batch " + id + " cancelled", Now: c.clock.Now()})
		if err != nil && !errors.Is(err, ErrNotFound) { // a job that finished meanwhile is gone
			errs = append(errs, fmt.Errorf("cancel job %s: %w", m, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cancel batch %s: %w", id, err)
	}
	return nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// fireBatches enqueues the claimed callbacks, records finished child
// batches in their parents (firing theirs in turn) and marks each callback
// fired. A failure leaves the callback firing, for the sweep.
func (c *Client) fireBatches(ctx context.Context, fires []jobtype.BatchFire) error {
	var errs []error
	for len(fires) > 0 {
		f := fires[0]
		fires = fires[1:]
		more, err := c.fireBatch(ctx, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("fire %s callback of batch %s: %w", f.Event, f.BatchID, err))
			continue
		}
		fires = append(fires, more...)
	}
	return errors.Join(errs...)
}

func (c *Client) fireBatch(ctx context.Context, f jobtype.BatchFire) ([]jobtype.BatchFire, error) {
	b, err := c.driver.BatchGet(ctx, &jobdriver.BatchGetParams{ID: f.BatchID})
	if err != nil {
		return nil, err
	}
	var cbs storedCallbacks
	if len(b.Callbacks) > 0 {
		if err := json.Unmarshal(b.Callbacks, &cbs); err != nil {
			return nil, fmt.Errorf("decode callbacks: %w", err)
		}
	}
	cb := cbs.Complete
	if f.Event == BatchEventSuccess {
		cb = cbs.Success
	}
	if cb != nil {
		var args any = BatchCallbackArgs{BatchID: b.ID, Event: f.Event}
		if len(cb.Args) > 0 {
			args = cb.Args
		}
		now := c.clock.Now()
		j, err := c.newJob(now, cb.Type, args, &EnqueueOpts{Queue: cb.Queue, MaxRetries: cb.MaxRetries, ExpiresIn: cb.ExpiresIn,
			Tags: []string{"batch:" + b.ID, "batch_event:" + string(f.Event)}})
		if err != nil {
			return nil, err
		}
		// The key is held for the retention, past the callback's end, so
		// that a sweep after a crash cannot enqueue it a second time.
		j.UniqueKey = "quire.batch:" + b.ID + ":" + string(f.Event)
		j.UniqueUntil = now.Add(c.batchRetention)
		if _, err := c.driver.JobInsertMany(ctx, &jobdriver.JobInsertManyParams{Jobs: []*Job{j}, Now: now}); err != nil {
			return nil, fmt.Errorf("enqueue callback: %w", err)
		}
	}
	var more []jobtype.BatchFire
	if b.ParentID != "" && (f.Event == BatchEventSuccess || b.Dead > 0) {
		more, err = c.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: b.ParentID, Now: c.clock.Now(),
			Outcomes: []jobdriver.BatchOutcome{{Member: jobtype.BatchMemberPrefix + b.ID, Succeeded: f.Event == BatchEventSuccess}}})
		if err != nil {
			return nil, fmt.Errorf("record in parent batch %s: %w", b.ParentID, err)
		}
	}
	err = c.driver.BatchFiredMark(ctx, &jobdriver.BatchFiredMarkParams{ID: b.ID, Event: f.Event,
		Retention: c.batchRetention, Now: c.clock.Now()})
	return more, err
}

// recordBatchOutcomes records the final outcomes of batch jobs in their
// batches, before the jobs complete in their queues, and fires the
// callbacks that became due. Completions without a batch cost a loop.
func (c *Client) recordBatchOutcomes(ctx context.Context, log *slog.Logger, cs []jobdriver.Completion) error {
	var byBatch map[string][]jobdriver.BatchOutcome
	var order []string
	for _, comp := range cs {
		id := comp.Job.BatchID
		if id == "" || (comp.Outcome != jobdriver.OutcomeDone && comp.Outcome != jobdriver.OutcomeDead) {
			continue
		}
		if byBatch == nil {
			byBatch = map[string][]jobdriver.BatchOutcome{}
		}
		if _, ok := byBatch[id]; !ok {
			order = append(order, id)
		}
		byBatch[id] = append(byBatch[id], jobdriver.BatchOutcome{Member: comp.Job.ID, Succeeded: comp.Outcome == jobdriver.OutcomeDone})
	}
	var fires []jobtype.BatchFire
	for _, id := range order {
		f, err := c.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: id, Outcomes: byBatch[id], Now: c.clock.Now()})
		if err != nil {
			return err
		}
		fires = append(fires, f...)
	}
	if err := c.fireBatches(ctx, fires); err != nil {
		log.Warn("jobs: batch callbacks left firing; the batch sweep retries them", "error", err)
	}
	return nil
}

// batchCompleter completes jobs through a driver that records their batch
// outcomes in the same transaction, then fires the callbacks that became
// due: the completer's driver on such a broker.
type batchCompleter struct {
	d   jobdriver.BatchCompleter
	c   *Client
	log *slog.Logger
}

func (b *batchCompleter) JobCompleteMany(ctx context.Context, p *jobdriver.JobCompleteManyParams) (*jobdriver.JobCompleteManyResult, error) {
	res, err := b.d.JobCompleteManyBatched(ctx, p)
	if err != nil {
		return nil, err
	}
	// The claims are committed with the completions: a failure here, or a
	// crash, leaves the callbacks firing, for the sweep. The completions
	// must not be retried for it.
	if err := b.c.fireBatches(ctx, res.BatchFires); err != nil {
		b.log.Warn("jobs: batch callbacks left firing; the batch sweep retries them", "error", err)
	}
	return res, nil
}

// sweepBatches fires the callbacks left firing longer than grace, by
// processes that died after claiming them.
func (c *Client) sweepBatches(ctx context.Context, grace time.Duration) (int, error) {
	fires, err := c.driver.BatchFiringList(ctx, &jobdriver.BatchFiringListParams{Before: c.clock.Now().Add(-grace), Max: 1000})
	if err != nil {
		return 0, err
	}
	return len(fires), c.fireBatches(ctx, fires)
}

// Batch returns a batch's status and progress.
func (in *Inspector) Batch(ctx context.Context, id string) (*BatchStatus, error) {
	return in.driver.BatchGet(ctx, &jobdriver.BatchGetParams{ID: id})
}

// Batches lists batches, newest first, a page at a time.
func (in *Inspector) Batches(ctx context.Context, offset, limit int) ([]*BatchStatus, error) {
	return in.driver.BatchList(ctx, &jobdriver.BatchListParams{Offset: offset, Limit: limit})
}

// batchSweepLeaderName is what the servers elect a leader of: the one
// server that sweeps batches.
const batchSweepLeaderName = "batch_sweep"

// sweepBatches runs the batch sweep until the server stops. The servers of a
// broker elect one leader (LeaderElect, renewed every third of
// LeaderTTLDefault), and only the leader sweeps, every BatchSweepInterval:
// one reader of the firing callbacks rather than one per server. A leader
// that dies is replaced within about LeaderTTLDefault. Two servers that
// both believe they lead, for a moment, are harmless: firing is idempotent
// (the callback's unique key). A driver without batches ends it.
func (s *Server) sweepBatches(ctx context.Context) {
	defer s.sweepWG.Done()
	token := s.info.ID + ":" + ulid.Make().String()
	leading := false
	defer func() {
		if !leading {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.driver.LeaderResign(rctx, &jobdriver.LeaderResignParams{Name: batchSweepLeaderName, Token: token}); err != nil {
			s.log.Warn("jobs: batch sweep: resigning the leadership failed; another server takes over when the term ends", "error", err)
		}
	}()
	ttl := LeaderTTLDefault
	t := time.NewTicker(min(s.cfg.BatchSweepInterval, ttl/3))
	defer t.Stop()
	var electFailures service.FailureLog
	var swept time.Time // of this process's clock: when this leader last swept
	for {
		select {
		case <-s.sweepStop:
			return
		case <-t.C:
		}
		ectx, cancel := context.WithTimeout(ctx, max(ttl/3, time.Second))
		ok, err := s.driver.LeaderElect(ectx, &jobdriver.LeaderElectParams{
			Name: batchSweepLeaderName, Token: token, TTL: ttl, Now: s.clock.Now()})
		cancel()
		if err != nil {
			// It cannot renew, so it must assume another takes over.
			electFailures.Failed(s.log, "jobs: batch sweep: the leader lock is unreachable; not sweeping", err)
			ok = false
		} else {
			electFailures.Recovered(s.log, "jobs: batch sweep: the leader lock is reachable again")
		}
		if ok && !leading {
			s.log.Debug("jobs: batch sweep: leading", "process_id", s.info.ID)
			swept = time.Time{}
		}
		leading = ok
		if !leading || time.Since(swept) < s.cfg.BatchSweepInterval {
			continue
		}
		swept = time.Now()
		n, err := s.batches.sweepBatches(ctx, s.cfg.BatchFiringGrace)
		switch {
		case errors.Is(err, jobdriver.ErrNotImplemented):
			return
		case err != nil:
			s.log.Warn("jobs: batch sweep failed", "error", err)
		case n > 0:
			s.log.Info("jobs: batch sweep fired callbacks left firing", "num_callbacks", n)
		}
	}
}

// recordCancelledInBatch records a job that Inspector.Cancel sent to the
// dead set in its batch, if it has one, as the completer would have: without
// it the batch would never complete. It costs a lookup per cancel.
func (in *Inspector) recordCancelledInBatch(ctx context.Context, id string) error {
	j, err := in.driver.JobGet(ctx, &jobdriver.JobGetParams{ID: id})
	if err != nil || j.BatchID == "" {
		return nil // gone again, or no batch
	}
	return in.recordInBatch(ctx, j.BatchID, id)
}

// recordInBatch records batch member id as dead in batch and fires the
// callbacks that became due. A member recorded already is left as it was.
func (in *Inspector) recordInBatch(ctx context.Context, batch, id string) error {
	c, _ := NewClient(in.driver, &ClientConfig{Clock: in.clock}) // fails only without a driver
	fires, err := in.driver.BatchRecord(ctx, &jobdriver.BatchRecordParams{ID: batch, Now: in.clock.Now(),
		Outcomes: []jobdriver.BatchOutcome{{Member: id}}})
	if err != nil {
		return fmt.Errorf("record job %s in batch %s: %w", id, batch, err)
	}
	return c.fireBatches(ctx, fires)
}
