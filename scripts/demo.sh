#!/usr/bin/env bash
# Prepares the database, loads the demo school (once), and serves the app on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
export HOCBA_VAR_DIR=${HOCBA_VAR_DIR:-$PWD/var}
HOCBA=.venv/bin/hocba
echo "==> Chuẩn bị cơ sở dữ liệu"
$HOCBA migrate --noinput -v 0
echo "==> Nạp trường minh hoạ (chỉ lần đầu)"
$HOCBA demo --if-missing
echo "==> Khởi động ứng dụng tại http://127.0.0.1:8000 (Ctrl+C để dừng)"
exec $HOCBA runserver 127.0.0.1:8000 --noreload --insecure
