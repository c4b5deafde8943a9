package redisdriver

// keys builds every Redis key the driver uses. All keys of one queue share the
// hash tag {queue}, so each script touches a single slot and Redis Cluster
// works. The few global keys (queue and process registries) are only ever
// touched by single-key commands.
type keys struct {
	prefix string
}

// queueKeys are the keys of one queue.
type queueKeys struct {
	ready     string // list: encoded jobs, pushed left, fetched right
	inflight  string // sorted set: lease token + encoded job, scored by lease deadline (ms)
	scheduled string // sorted set: encoded job, scored by due time (ms)
	retry     string // sorted set: encoded job, scored by retry time (ms)
	dead      string // sorted set: encoded job, scored by time of death (ms)
	paused    string // string: present while the queue is paused
	processed string // counter: executions finished
	failed    string // counter: executions failed
	unique    string // hash: unique key -> id of the job that holds it
	uniqueTTL string // sorted set: unique keys held for a time, scored by expiry (ms)
	cancel    string // set: ids of running jobs whose cancellation was requested
}

func (k keys) queue(q string) queueKeys {
	b := k.prefix + ":{" + q + "}:"
	return queueKeys{
		ready:     b + "ready",
		inflight:  b + "inflight",
		scheduled: b + "scheduled",
		retry:     b + "retry",
		dead:      b + "dead",
		paused:    b + "paused",
		processed: b + "processed",
		failed:    b + "failed",
		unique:    b + "unique",
		uniqueTTL: b + "unique_ttl",
		cancel:    b + "cancel",
	}
}

// processedDay and failedDay are daily counters, dated in UTC (2006-01-02).
func (qk queueKeys) processedDay(date string) string { return qk.processed + ":" + date }
func (qk queueKeys) failedDay(date string) string    { return qk.failed + ":" + date }

// processedMinutes and failedMinutes are one UTC day's per-minute counters:
// hashes of minute (15:04) to count.
func (qk queueKeys) processedMinutes(date string) string { return qk.processed + ":m:" + date }
func (qk queueKeys) failedMinutes(date string) string    { return qk.failed + ":m:" + date }

// queues is the set of known queue names.
func (k keys) queues() string { return k.prefix + ":queues" }

// leader holds the token of the leader of name, expiring with its term.
func (k keys) leader(name string) string { return k.prefix + ":leader:" + name }

// processes is the set of process ids that sent a heartbeat.
func (k keys) processes() string { return k.prefix + ":processes" }

// process holds one process's last heartbeat, expiring with its TTL.
func (k keys) process(id string) string { return k.prefix + ":process:" + id }

// set returns the sorted set or list that holds jobs in state s.
func (qk queueKeys) set(s string) string {
	switch s {
	case "ready":
		return qk.ready
	case "running":
		return qk.inflight
	case "scheduled":
		return qk.scheduled
	case "retry":
		return qk.retry
	case "dead":
		return qk.dead
	}
	return ""
}
