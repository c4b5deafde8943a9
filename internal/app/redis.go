package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// RedactURL hides the password of a URL (Redis, PostgreSQL, …), for
// messages and logs. A URL that does not parse may hold a password written
// raw, with the characters that end a user's part ('/', '@', ':'):
// everything between "://" and its last '@' is hidden then.
func RedactURL(rawURL string) string {
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
		ue.URL = RedactURL(ue.URL)
	}
	return err
}

// DeleteKeys deletes every key matching pattern with SCAN and UNLINK, on
// every master of a cluster, and returns how many it deleted. It never
// flushes: other users may share the Redis.
func DeleteKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) (int64, error) {
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

// RedisLog sends go-redis's own messages (dial retries, pool trouble) to the
// command's logger at debug level: the errors that matter reach the caller.
type RedisLog struct{ Log *slog.Logger }

// Printf logs one of go-redis's messages.
func (l RedisLog) Printf(ctx context.Context, format string, v ...any) {
	l.Log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
