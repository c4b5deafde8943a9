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
//   - Inspector: jobs.Inspector finds, lists, retries and deletes jobs as
//     Sidekiq's API does (Queue, ScheduledSet, RetrySet, DeadSet, reading
//     the shared sorted sets), so Quire's CLI and web UI work on a Sidekiq
//     installation; a retry lowers retry_count as SortedEntry#retry does.
//   - Namespace: Config.Namespace starts every key with "NAMESPACE:", as
//     the redis-namespace gem does for a Sidekiq 6 installation configured
//     with namespace:.
//
// The formats written follow Config.Version: Sidekiq 6.x (the default: epoch
// seconds as floats, busy jobs in IDENTITY:workers), 7.x (IDENTITY:work) or
// 8.x (integer epoch milliseconds). Times are read in either form. See
// docs/sidekiq.md for the keys, the guarantees and the differences.
//
// # What Sidekiq's format cannot hold
//
// The driver passes the engine's behaviour suite (jobs/jobstest) except
// for the capabilities below, which its test names in Harness.Lacks: the
// suite skips those cases, saying why, and checks that the driver refuses
// each one with an error instead of dropping it. Everything else the
// format can represent, and the driver does.
//
//   - ArgsAnyJSON: a job's arguments are Sidekiq's "args", the array that
//     Ruby splats into perform(a, b, ...). Enqueue refuses any other JSON
//     value: wrapped in an array it could not be told apart, on the way
//     back, from a job enqueued with that array.
//   - Unique: Sidekiq OSS has no unique jobs. Quire's unique key is held
//     until its job finishes, and a Ruby process that runs the job would
//     never release it. Periodic jobs, whose ticks the scheduler enqueues
//     as unique jobs, cannot be enqueued either.
//   - Cancel: Sidekiq has no cancellation. A Ruby process never looks for a
//     mark, so a running job could not be stopped wherever it runs. Kill a
//     waiting job from the Web UI (it goes to the dead set).
//   - JobTimeout, JobBackoff: a job has no field for a timeout or a retry
//     delay; a Ruby process takes both from the worker class and would
//     ignore such a field. Set them on the handler (HandlerOpts.Timeout,
//     HandlerOpts.RetryDelayFunc).
//   - QueuePause: Sidekiq OSS has no paused queues; Ruby processes would go
//     on fetching from a queue Quire paused.
//   - WrapUndecodable: an entry of a queue that is not a Sidekiq job goes
//     to the dead set as it is, as Sidekiq's processor does, without id,
//     queue or error; Sidekiq's Web UI shows and deletes it, the Inspector
//     does not list it.
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
