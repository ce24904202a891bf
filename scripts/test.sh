#!/usr/bin/env bash
# The whole suite on SQLite, then every database-backed test again on a throwaway PostgreSQL 15 cluster.
#   scripts/test.sh [sqlite|postgres|all] [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
which_db=${1:-all}; [ $# -gt 0 ] && shift
PYTEST=(.venv/bin/python -m pytest "$@")
status=0

if [ "$which_db" = all ] || [ "$which_db" = sqlite ]; then
  echo "==> Kiểm thử trên SQLite"
  env -u HOCBA_DATABASE_URL "${PYTEST[@]}" || status=$?
fi

if [ "$which_db" = all ] || [ "$which_db" = postgres ]; then
  echo "==> Kiểm thử trên PostgreSQL 15"
  export PG_STATE=${PG_STATE:-$(mktemp -u /tmp/hocba-pg-state.XXXXXX)}
  url=$(scripts/pg-throwaway.sh start)
  trap 'scripts/pg-throwaway.sh stop' EXIT
  # The pure packages (rules, documents, signing) never touch the database: their tests ran in the SQLite
  # pass and would prove nothing new here, so the PostgreSQL pass runs everything else.
  pure=()
  [ $# -eq 0 ] && pure=(--ignore=tests/rules --ignore=tests/documents --ignore=tests/signing)
  HOCBA_DATABASE_URL="$url" "${PYTEST[@]}" "${pure[@]}" || status=$?
fi
exit $status
