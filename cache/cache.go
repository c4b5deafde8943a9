// Package cache is Quire's best-effort cache: values that are costly to
// compute and safe to lose, such as rendered pages, search results and
// model outputs, kept for a while under a key.
//
// Cache has two implementations: Memcached, shared by every process of a
// deployment, and Memory, a bounded LRU inside one process for `quire up`.
// Neither ever fails its caller. A cache that cannot answer is a cache that
// missed: Memcached turns a connection error into a miss, logs the outage
// once, and stops trying the server for a moment, so the pipeline keeps
// working, only slower, while Memcached is down. Callers therefore never
// handle cache errors, and must never rely on a value being there.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Cache stores byte values under string keys for a time. Every method is
// safe for concurrent use and never fails: a value that could not be stored
// or read is simply not there.
type Cache interface {
	// Get returns the value under key, and whether there was one.
	Get(ctx context.Context, key string) ([]byte, bool)
	// Set stores value under key for ttl; a ttl of 0 keeps it until it is
	// evicted to make room.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration)
	// Delete removes the value under key, if any. While Memcached is
	// unreachable a delete is lost, so values that are ever deleted to
	// invalidate them should be given a short ttl.
	Delete(ctx context.Context, key string)
	// Close releases the cache's connections.
	Close() error
}

// Open opens the cache at rawURL:
//
//   - memcache://host:11211 or memcache://host1:11211,host2:11211: the
//     Memcached servers; prefix=… puts every key under a prefix, so several
//     deployments can share servers.
//   - memory:// or memory://?max_bytes=67108864: an in-process LRU,
//     64 MiB by default.
//
// Outages are logged with slog.Default().
func Open(rawURL string) (Cache, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", rawURL, err)
	}
	fail := func(err error) (Cache, error) {
		return nil, fmt.Errorf("cache: open %s: %w", u.Redacted(), err)
	}
	q := u.Query()
	switch u.Scheme {
	case "memcache", "memcached":
		if u.Host == "" {
			return fail(errors.New("no server: use memcache://host:11211"))
		}
		opts := &MemcachedOpts{Prefix: q.Get("prefix")}
		q.Del("prefix")
		if len(q) > 0 {
			return fail(fmt.Errorf("unknown setting %q: use prefix", firstKey(q)))
		}
		m, err := NewMemcached(strings.Split(u.Host, ","), opts)
		if err != nil {
			return fail(err)
		}
		return m, nil
	case "memory":
		opts := &MemoryOpts{}
		if v := q.Get("max_bytes"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fail(fmt.Errorf("max_bytes %q is not a positive number of bytes", v))
			}
			opts.MaxBytes = n
		}
		q.Del("max_bytes")
		if len(q) > 0 {
			return fail(fmt.Errorf("unknown setting %q: use max_bytes", firstKey(q)))
		}
		return NewMemory(opts), nil
	default:
		return fail(fmt.Errorf("unsupported scheme %q: use memcache:// or memory://", u.Scheme))
	}
}

func firstKey(q url.Values) string {
	for k := range q {
		return k
	}
	return ""
}

// logger returns l, or slog.Default() when l is nil.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
