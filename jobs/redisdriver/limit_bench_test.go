package redisdriver_test

import (
	"context"
	"testing"

	"github.com/quirehq/quire/jobs"
)

// BenchmarkLimitDo measures what a concurrency limiter adds to one job:
// an acquisition and a release, two round trips to Redis.
func BenchmarkLimitDo(b *testing.B) {
	d := newDriver(b)
	l, err := jobs.NewConcurrencyLimiter(d, "bench", 1_000_000, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Do(ctx, func(context.Context) error { return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
