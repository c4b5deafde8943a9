// Package maintenance holds the services that keep a broker's jobs moving
// without a worker asking: the Promoter moves due scheduled jobs and
// retries to their queues, and the Rescuer returns jobs whose lease expired
// (their worker died) to their queues.
//
// Every server runs both on its own queues. Their driver calls are atomic
// and idempotent, so servers sharing a queue need no leader: each pass
// moves what is due, and a pass that finds nothing costs one round trip.
package maintenance

// BatchMax is the most jobs one driver call moves.
const BatchMax = 1000
