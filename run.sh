#!/usr/bin/env bash
# Installs into .venv, sets up the embedded SQLite database with the demo station, and serves.
# Running it again keeps the data. PORT (default 8000) and DATABASE_URL are honoured.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install.sh
export DJANGO_SETTINGS_MODULE=junkai.settings
PORT="${PORT:-8000}"
mkdir -p var
.venv/bin/junkai migrate --no-input -v 0
.venv/bin/junkai demo
echo
echo "Junkai: http://127.0.0.1:${PORT}/  (停止は Ctrl+C)"
exec .venv/bin/junkai runserver "127.0.0.1:${PORT}" --noreload
