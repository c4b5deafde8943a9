package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

const asynqTaskType = "quirebench:noop"

// asynqEngine runs the workload on asynq (Redis). asynq has no bulk enqueue
// API, so bulk mode calls Client.Enqueue from bulkEnqueuers goroutines.
//
// asynq keys cannot be given a prefix, but every queue-scoped key is
// "asynq:{<queue>}:...", so a run uses its own queue "quirebench-asynq-<id>"
// and deletes the queue and that key prefix at the end.
type asynqEngine struct {
	cfg    config
	rec    *recorder
	opt    asynq.RedisConnOpt
	queue  string
	client *asynq.Client
	srv    *asynq.Server
}

type noopPayload struct {
	T int64 `json:"t"` // enqueue wall-clock time, unix nanoseconds
}

func (e *asynqEngine) setup(ctx context.Context, cfg config, rec *recorder) error {
	e.cfg, e.rec = cfg, rec
	e.queue = "quirebench-asynq-" + runID()
	opt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return err
	}
	if o, ok := opt.(asynq.RedisClientOpt); ok {
		// The default pool (10 per CPU) would make the enqueuers wait on it.
		o.PoolSize = bulkEnqueuers + cfg.Concurrency + 10
		opt = o
	}
	e.opt = opt
	e.client = asynq.NewClient(opt)
	return e.client.Ping()
}

func (e *asynqEngine) method() string {
	return fmt.Sprintf("Client.Enqueue from %d goroutines (asynq has no bulk API)", bulkEnqueuers)
}

func (e *asynqEngine) singleCall() string { return "Client.Enqueue" }

func (e *asynqEngine) enqueueBulk(ctx context.Context, n int) error {
	return concurrentEnqueue(ctx, n, bulkEnqueuers, e.enqueueOne)
}

func (e *asynqEngine) enqueueOne(ctx context.Context) error {
	payload, _ := json.Marshal(noopPayload{T: time.Now().UnixNano()})
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(asynqTaskType, payload), asynq.Queue(e.queue))
	return err
}

func (e *asynqEngine) start(ctx context.Context) error {
	e.srv = asynq.NewServer(e.opt, asynq.Config{
		Concurrency:       e.cfg.Concurrency,
		Queues:            map[string]int{e.queue: 1},
		TaskCheckInterval: e.cfg.AsynqCheckInterval, // 0 = asynq default, 1s
		ShutdownTimeout:   10 * time.Second,
		LogLevel:          asynq.WarnLevel,
	})
	return e.srv.Start(asynq.HandlerFunc(func(_ context.Context, t *asynq.Task) error {
		var p noopPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return err
		}
		e.rec.record(p.T)
		return nil
	}))
}

func (e *asynqEngine) stop(context.Context) error {
	if e.srv != nil {
		e.srv.Shutdown()
		e.srv = nil
	}
	return nil
}

func (e *asynqEngine) cleanup(ctx context.Context) error {
	var errs []error
	if e.client != nil {
		errs = append(errs, e.client.Close())
	}
	if e.opt == nil {
		return errors.Join(errs...)
	}
	insp := asynq.NewInspector(e.opt)
	// Removes the queue from the "asynq:queues" set and its task keys.
	if err := insp.DeleteQueue(e.queue, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		errs = append(errs, err)
	}
	errs = append(errs, insp.Close())
	n, err := deleteRedisPrefix(ctx, e.cfg.RedisURL, "asynq:{"+e.queue+"}")
	slog.Info("cleaned up", "engine", "asynq", "queue", e.queue, "keys_deleted", n)
	return errors.Join(append(errs, err)...)
}
