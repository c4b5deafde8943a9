// Package sqlitedriver is the job engine's embedded broker: jobs live in one
// SQLite database file, so Quire runs on a single machine with no service to
// install. It uses modernc.org/sqlite, a pure-Go SQLite, so the binary still
// builds without cgo.
//
// # Durability
//
// The database is in WAL mode. Enqueues, and the changes an operator makes
// (retry, delete, cancel, pause), commit with synchronous=FULL by default:
// the log is synced to disk before the call returns, so an enqueued job
// survives a crash of the process or of the machine. The engine's own
// bookkeeping (fetch, completion, lease extension, promotion, rescue,
// heartbeat) commits with synchronous=NORMAL, which a crash of the process
// cannot undo either; a power cut can undo the last few such commits, and
// that only moves jobs back to where they were before: held until their
// lease expires, or due again, so at-least-once still holds. The log is
// sequential, so the next FULL commit makes every commit before it durable
// too. Syncing every bookkeeping commit cost a disk flush per fetch and per
// batch of outcomes, and with it the latency of steady traffic.
// Config.Synchronous "NORMAL" makes every commit NORMAL: faster enqueues,
// but a power cut may lose the last ones.
//
// # Processes and connections
//
// Several processes may open the same file at once: SQLite's file locks, not
// locks in this process, keep them apart, and every change is one
// transaction that checks what it changes (a completion applies only while
// the job is held under the lease it names). The file must be on a local
// disk: WAL mode shares memory between processes, which network filesystems
// do not provide. Code in the same process must not open and close the
// database file itself: on Linux that drops the POSIX locks SQLite holds.
//
// Each driver opens one writer connection and a few read connections. Every
// write transaction starts with BEGIN IMMEDIATE, taking the write lock at
// once. The writers of one file in one process queue for it in order of
// arrival; waits for another process's lock go through SQLite's busy
// handler, for up to Config.BusyTimeout. Readers never wait for the writer
// in WAL mode, so listings, statistics, cancellation checks and waits cost
// the writer nothing. Operations that often find nothing to do (a fetch
// from an empty or paused queue, promotion with nothing due, rescue with no
// expired lease) look first from a read connection and take the write lock
// only when there is work.
//
// # Schema
//
// Every job is one row, whatever its state, with a position column whose
// meaning depends on the state, like the score of a Redis sorted set: the
// place in the queue for ready jobs, the due time of scheduled jobs and
// retries, the lease deadline of running jobs and the time of death of dead
// ones. One index on (queue, state, position) serves fetching, promotion,
// rescue, listings, counts and the dead set cap, and finding a job by id is
// an index lookup. The schema is created and upgraded by the embedded
// SQL migrations in migrations/, numbered by PRAGMA user_version; a file
// written by a newer Quire is refused rather than misread.
//
// # Order
//
// Ready jobs run in the order they became ready: enqueued, promoted when
// due, or retried by hand, each goes to the back of its queue. A job handed
// back at shutdown, and one rescued from a worker that died, goes to the
// front, as in the Redis driver: it was already due before anything behind
// it.
//
// # Waiting
//
// SQLite cannot block a reader until a row appears. QueueWait wakes at once
// for changes made in the same process, by this driver or another one on the
// same file, and notices commits of other processes by polling PRAGMA
// data_version every 25 ms while anyone waits.
//
// # Differences from the Redis driver
//
// A row always holds a whole job, so no entry is ever undecodable. Enqueueing
// a job whose id is already stored leaves the stored job as it is, so an
// enqueue retried after an unclear failure cannot store a job twice.
package sqlitedriver
