package cache

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

// Defaults of MemcachedOpts.
const (
	MemcachedTimeoutDefault       = 500 * time.Millisecond
	MemcachedMaxIdleConnsDefault  = 16
	MemcachedRetryIntervalDefault = time.Second
	MemcachedMaxItemBytesDefault  = 1<<20 - 1024
)

// MemcachedOpts configure a Memcached cache. The zero value is usable.
type MemcachedOpts struct {
	// Prefix goes before every key, so deployments sharing servers keep
	// apart. Defaults to none.
	Prefix string
	// Timeout bounds each call to a server, connecting included. Defaults
	// to 500 ms.
	Timeout time.Duration
	// MaxIdleConns is the number of idle connections kept per server.
	// Defaults to 16.
	MaxIdleConns int
	// RetryInterval is how long the cache leaves the servers alone after a
	// connection failure before it tries again; meanwhile every call is a
	// miss at once, instead of a wait for a timeout. Defaults to 1 second.
	RetryInterval time.Duration
	// MaxItemBytes is the largest value sent to the servers; larger ones
	// are not cached. It should match memcached's item size (-I), 1 MiB by
	// default, less room for the key. Defaults to 1 MiB - 1 KiB.
	MaxItemBytes int
	// Logger receives outage and recovery messages. Defaults to
	// slog.Default().
	Logger *slog.Logger
}

// Memcached is a Cache on Memcached servers. It never fails its caller:
// when the servers cannot be reached, Get misses, Set and Delete do
// nothing, the outage is logged once (and its end once), and the servers
// are left alone for RetryInterval between attempts.
type Memcached struct {
	client   *memcache.Client
	prefix   string
	retry    time.Duration
	maxItem  int
	log      *slog.Logger
	serverID string // for messages

	// down is set during an outage. It is read without the lock on every
	// call, so a healthy cache never contends on mu.
	down atomic.Bool

	mu       sync.Mutex // guards the fields below, and changes of down
	since    time.Time  // when the outage began
	retryAt  time.Time  // no call before this while down
	lastErr  error
	failures int // calls that failed or were skipped during the outage
}

var _ Cache = (*Memcached)(nil)

// NewMemcached returns a cache on the given servers (host:port). It does not
// connect: the first call does.
func NewMemcached(servers []string, opts *MemcachedOpts) (*Memcached, error) {
	if opts == nil {
		opts = &MemcachedOpts{}
	}
	if len(servers) == 0 {
		return nil, errors.New("cache: no memcached server given")
	}
	var sl memcache.ServerList
	if err := sl.SetServers(servers...); err != nil {
		return nil, fmt.Errorf("cache: memcached servers %v: %w", servers, err)
	}
	client := memcache.NewFromSelector(&sl)
	client.Timeout = cmp.Or(opts.Timeout, MemcachedTimeoutDefault)
	client.MaxIdleConns = cmp.Or(opts.MaxIdleConns, MemcachedMaxIdleConnsDefault)
	return &Memcached{
		client:   client,
		prefix:   opts.Prefix,
		retry:    cmp.Or(opts.RetryInterval, MemcachedRetryIntervalDefault),
		maxItem:  cmp.Or(opts.MaxItemBytes, MemcachedMaxItemBytesDefault),
		log:      logger(opts.Logger),
		serverID: fmt.Sprint(servers),
	}, nil
}

// Get returns the value under key; any error is a miss.
func (m *Memcached) Get(ctx context.Context, key string) ([]byte, bool) {
	if ctx.Err() != nil || !m.available() {
		return nil, false
	}
	it, err := m.client.Get(m.key(key))
	if errors.Is(err, memcache.ErrCacheMiss) {
		m.succeeded()
		return nil, false
	}
	if err != nil {
		m.failed("get", err)
		return nil, false
	}
	m.succeeded()
	return it.Value, true
}

// Set stores value under key; failures are logged, never returned.
func (m *Memcached) Set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	if len(value) > m.maxItem {
		m.log.Debug("cache: value too large for memcached, not cached", "key", key, "bytes", len(value), "max_bytes", m.maxItem)
		return
	}
	if ctx.Err() != nil || !m.available() {
		return
	}
	err := m.client.Set(&memcache.Item{Key: m.key(key), Value: value, Expiration: expiration(ttl, time.Now())})
	if err != nil {
		m.failed("set", err)
		return
	}
	m.succeeded()
}

// Delete removes the value under key; failures are logged, never returned.
func (m *Memcached) Delete(ctx context.Context, key string) {
	if ctx.Err() != nil || !m.available() {
		if ctx.Err() == nil {
			m.log.Debug("cache: delete lost while memcached is unavailable", "key", key)
		}
		return
	}
	err := m.client.Delete(m.key(key))
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		m.failed("delete", err)
		return
	}
	m.succeeded()
}

// Close closes the idle connections.
func (m *Memcached) Close() error { return m.client.Close() }

// key makes a key Memcached accepts: at most 250 bytes without spaces or
// control characters. Other keys are replaced by their hash.
func (m *Memcached) key(key string) string {
	k := m.prefix + key
	if len(k) <= 250 && legalKey(k) {
		return k
	}
	sum := sha256.Sum256([]byte(key))
	return m.prefix + "sha256:" + hex.EncodeToString(sum[:])
}

func legalKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] == 0x7f {
			return false
		}
	}
	return true
}

// expiration converts a ttl to Memcached's: whole seconds rounded up, or,
// past 30 days, a Unix time, as Memcached reads any larger number as one.
func expiration(ttl time.Duration, now time.Time) int32 {
	if ttl <= 0 {
		return 0
	}
	const relativeMax = 30 * 24 * time.Hour
	if ttl > relativeMax {
		return int32(now.Add(ttl).Unix())
	}
	return int32((ttl + time.Second - 1) / time.Second)
}

// available reports whether to call the servers: always when they are up;
// during an outage once per RetryInterval, by the first caller to ask.
func (m *Memcached) available() bool {
	if !m.down.Load() {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.down.Load() {
		return true
	}
	now := time.Now()
	if now.Before(m.retryAt) {
		m.failures++
		return false
	}
	m.retryAt = now.Add(m.retry) // this caller probes; the others wait
	return true
}

// failed records a failed call. Only connection failures mean an outage;
// others (a refused item, say) are the call's alone.
func (m *Memcached) failed(op string, err error) {
	if !isConnError(err) {
		m.log.Debug("cache: memcached call failed", "op", op, "error", err)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures++
	m.lastErr = err
	if m.down.Load() {
		return
	}
	now := time.Now()
	m.down.Store(true)
	m.since, m.retryAt = now, now.Add(m.retry)
	m.log.Warn("cache: memcached unavailable, caching is off until it is back",
		"servers", m.serverID, "op", op, "error", err, "retry_interval", m.retry)
}

// succeeded records an answer from the servers, ending an outage.
func (m *Memcached) succeeded() {
	if !m.down.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.down.Load() {
		return
	}
	m.log.Info("cache: memcached available again",
		"servers", m.serverID, "outage", time.Since(m.since).Round(time.Millisecond),
		"num_calls_missed", m.failures, "last_error", m.lastErr)
	m.down.Store(false)
	m.failures, m.lastErr = 0, nil
}

// isConnError reports whether err means the servers could not be reached or
// the connection broke, as opposed to a server's answer.
func isConnError(err error) bool {
	var (
		netErr     net.Error
		timeoutErr *memcache.ConnectTimeoutError
	)
	return errors.As(err, &netErr) || errors.As(err, &timeoutErr) ||
		errors.Is(err, memcache.ErrNoServers) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
