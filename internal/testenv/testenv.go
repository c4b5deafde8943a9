// Package testenv holds the rule every Quire test that needs a service
// follows, in one place: the job engine's, the store's and the cache's
// suites all import it.
package testenv

import (
	"os"
	"testing"
)

// RequireService lets a test that needs a service (Redis, PostgreSQL,
// memcached, tesseract) run only when err is nil. Otherwise it skips the
// test, or fails it when QUIRE_TEST_REQUIRE_SERVICES=1, as in CI, so that a
// CI run never passes by skipping.
func RequireService(t testing.TB, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("QUIRE_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (QUIRE_TEST_REQUIRE_SERVICES=1) but unavailable: %v", name, err)
	}
	t.Skipf("%s unavailable, skipping: %v", name, err)
}
