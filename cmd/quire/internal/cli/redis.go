package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// openRedis returns a client for a Redis URL:
//
//   - redis://[user:pass@]host:port/db and rediss://… (TLS) give a client of
//     one server, with the query options redis.ParseURL knows
//     (dial_timeout, pool_size, …);
//   - redis+cluster://[user:pass@]h1:p1,h2:p2[?options] and rediss+cluster://
//     give a Redis Cluster client seeded with those nodes, even one;
//   - h1:p1,h2:p2, a bare list of two or more nodes, gives a cluster client;
//     a bare host:port gives a client of one server.
//
// The clients are built from the options go-redis parses rather than copied
// into UniversalOptions, which would drop the ones it has no field for.
// openRedis does not connect: the first command does.
func openRedis(url string) (redis.UniversalClient, error) {
	scheme, rest, hasScheme := strings.Cut(url, "://")
	switch {
	case !hasScheme:
		addrs, err := splitAddrs(url)
		if err != nil {
			return nil, fmt.Errorf("%w: use redis://host:port/db, rediss://…, redis+cluster://h1:p1,h2:p2 or h1:p1,h2:p2", err)
		}
		if len(addrs) == 1 {
			return redis.NewClient(&redis.Options{Addr: addrs[0]}), nil
		}
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}), nil
	case scheme == "redis" || scheme == "rediss":
		opts, err := redis.ParseURL(url)
		if err != nil {
			return nil, err
		}
		return redis.NewClient(opts), nil
	case scheme == "redis+cluster" || scheme == "rediss+cluster":
		opts, err := parseClusterURL(strings.TrimSuffix(scheme, "+cluster"), rest)
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(opts), nil
	}
	return nil, fmt.Errorf("unknown scheme %q: use redis://, rediss://, redis+cluster:// or host:port,host:port", scheme)
}

// parseClusterURL reads [user:pass@]h1:p1,h2:p2[/][?options] by rewriting it
// into the form redis.ParseClusterURL reads: the first node as the host and
// the others as addr options.
func parseClusterURL(scheme, rest string) (*redis.ClusterOptions, error) {
	rest, query, _ := strings.Cut(rest, "?")
	userinfo, hosts := "", rest
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		userinfo, hosts = rest[:i+1], rest[i+1:]
	}
	hosts = strings.TrimSuffix(hosts, "/")
	if strings.Contains(hosts, "/") {
		return nil, errors.New("a cluster has no database number: drop the /db part")
	}
	addrs, err := splitAddrs(hosts)
	if err != nil {
		return nil, err
	}
	q := make([]string, 0, len(addrs))
	for _, a := range addrs[1:] {
		q = append(q, "addr="+a)
	}
	if query != "" {
		q = append(q, query)
	}
	u := scheme + "://" + userinfo + addrs[0]
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return redis.ParseClusterURL(u)
}

// splitAddrs reads a comma-separated list of host:port.
func splitAddrs(s string) ([]string, error) {
	var addrs []string
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q is not host:port", a)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("port of %q must be a number from 1 to 65535", a)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// redactURL hides the password of a URL (Redis, PostgreSQL, …), for
// messages and logs. A URL that does not parse may hold a password written
// raw, with the characters that end a user's part ('/', '@', ':'):
// everything between "://" and its last '@' is hidden then.
func redactURL(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if _, has := u.User.Password(); has {
			return u.Redacted()
		}
		return rawURL
	}
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if at := strings.LastIndexByte(rest, '@'); ok && at >= 0 {
		return scheme + "://xxxxx" + rest[at:]
	}
	return rawURL
}

// redactErr hides the password of the URL a url.Error quotes: url.Parse's
// errors repeat the whole URL.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

// deleteKeys deletes every key matching pattern with SCAN and UNLINK, on
// every master of a cluster, and returns how many it deleted. It never
// flushes: other users may share the Redis.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) (int64, error) {
	var n atomic.Int64
	del := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		batch := make([]string, 0, 500)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			// One key per command: in a cluster the keys of a batch may
			// hash to different slots.
			pipe := c.Pipeline()
			for _, k := range batch {
				pipe.Unlink(ctx, k)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
			n.Add(int64(len(batch)))
			batch = batch[:0]
			return nil
		}
		for iter.Next(ctx) {
			batch = append(batch, iter.Val())
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return del(ctx, c) })
	} else {
		err = del(ctx, rdb)
	}
	if err != nil {
		return n.Load(), fmt.Errorf("delete keys %s: %w", pattern, err)
	}
	return n.Load(), nil
}

// redisLog sends go-redis's own messages (dial retries, pool trouble) to the
// command's logger at debug level: the errors that matter reach the caller.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
