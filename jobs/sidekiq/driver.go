package sidekiq

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs/internal/rediswait"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// Version selects the Sidekiq data format a Driver writes.
type Version int

// The Sidekiq versions whose formats a Driver can write. Jobs of every
// version are read.
const (
	// Version6 writes times as float epoch seconds and busy jobs to
	// IDENTITY:workers, as Sidekiq 6.x (Debian's 6.4.1) expects.
	Version6 Version = 6
	// Version7 writes float epoch seconds and busy jobs to IDENTITY:work.
	Version7 Version = 7
	// Version8 writes created_at, enqueued_at, failed_at and retried_at as
	// integer epoch milliseconds and busy jobs to IDENTITY:work.
	Version8 Version = 8
)

// Defaults of Config, as in Sidekiq 6.4.
const (
	MaxRetriesDefault  = 25
	DeadMaxJobsDefault = 10_000
	DeadMaxAgeDefault  = 180 * 24 * time.Hour
	// KeyPrefixDefault starts the keys Sidekiq does not know: the
	// in-progress lists and leases of reliable fetch.
	KeyPrefixDefault = "quire-sidekiq"

	statsTTL        = 5 * 365 * 24 * time.Hour // Sidekiq's STATS_TTL
	errorMessageMax = 10_000                   // Sidekiq truncates error_message here
	insertChunk     = 500
)

// Config configures a Driver. Every field is optional.
type Config struct {
	// Version is the Sidekiq format written. Defaults to Version6.
	Version Version
	// MaxRetries is how often a job whose "retry" is true is retried, as
	// Sidekiq's max_retries. Defaults to 25.
	MaxRetries int
	// DeadMaxJobs caps the dead set; the oldest go first. Defaults to
	// 10,000, as Sidekiq's dead_max_jobs.
	DeadMaxJobs int
	// DeadMaxAge drops dead jobs older than this. Defaults to 180 days, as
	// Sidekiq's dead_timeout_in_seconds.
	DeadMaxAge time.Duration
	// KeyPrefix starts the keys of reliable fetch, which Sidekiq ignores.
	// Sidekiq's own keys (queue:NAME, retry, processes...) have no prefix.
	// Defaults to "quire-sidekiq".
	KeyPrefix string
	// Namespace, when set, starts every key, Sidekiq's and Quire's, with
	// "NAMESPACE:", as the redis-namespace gem does for a Sidekiq 6
	// installation configured with `namespace:`. Set it to that namespace.
	// Defaults to none: keys as Sidekiq writes them without the gem.
	Namespace string
	// Tag is shown with the process in the Web UI, as Sidekiq's tag.
	Tag string
	// OnSignal, if set, receives the signals that the Web UI's Quiet and
	// Stop buttons send to a process ("TSTP", "TERM"); NewServer sets it to
	// quiet the server. It runs on the heartbeat goroutine.
	OnSignal func(signal string)
}

// WithDefaults returns a copy of c with unset fields filled in.
func (c Config) WithDefaults() Config {
	c.Version = cmp.Or(c.Version, Version6)
	c.MaxRetries = cmp.Or(c.MaxRetries, MaxRetriesDefault)
	c.DeadMaxJobs = cmp.Or(c.DeadMaxJobs, DeadMaxJobsDefault)
	c.DeadMaxAge = cmp.Or(c.DeadMaxAge, DeadMaxAgeDefault)
	c.KeyPrefix = cmp.Or(c.KeyPrefix, KeyPrefixDefault)
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Version < Version6 || c.Version > Version8 {
		errs = append(errs, fmt.Errorf("Version %d: Sidekiq 6, 7 and 8 are supported", c.Version))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("MaxRetries %d must not be negative", c.MaxRetries))
	}
	if c.DeadMaxJobs < 1 {
		errs = append(errs, fmt.Errorf("DeadMaxJobs %d must be at least 1", c.DeadMaxJobs))
	}
	if c.DeadMaxAge < time.Second {
		errs = append(errs, fmt.Errorf("DeadMaxAge %s must be at least 1s", c.DeadMaxAge))
	}
	if strings.ContainsAny(c.KeyPrefix, " \t\n") {
		errs = append(errs, fmt.Errorf("KeyPrefix %q must not contain spaces", c.KeyPrefix))
	}
	if strings.ContainsAny(c.Namespace, " \t\n") {
		errs = append(errs, fmt.Errorf("Namespace %q must not contain spaces", c.Namespace))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sidekiq: invalid driver config: %w", err)
	}
	return nil
}

// Driver is a jobs.Driver on Sidekiq's Redis layout. Create it with
// NewDriver; it is safe for concurrent use.
//
// Sidekiq's keys are global (queue:NAME, retry, schedule, dead, processes,
// stat:*), so one Redis database holds one Sidekiq installation, as it does
// for Ruby. Redis Cluster is not supported, as Sidekiq does not support it.
type Driver struct {
	rdb redis.UniversalClient
	cfg Config
	ns  string // "Namespace:", or empty: starts every key

	seq    atomic.Uint64 // makes every lease unique, so a job fetched twice is held twice
	waiter rediswait.Waiter

	mu       sync.Mutex
	running  map[string]string          // jid -> payload of fetched jobs, for the busy list
	failures map[string]failure         // lease -> what the middleware saw of a failed execution
	held     map[string]int             // payload -> leases on it this driver handed out
	owned    map[string]map[string]bool // queue -> identities this driver fetched for
	suspects map[string]map[string]bool // in-progress list -> entries nobody here held at the last look
	onSignal func(string)               // Config.OnSignal, or what NewServer set
}

var _ jobdriver.Driver = (*Driver)(nil)

// NewDriver returns a driver on rdb, a client of the Redis database that Ruby
// Sidekiq uses. Close does not close rdb.
func NewDriver(rdb redis.UniversalClient, cfg *Config) (*Driver, error) {
	if rdb == nil {
		return nil, errors.New("sidekiq: NewDriver needs a Redis client")
	}
	if _, ok := rdb.(*redis.ClusterClient); ok {
		return nil, errors.New("sidekiq: Redis Cluster is not supported, as Sidekiq does not support it; use the Redis server Sidekiq uses")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	ns := ""
	if c.Namespace != "" {
		ns = c.Namespace + ":"
	}
	return &Driver{
		rdb: rdb, cfg: c, ns: ns,
		running: make(map[string]string), failures: make(map[string]failure), held: make(map[string]int),
		owned: make(map[string]map[string]bool), suspects: make(map[string]map[string]bool),
		onSignal: c.OnSignal,
	}, nil
}

// Close releases nothing: the Redis client belongs to the caller.
func (d *Driver) Close() error { return nil }

// Client returns the Redis client the driver was created with.
func (d *Driver) Client() redis.UniversalClient { return d.rdb }

// Namespace returns Config.Namespace: the start of every key, before ":".
func (d *Driver) Namespace() string { return d.cfg.Namespace }

// Sidekiq's own keys, passed through key.
const (
	keyDead      = "dead"
	keyProcesses = "processes"
	keyQueues    = "queues"
	keyRetry     = "retry"
	keySchedule  = "schedule"
)

// key returns the Redis key of one of Sidekiq's keys, in the namespace.
func (d *Driver) key(name string) string { return d.ns + name }

func (d *Driver) keyQueue(q string) string { return d.ns + "queue:" + q }

// keyProcess is the hash of a process's heartbeat.
func (d *Driver) keyProcess(identity string) string { return d.ns + identity }

func (d *Driver) keySignals(identity string) string { return d.ns + identity + "-signals" }

func (d *Driver) keyWork(identity string) string {
	if d.cfg.Version >= Version7 {
		return d.ns + identity + ":work"
	}
	return d.ns + identity + ":workers"
}

// keyStat is stat:processed or stat:failed, with ":YYYY-MM-DD" for a day.
func (d *Driver) keyStat(name string) string { return d.ns + "stat:" + name }

// Reliable fetch's keys: each process holds the jobs it fetched from a queue
// in a list of its own; a set per queue names the processes that hold such a
// list, and a sorted set holds every process's lease deadline (ms).
func (d *Driver) keyHolders(q string) string { return d.ns + d.cfg.KeyPrefix + ":holders:" + q }
func (d *Driver) keyInProgressPrefix(q string) string {
	return d.ns + d.cfg.KeyPrefix + ":inprogress:" + q + ":"
}
func (d *Driver) keyInProgress(q, identity string) string { return d.keyInProgressPrefix(q) + identity }
func (d *Driver) keyLeases() string                       { return d.ns + d.cfg.KeyPrefix + ":leases" }

// A lease is "owner\x00seq\x00payload": the owner names the in-progress
// list, seq tells two fetches of one payload apart, and the payload is what
// the list holds, to remove it once the outcome is written.
func (d *Driver) newLease(owner, payload string) string {
	return owner + "\x00" + strconv.FormatUint(d.seq.Add(1), 36) + "\x00" + payload
}

func parseLease(lease string) (owner, payload string, err error) {
	owner, rest, ok := strings.Cut(lease, "\x00")
	if !ok {
		return "", "", fmt.Errorf("sidekiq: lease %.40q is not one of this driver's", lease)
	}
	_, payload, ok = strings.Cut(rest, "\x00")
	if !ok {
		return "", "", fmt.Errorf("sidekiq: lease %.40q is not one of this driver's", lease)
	}
	return owner, payload, nil
}

// ErrorClass is implemented by an error a handler returns to name the
// error_class written to the retry and dead sets. Without it the class is
// the error's Go type, such as "billing.CardDeclinedError".
type ErrorClass interface {
	ErrorClass() string
}
