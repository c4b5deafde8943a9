package redisdriver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// OpenURL returns a client for a Redis URL, as Quire's --redis-url takes it:
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
// OpenURL does not connect: the first command does.
func OpenURL(url string) (redis.UniversalClient, error) {
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
