package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gocraft/work"
	"github.com/gomodule/redigo/redis"
)

const gocraftJobName = "quirebench_noop"

// gocraftEngine runs the workload on gocraft/work (Redis via redigo).
// gocraft/work has no bulk API, so bulk mode calls Enqueuer.Enqueue from
// bulkEnqueuers goroutines. Every key lives under the run's namespace
// "quirebench:gocraft:<id>:", deleted at the end.
type gocraftEngine struct {
	cfg       config
	rec       *recorder
	namespace string
	pool      *redis.Pool
	enqueuer  *work.Enqueuer
	workers   *work.WorkerPool
}

// gocraftContext is the (empty) per-job context type gocraft/work requires.
type gocraftContext struct{}

func (e *gocraftEngine) setup(ctx context.Context, cfg config, rec *recorder) error {
	e.cfg, e.rec = cfg, rec
	e.namespace = "quirebench:gocraft:" + runID()
	size := bulkEnqueuers + cfg.Concurrency + 10
	e.pool = &redis.Pool{
		MaxActive:   size,
		MaxIdle:     size,
		Wait:        true,
		IdleTimeout: time.Minute,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialURLContext(ctx, cfg.RedisURL)
		},
	}
	conn, err := e.pool.GetContext(ctx)
	if err != nil {
		return err
	}
	_, err = conn.Do("PING")
	conn.Close()
	if err != nil {
		return err
	}
	e.enqueuer = work.NewEnqueuer(e.namespace, e.pool)
	return nil
}

func (e *gocraftEngine) method() string {
	return fmt.Sprintf("Enqueuer.Enqueue from %d goroutines (gocraft/work has no bulk API)", bulkEnqueuers)
}

func (e *gocraftEngine) singleCall() string { return "Enqueuer.Enqueue" }

func (e *gocraftEngine) enqueueBulk(ctx context.Context, n int) error {
	return concurrentEnqueue(ctx, n, bulkEnqueuers, e.enqueueOne)
}

func (e *gocraftEngine) enqueueOne(context.Context) error {
	// A string: gocraft/work decodes numeric args as float64, which would
	// round unix nanoseconds.
	_, err := e.enqueuer.Enqueue(gocraftJobName, work.Q{"t": strconv.FormatInt(time.Now().UnixNano(), 10)})
	return err
}

func (e *gocraftEngine) start(context.Context) error {
	e.workers = work.NewWorkerPool(gocraftContext{}, uint(e.cfg.Concurrency), e.namespace, e.pool)
	e.workers.Job(gocraftJobName, func(job *work.Job) error {
		t, err := strconv.ParseInt(job.ArgString("t"), 10, 64)
		if err != nil {
			return err
		}
		e.rec.record(t)
		return nil
	})
	e.workers.Start()
	return nil
}

func (e *gocraftEngine) stop(context.Context) error {
	if e.workers != nil {
		e.workers.Stop()
		e.workers = nil
	}
	return nil
}

func (e *gocraftEngine) cleanup(ctx context.Context) error {
	if e.pool == nil {
		return nil
	}
	n, err := deleteRedisPrefix(ctx, e.cfg.RedisURL, e.namespace+":")
	slog.Info("cleaned up", "engine", "gocraft", "namespace", e.namespace, "keys_deleted", n)
	return errors.Join(err, e.pool.Close())
}
