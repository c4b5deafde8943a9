package redisdriver_test

import (
	"testing"

	"github.com/quirehq/quire/jobs/jobstest"
)

// BenchmarkLimitDo: a concurrency limiter's acquisition and release, two
// round trips to Redis.
func BenchmarkLimitDo(b *testing.B) { jobstest.BenchmarkLimitDo(b, newDriver(b)) }
