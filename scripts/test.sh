#!/usr/bin/env bash
# The whole suite on SQLite and every database-backed test again on a throwaway PostgreSQL 15 cluster.
#   scripts/test.sh [sqlite|postgres|all] [pytest args...]
#
# With "all" (make test, CI) the two passes run side by side, one per core: each is a single pytest process,
# mostly busy on one core, and they share nothing — each has its own HOCBA_VAR_DIR (keys, stored documents,
# SQLite files of the subprocess tests), its own database and free loopback ports. The PostgreSQL pass's
# output is kept in a file and printed after the SQLite pass's, so each reads as one block.
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-all}; [ $# -gt 0 ] && shift
PYTEST=(.venv/bin/python -m pytest "$@")

# The pure packages (rules, documents, signing) never touch the database: their tests run in the SQLite pass
# and would prove nothing new on PostgreSQL, so the PostgreSQL pass runs everything else.
pure=()
[ $# -eq 0 ] && pure=(--ignore=tests/rules --ignore=tests/documents --ignore=tests/signing)

sqlite_pass() {
  echo "==> Kiểm thử trên SQLite"
  env -u HOCBA_DATABASE_URL "${PYTEST[@]}"
}

postgres_pass() {
  echo "==> Kiểm thử trên PostgreSQL 15"
  export PG_STATE=${PG_STATE:-$(mktemp -u /tmp/hocba-pg-state.XXXXXX)}
  local url
  url=$(scripts/pg-throwaway.sh start)
  trap 'scripts/pg-throwaway.sh stop' EXIT
  HOCBA_DATABASE_URL="$url" "${PYTEST[@]}" "${pure[@]}"
}

case "$which_db" in
sqlite) sqlite_pass ;;
postgres) postgres_pass ;;
all)
  work=$(mktemp -d /tmp/hocba-test.XXXXXX)
  mkdir -p "$work/var-sqlite" "$work/var-postgres"
  started=$(date +%s)
  ( export HOCBA_VAR_DIR="$work/var-postgres"; postgres_pass ) > "$work/postgres.log" 2>&1 &
  pg_pid=$!
  status=0
  HOCBA_VAR_DIR="$work/var-sqlite" sqlite_pass || status=$?
  pg_status=0
  wait "$pg_pid" || pg_status=$?
  cat "$work/postgres.log"
  rm -rf "$work"
  echo "==> SQLite: $([ $status -eq 0 ] && echo đạt || echo "LỖI ($status)");" \
       "PostgreSQL: $([ $pg_status -eq 0 ] && echo đạt || echo "LỖI ($pg_status)");" \
       "$(( $(date +%s) - started )) giây"
  [ $status -eq 0 ] && status=$pg_status
  exit $status
  ;;
*) echo "cách dùng: scripts/test.sh [sqlite|postgres|all] [pytest args...]" >&2; exit 2 ;;
esac
