// Package e2e tests Quire as it is deployed: the quire binary built once,
// run as real processes (two web, three workers, a scheduler) behind nginx,
// on a Redis and a PostgreSQL of the test's own, replaced one by one with
// SIGTERM and killed with SIGKILL while a load generator uploads documents
// and enqueues jobs. Its tests need redis-server, PostgreSQL and nginx;
// without them they skip, or fail with QUIRE_TEST_REQUIRE_SERVICES=1.
package e2e
