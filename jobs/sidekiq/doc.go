// Package sidekiq lets Quire workers and Ruby Sidekiq share one Redis, so a
// Rails team can move its heavy jobs to Go one class at a time without
// touching the Ruby code that enqueues them, and keep the Sidekiq Web UI.
//
// The package is a jobs.Driver that speaks Sidekiq's Redis format instead of
// Quire's own: the same jobs.Handlers, jobs.Server and jobs.Client run on it.
//
//   - Fetch: a Quire server takes the jobs that Sidekiq::Client.push and
//     push_bulk put on queue:NAME and runs the handler registered for the
//     job's class (or, for an Active Job, its "wrapped" class). The handler
//     sees the job's "args" array as Job.Args and its jid as Job.ID.
//   - Failures are written as Sidekiq 6.4 writes them: the job goes to the
//     retry sorted set with retry_count, error_message, error_class,
//     failed_at and retried_at, scored by its next run; after its last retry
//     it goes to the dead set. Either side's poller moves due retries and
//     scheduled jobs back to their queues, so Ruby's RetrySet#retry_all or
//     a retry from the Web UI runs the job in Quire again.
//   - Enqueue: jobs.Client.Enqueue and EnqueueMany write Sidekiq jobs (class,
//     args, jid, queue, retry, created_at, enqueued_at) that a Ruby sidekiq
//     process runs, or a Quire server on the same queue.
//   - Processes: every Quire server registers in the processes set with
//     Sidekiq's heartbeat hash and the hash of its busy jobs, so
//     Sidekiq::ProcessSet, Sidekiq::Workers and the Web UI list it; it counts
//     stat:processed and stat:failed, totals and per day.
//   - Reliable fetch: unlike Sidekiq OSS, which pops a job and loses it when
//     the process dies, a fetch moves jobs atomically into a list of the
//     fetching process (as Sidekiq Pro's super_fetch does). The job leaves
//     that list only once its outcome is written. A process that stops
//     renewing its lease (SIGKILL, OOM, lost node) has its lists returned to
//     the front of their queues by any other Quire server.
//
// The formats written follow Config.Version: Sidekiq 6.x (the default: epoch
// seconds as floats, busy jobs in IDENTITY:workers), 7.x (IDENTITY:work) or
// 8.x (integer epoch milliseconds). Times are read in either form. See
// docs/sidekiq.md for the keys, the guarantees and the differences.
//
// A worker that runs the Ruby class "HardWorker" in Go:
//
//	d, _ := sidekiq.NewDriver(rdb, nil)
//	hs := jobs.NewHandlers()
//	jobs.HandleArgs(hs, "HardWorker", func(ctx context.Context, j *jobs.Job, args []json.RawMessage) error {
//		...
//	}, nil)
//	srv, _ := sidekiq.NewServer(d, &jobs.Config{Handlers: hs, Queues: map[string]int{"heavy": 1}})
//	err := srv.Run(ctx)
package sidekiq
