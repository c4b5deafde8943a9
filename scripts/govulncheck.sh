#!/usr/bin/env bash
# Check Quire against the Go vulnerability database with govulncheck:
#   scripts/govulncheck.sh
# govulncheck reads its database from vuln.go.dev, which this project's
# machines and CI cannot reach; the Go module proxy they can reach serves
# golang.org/x/vulndb, the repository the database is made from (its
# data/osv holds every report as OSV JSON). So the database is built from
# that module with vulndb's own indexdb command, once per version, into
# QUIRE_VULNDB_DIR (default ~/.cache/quire-vulndb), and govulncheck reads it
# with -db file://…
#
# The vulndb version is pinned so that a run is repeatable; set
# QUIRE_VULNDB_VERSION=latest to check against the newest reports (and
# bump VULNDB_VERSION below when they are dealt with).
#
# A finding whose ID is listed in scripts/govulncheck-accepted.txt, with
# why it is accepted and what removes it, is reported and does not fail the
# run; any other finding does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# Check the standard library Quire ships with: the Go of go.mod's toolchain
# line, which builds the image, whatever Go this machine has. govulncheck is
# built with it too, to read that standard library's sources.
toolchain=$(sed -n 's/^toolchain \(go[0-9.]*\)$/\1/p' go.mod)
export GOTOOLCHAIN=${toolchain:-local}

GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=${QUIRE_VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $VULNDB_VERSION == latest ]]; then
  VULNDB_VERSION=$(cd "$work" && go list -m -f '{{.Version}}' golang.org/x/vulndb@latest)
fi
db=${QUIRE_VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quire-vulndb}/$VULNDB_VERSION
if [[ ! -f $db/index/db.json ]]; then
  echo "govulncheck: building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
  # Outside the repository, so that nothing touches Quire's go.mod.
  src=$(cd "$work" && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $src/data/osv ]] || { echo "govulncheck: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION" >&2; exit 2; }
  (cd "$work" && GOBIN=$work go install "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION")
  "$work/indexdb" -vulns "$src/data/osv" -out "$work/db"
  mkdir -p "$(dirname "$db")"
  rm -rf "$db"
  mv "$work/db" "$db"
fi

# Installed, not run with go run, which turns its exit status 3 (found
# vulnerabilities) into 1.
(cd "$work" && GOBIN=$work go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION")
report=$work/report.txt
set +e
"$work/govulncheck" -C "$root" -db "file://$db" ./... >"$report" 2>&1
rc=$?
set -e
cat "$report"
# 0: nothing found; 3: vulnerabilities found; anything else: govulncheck failed.
if ((rc != 0 && rc != 3)); then
  echo "govulncheck: failed (exit $rc)" >&2
  exit "$rc"
fi

mapfile -t found < <(sed -n 's/^Vulnerability #[0-9]*: \(GO-[0-9]*-[0-9]*\).*/\1/p' "$report" | sort -u)
accepted_file=scripts/govulncheck-accepted.txt
mapfile -t accepted < <(sed -e 's/#.*//' "$accepted_file" | awk 'NF {print $1}' | sort -u)
new=$(comm -23 <(printf '%s\n' "${found[@]}" | sed '/^$/d') <(printf '%s\n' "${accepted[@]}" | sed '/^$/d'))
gone=$(comm -13 <(printf '%s\n' "${found[@]}" | sed '/^$/d') <(printf '%s\n' "${accepted[@]}" | sed '/^$/d'))
echo
echo "govulncheck: database golang.org/x/vulndb@$VULNDB_VERSION; ${#found[@]} finding(s) in code Quire calls"
if [[ -n $gone ]]; then
  echo "govulncheck: accepted but no longer found (remove from $accepted_file):" $gone
fi
if [[ -n $new ]]; then
  echo "govulncheck: FAIL: findings not in $accepted_file:" $new >&2
  exit 1
fi
echo "govulncheck: ok: every finding is accepted in $accepted_file"
