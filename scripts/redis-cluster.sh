#!/usr/bin/env bash
# Start (or stop) a local Redis Cluster for tests: three masters with one
# replica each, on ports BASE..BASE+5 (default 7000), data under DIR.
#   scripts/redis-cluster.sh start [DIR] [BASE]
#   scripts/redis-cluster.sh stop  [DIR] [BASE]
# Prints the cluster URL Quire takes (redis+cluster://...) on start.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:-/tmp/quire-redis-cluster}
base=${3:-7000}
ports=$(seq "$base" $((base + 5)))

case "$cmd" in
start)
  mkdir -p "$dir"
  for p in $ports; do
    if redis-cli -p "$p" ping >/dev/null 2>&1; then continue; fi
    mkdir -p "$dir/$p"
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --dir "$dir/$p" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --appendonly yes --save "" --logfile "$dir/$p/redis.log" --pidfile "$dir/$p/redis.pid"
  done
  for p in $ports; do
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.05; done
  done
  if ! redis-cli -p "$base" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    addrs=$(for p in $ports; do printf '127.0.0.1:%s ' "$p"; done)
    # shellcheck disable=SC2086
    redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$dir/create.log"
    for _ in $(seq 200); do
      redis-cli -p "$base" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.05
    done
  fi
  # Wait until every replica has synced, so WAIT-based durable enqueue works
  # from the first job.
  for _ in $(seq 400); do
    synced=0
    for p in $ports; do
      redis-cli -p "$p" info replication | grep -q 'master_link_status:up' && synced=$((synced + 1))
    done
    [ "$synced" -ge 3 ] && break
    sleep 0.05
  done
  printf 'redis+cluster://%s\n' "$(for p in $ports; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')"
  ;;
stop)
  for p in $ports; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop [DIR] [BASE]" >&2
  exit 2
  ;;
esac
