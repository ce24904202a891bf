#!/usr/bin/env bash
# Installs what hocba needs: Debian packages (only those missing, via apt-get), the Python environment in
# .venv, and generated local state under var/ (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}

# Debian packages: chromium for the browser tests; PostgreSQL 15 server binaries for the second test run.
need=()
for pkg in chromium postgresql-15 softhsm2 xmlsec1 qpdf poppler-utils libxml2-utils openssl fonts-dejavu-core fonts-dejavu-extra zbar-tools; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "==> Cài gói hệ thống: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> Tạo môi trường Python (.venv)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.hocba-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> Cài thư viện Python"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi

# Generated local state: the secret key of this installation.
mkdir -p "${HOCBA_VAR_DIR:-var}"
if [ ! -f "${HOCBA_VAR_DIR:-var}/secret_key" ]; then
  .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "${HOCBA_VAR_DIR:-var}/secret_key"
  chmod 600 "${HOCBA_VAR_DIR:-var}/secret_key"
fi
