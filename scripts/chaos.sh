#!/usr/bin/env bash
# Run Quire's chaos suite (test/chaos): a deployment of real processes on a
# private Redis (append-only file, appendfsync always), PostgreSQL and
# memcached, on the loopback interface, fed JOBS jobs and DOCS documents
# while workers are killed with SIGKILL, Redis is killed and restarted,
# PostgreSQL is stopped for 30 s, memcached dies and the blob store fails.
# It prints a table per fault (submitted / completed / duplicated / lost)
# and writes it as JSON to REPORT; it fails if anything is lost.
#   scripts/chaos.sh [JOBS [DOCS [REPORT]]]     defaults: 100000 5000 chaos-report.json
# Needs redis-server, memcached, the PostgreSQL server binaries
# (apt-get install redis-server memcached postgresql). Bounded: the run
# gives up after 45 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${1:-100000}
docs=${2:-5000}
report=${3:-chaos-report.json}
case $report in /*) ;; *) report=$PWD/$report ;; esac

QUIRE_CHAOS=1 QUIRE_CHAOS_JOBS=$jobs QUIRE_CHAOS_DOCS=$docs QUIRE_CHAOS_REPORT=$report \
  QUIRE_TEST_REQUIRE_SERVICES=1 \
  go test ./test/chaos -run TestChaos -count=1 -v -timeout 45m 2>&1 |
  grep -v '^        {' # the processes' JSON logs, printed only when a check fails
echo "report: $report"
