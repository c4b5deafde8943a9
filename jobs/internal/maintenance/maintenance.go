// Package maintenance holds the services that keep a broker's jobs moving
// without a worker asking: the Promoter moves due scheduled jobs and
// retries to their queues, and the Rescuer returns jobs whose lease expired
// (their worker died) to their queues.
//
// Every server runs both on its own queues. Their driver calls are atomic
// and idempotent, so servers sharing a queue need no leader: each pass
// moves what is due, and a pass that finds nothing costs one round trip.
//
// There is no dead-set trimmer here: every driver caps its dead set itself
// (DeadMaxJobs, DeadMaxAge) as jobs die, in the same round trip, and
// jobdriver.Driver has no method to trim it apart. A Trimmer would need a
// JobDeadTrim(ctx, *JobDeadTrimParams) in the seam, implemented by every
// driver and checked by jobstest; until then, a queue whose jobs stop dying
// keeps dead jobs past DeadMaxAge.
package maintenance

// BatchMax is the most jobs one driver call moves.
const BatchMax = 1000
