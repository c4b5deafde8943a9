package sqlitedriver_test

import (
	"testing"

	"github.com/quirehq/quire/jobs/jobstest"
)

// BenchmarkLimitDo: a concurrency limiter's acquisition and release, two
// write transactions.
func BenchmarkLimitDo(b *testing.B) { jobstest.BenchmarkLimitDo(b, newDriver(b, nil)) }
