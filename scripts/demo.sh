#!/usr/bin/env bash
# Prepares the database, loads the demo school (once), gives its staff demo certificates (once), starts the
# demo PKI (OCSP, CRL, timestamps) and the sector platform simulator (CSDL ngành + exchange receiver, seeded
# with the demo school) in the background and serves the app on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
export HOCBA_VAR_DIR=${HOCBA_VAR_DIR:-$PWD/var}
HOCBA=.venv/bin/hocba
echo "==> Chuẩn bị cơ sở dữ liệu"
$HOCBA migrate --noinput -v 0
echo "==> Nạp trường minh hoạ (chỉ lần đầu)"
$HOCBA demo --if-missing
echo "==> Chứng thư số minh hoạ của cán bộ và con dấu số (chỉ lần đầu)"
$HOCBA demo-pki --if-missing
port=$(.venv/bin/python -c 'import sys; from hocba.pki import DemoPki; print(DemoPki.open(sys.argv[1]).port)' "$HOCBA_VAR_DIR")
echo "==> Khởi động máy chủ PKI minh hoạ (OCSP, CRL, dấu thời gian) tại http://127.0.0.1:$port"
$HOCBA pki serve >"$HOCBA_VAR_DIR/pki-serve.log" 2>&1 &
pki_pid=$!
sim_port=${HOCBA_SIMULATOR_PORT:-8765}
echo "==> Khởi động máy giả lập CSDL ngành và nền tảng trao đổi tại http://127.0.0.1:$sim_port"
$HOCBA sync export --school 79770001 --out "$HOCBA_VAR_DIR/sector-seed.json" >/dev/null
.venv/bin/python -m hocba.interop.simulator --port "$sim_port" --db "$HOCBA_VAR_DIR/sector.sqlite3" \
  --seed "$HOCBA_VAR_DIR/sector-seed.json" >"$HOCBA_VAR_DIR/simulator.log" 2>&1 &
sim_pid=$!
export HOCBA_SECTOR_URL=${HOCBA_SECTOR_URL:-http://127.0.0.1:$sim_port}
export HOCBA_SECTOR_TOKEN=${HOCBA_SECTOR_TOKEN:-sector-demo-token}
web_pid=
# The servers stop together: on Ctrl+C, on kill, or when one of them stops.
cleanup() { kill $pki_pid $sim_pid $web_pid 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in $(seq 1 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  if ! kill -0 "$pki_pid" 2>/dev/null; then
    echo "Không khởi động được máy chủ PKI minh hoạ (cổng $port đang bận?); xem $HOCBA_VAR_DIR/pki-serve.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "==> Khởi động ứng dụng tại http://127.0.0.1:8000 (Ctrl+C để dừng tất cả)"
$HOCBA runserver 127.0.0.1:8000 --noreload --insecure &
web_pid=$!
wait -n "$pki_pid" "$sim_pid" "$web_pid"
