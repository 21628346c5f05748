#!/usr/bin/env bash
# Creates .venv and installs the locked dependencies and Junkai itself. Used by run.sh and test.sh.
# Says what it is doing, one line a step; pip itself stays quiet unless something fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# The build tools of the editable install (pyproject.toml's build-system wants setuptools>=69;
# a new venv brings an older one, and pip then built in an isolated env and warned each time).
BUILD_TOOLS=(pip==26.3 setuptools==84.2.1 wheel==0.48.0)
say() { echo "install: $*"; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv ($("$PYTHON" --version))"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.junkai-installed
if [ ! -f "$stamp" ] || [ requirements.lock -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ] \
  || [ scripts/install.sh -nt "$stamp" ]; then
  started=$SECONDS
  say "build tools: ${BUILD_TOOLS[*]}"
  .venv/bin/python -m pip install --quiet "${BUILD_TOOLS[@]}"
  say "dependencies: $(grep -c '^[A-Za-z0-9]' requirements.lock) packages from requirements.lock (the first time takes a few minutes)"
  .venv/bin/python -m pip install --quiet -r requirements.lock
  say "junkai itself (editable, from this checkout)"
  .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
  touch "$stamp"
  say "done in $((SECONDS - started)) s"
else
  say ".venv is up to date"
fi
