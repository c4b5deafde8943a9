#!/usr/bin/env bash
# What the analysis costs: `quire bench pipeline` with the default analyses
# and with --ml=false, alternating, on the embedded setup and on Redis +
# PostgreSQL, then the median documents/s of each and their ratio.
#
# The machine's speed drifts by 10% within minutes (docs/benchmarks.md), so
# the runs alternate rather than run one setting after the other.
#
#   scripts/bench-ml.sh QUIRE CORPUS [RUNS] [SETUPS]
#
# QUIRE is the binary, CORPUS the mixed small-document corpus; RUNS
# defaults to 5, SETUPS to "embedded servers". The servers' setup reads
# QUIRE_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0) and
# QUIRE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/bench,
# a database dropped and created again before every run). Each run's JSON is
# kept in $OUT (default a new temporary directory).
set -euo pipefail
quire=${1:?QUIRE binary}
corpus=${2:?CORPUS directory}
runs=${3:-5}
setups=${4:-embedded servers}
redis=${QUIRE_BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
pg=${QUIRE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/bench?sslmode=disable}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

run() { # setup ml round
	local setup=$1 ml=$2 round=$3 args=()
	if [ "$setup" = servers ]; then
		local db=${pg%%\?*}
		db=${db##*/}
		PGOPTIONS="-c client_min_messages=warning" psql "${pg/\/$db/\/postgres}" -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
		args=(--redis-url "$redis" --postgres-url "$pg")
	fi
	"$quire" bench pipeline --corpus "$corpus" --json --ml="$ml" "${args[@]}" 2>"$out/$setup-ml$ml-$round.log" |
		tail -1 >"$out/$setup-ml$ml-$round.json"
	echo "$setup ml=$ml run $round: $(jq -r '"\(.docs_per_s | round) docs/s, \(.done) done, \(.failed) failed"' "$out/$setup-ml$ml-$round.json")" >&2
}

for round in $(seq "$runs"); do
	for setup in $setups; do
		run "$setup" true "$round"
		run "$setup" false "$round"
	done
done

median() { jq -s 'map(.docs_per_s) | sort | .[(length / 2 | floor)]' "$@"; }
# Quire's CPU seconds a run (cpu_s: tesseract and LibreOffice included, the
# servers not), steadier than documents/s on a machine whose speed drifts.
cpu() { jq -s 'map(.cpu_s) | sort | .[(length / 2 | floor)] * 10 | round / 10' "$@"; }
echo "| setup | docs/s, default analyses | docs/s, --ml=false | cost of analysis | CPU s a run (analyses / none) |"
echo "|---|---|---|---|---|"
for setup in $setups; do
	on=$(median "$out/$setup-mltrue-"*.json)
	off=$(median "$out/$setup-mlfalse-"*.json)
	range() { jq -s 'map(.docs_per_s | round) | sort | "\(.[0])–\(.[-1])"' -r "$@"; }
	printf '| %s | **%.0f** [%s] | %.0f [%s] | %.2f× | %s / %s |\n' "$setup" "$on" "$(range "$out/$setup-mltrue-"*.json)" \
		"$off" "$(range "$out/$setup-mlfalse-"*.json)" "$(jq -n "$off / $on")" \
		"$(cpu "$out/$setup-mltrue-"*.json)" "$(cpu "$out/$setup-mlfalse-"*.json)"
done
echo "runs kept in $out" >&2
