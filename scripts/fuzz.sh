#!/usr/bin/env bash
# Run every fuzz target of Quire for DURATION each (default 1m), one after
# the other:
#   scripts/fuzz.sh [DURATION] [REGEXP]
# REGEXP keeps only the targets whose name it matches (e.g. 'PDF|DOCX').
# `go test ./...` runs only the seed corpora (the committed
# testdata/fuzz/FuzzXxx files and each target's f.Add seeds); this runs the
# fuzzer itself. An input that fails is written to the package's
# testdata/fuzz/FuzzXxx/: fix the code, and commit the file as the
# regression seed. The script stops at the first failing target.
#
# Minimisation of each new interesting input is capped (10 s): the
# extractors are slow enough per input that Go's default (1 min) would spend
# the whole duration minimising.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-1m}
only=${2:-.}
parallel=${QUIRE_FUZZ_PARALLEL:-2}

# Every package with fuzz targets, and their names, found in the test files
# so that a new target is fuzzed without editing this script.
mapfile -t files < <(grep -rl --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' . | sort)
ran=0
for file in "${files[@]}"; do
  pkg="./$(dirname "${file#./}")"
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing.F).*/\1/p' "$file"); do
    [[ $target =~ $only ]] || continue
    echo "== $pkg $target ($duration)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$duration" \
      -fuzzminimizetime 10s -parallel "$parallel"
    ran=$((ran + 1))
  done
done
if ((ran == 0)); then
  echo "no fuzz target matches $only" >&2
  exit 1
fi
echo "fuzzed $ran targets for $duration each"
