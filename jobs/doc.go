// Package jobs is Quire's background-job engine: the public API that the
// document pipeline, the CLI and the web UI are built on, and that Go programs
// may use on their own.
//
// A Client enqueues jobs; a Server fetches them from its queues and runs the
// handler registered for each job's type; an Inspector lists and changes
// what the broker holds. All three speak to a Driver: the Redis driver
// (jobs/redisdriver) for servers, Redis Cluster included, or the embedded
// SQLite driver (jobs/sqlitedriver) on one machine; jobs/sidekiq speaks Ruby
// Sidekiq's format instead of Quire's. Every driver passes the same
// behaviour suite, jobs/jobstest; one on another system's format passes it
// but for the capabilities that format cannot hold (for Sidekiq: unique and
// periodic jobs, cancellation, paused queues, per-job timeouts and
// backoffs, arguments other than an array), which it refuses.
//
// The engine's guarantees hold on every driver, within its capabilities:
//
//   - Enqueue returns only once the job is durable in the broker.
//   - At least once: a fetched job is held under a lease that the server
//     extends while the job runs; a job leaves the broker only when its
//     handler succeeded or it moved to the retry or dead set, and the jobs
//     of a process that died return to their queue when their lease expires.
//   - Graceful shutdown: Stop stops fetching, lets running jobs finish within
//     the shutdown timeout, then cancels them and hands them back at once.
//   - Failures retry with backoff and jitter and go to the dead set after the
//     last attempt; scheduled, retry and dead jobs can be listed, retried,
//     deleted and cancelled.
//   - Periodic jobs are enqueued once per tick however many schedulers run
//     the schedule: they elect one leader through the driver's leader lock,
//     and each tick's enqueue is unique besides; unique jobs are stored once
//     while their key is held.
//
// Handlers must therefore be idempotent: a job may run more than once, for
// example when its worker was killed after the handler finished but before
// the outcome was recorded.
//
// A minimal worker:
//
//	hs := jobs.NewHandlers()
//	jobs.HandleArgs(hs, "thumbnail", func(ctx context.Context, j *jobs.Job, a ThumbArgs) error {
//		return render(ctx, a.DocumentID, a.Page)
//	}, nil)
//	srv, err := jobs.NewServer(driver, &jobs.Config{Handlers: hs, Queues: map[string]int{"default": 1}})
//	if err != nil { ... }
//	err = srv.Run(ctx) // until ctx is done, then a graceful stop
//
// and a producer:
//
//	client, _ := jobs.NewClient(driver, nil)
//	_, err := client.Enqueue(ctx, "thumbnail", ThumbArgs{DocumentID: id, Page: 1},
//		&jobs.EnqueueOpts{Unique: &jobs.UniqueOpts{}})
package jobs
