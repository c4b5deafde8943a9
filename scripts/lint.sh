#!/usr/bin/env bash
# Run golangci-lint with .golangci.yaml: the house's import directions
# (depguard), errcheck, staticcheck, revive's doc-comment rules and the
# standard set.
#   scripts/lint.sh [golangci-lint arguments]
# The version is pinned so that a run is repeatable; it is built once with
# the Go of go.mod's toolchain line (the Go Quire is checked with) into
# QUIRE_TOOLS_DIR (default ~/.cache/quire-tools/golangci-lint-VERSION),
# outside the repository, so that nothing touches Quire's go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
toolchain=$(sed -n 's/^toolchain \(go[0-9.]*\)$/\1/p' go.mod)
export GOTOOLCHAIN=${toolchain:-local}

GOLANGCI_LINT_VERSION=v2.15.0
bin=${QUIRE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quire-tools}/golangci-lint-$GOLANGCI_LINT_VERSION
if [[ ! -x $bin/golangci-lint ]]; then
  echo "lint: building golangci-lint $GOLANGCI_LINT_VERSION"
  mkdir -p "$bin"
  (cd "$bin" && GOBIN="$bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION")
fi
"$bin/golangci-lint" version
"$bin/golangci-lint" run --max-issues-per-linter=0 --max-same-issues=0 "$@" ./...
