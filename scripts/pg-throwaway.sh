#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a free loopback port.
#   pg-throwaway.sh start   -> prints postgres://... URL (state kept in $PG_STATE, default var/pg-throwaway)
#   pg-throwaway.sh stop    -> stops the server and removes the cluster
# initdb refuses to run as root, so as root the cluster belongs to the unprivileged user "nobody".
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")}
STATE=${PG_STATE:-$PWD/var/pg-throwaway}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  mkdir -p "$(dirname "$STATE")"
  rm -rf "$STATE"
  dir=$(mktemp -d /tmp/hocba-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
  port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  printf '%s\n%s\n' "$dir" "$port" > "$STATE"
  echo "postgres://postgres@127.0.0.1:$port/hocba"
  ;;
stop)
  [ -f "$STATE" ] || exit 0
  dir=$(sed -n 1p "$STATE")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir" "$STATE"
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
