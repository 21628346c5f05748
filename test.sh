#!/usr/bin/env bash
# Installs and runs every check: ruff, mypy --strict, and the whole test suite on SQLite and
# on PostgreSQL (JUNKAI_TEST_POSTGRES, else the local cluster; required when CI=true).
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install.sh
export DJANGO_SETTINGS_MODULE=junkai.settings
export JUNKAI_VAR_DIR="${JUNKAI_VAR_DIR:-$PWD/var/test}"
# The walk tests provoke hundreds of 404s on purpose; keep the log to errors.
export JUNKAI_LOG_LEVEL="${JUNKAI_LOG_LEVEL:-ERROR}"
# static/: WhiteNoise warns at every start when STATIC_ROOT does not exist.
mkdir -p "$JUNKAI_VAR_DIR/static"
PY=.venv/bin/python

echo "== ruff check"; .venv/bin/ruff check .
echo "== ruff format --check"; .venv/bin/ruff format --check .
echo "== mypy --strict"; .venv/bin/mypy junkai bench
echo "== lint-imports (layers in pyproject.toml)"
out=$(.venv/bin/lint-imports --no-cache 2>&1) || { echo "$out"; exit 1; }
echo "$out" | tail -1

PARALLEL="${JUNKAI_TEST_PARALLEL:-2}"
echo "== tests on SQLite"
DATABASE_URL="sqlite:///$JUNKAI_VAR_DIR/test.sqlite3" \
  $PY manage.py test --parallel "$PARALLEL" --no-input "$@"

# Several checkouts share one cluster: the default database name is unique to this checkout
# (Django's test database is test_ + that name).
PG_URL="${JUNKAI_TEST_POSTGRES:-postgres:///junkai_$(printf %s "$PWD" | sha1sum | cut -c1-8)}"
if $PY - "$PG_URL" <<'PYEOF'
import sys, psycopg, dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(dbname="postgres", user=cfg.get("USER") or None, host=cfg.get("HOST") or None,
                    port=cfg.get("PORT") or None, password=cfg.get("PASSWORD") or None,
                    connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable: {exc}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "== tests on PostgreSQL"
  DATABASE_URL="$PG_URL" $PY manage.py test --parallel "$PARALLEL" --no-input "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true but PostgreSQL is not reachable at $PG_URL" >&2
  exit 1
else
  echo "== PostgreSQL not reachable: skipped the PostgreSQL run (set JUNKAI_TEST_POSTGRES)"
fi
echo "== all checks passed"
