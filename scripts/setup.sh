#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs the pinned requirements (skipped when unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing pinned requirements (about a minute the first time)"
  quiet_pip() {  # pip's notes about this machine's missing local mirrors are noise here
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" \
      2> >(grep -v "^WARNING: Location .* is ignored" >&2)
  }
  quiet_pip --upgrade pip
  quiet_pip -r requirements-dev.txt
  rm -f .venv/.requirements-* && touch "$stamp"
fi
if [ -f package-lock.json ] && command -v npm >/dev/null && [ ! -d node_modules ]; then
  echo "==> installing browser-test helpers from npm (axe-core)"
  npm ci --silent --no-audit --no-fund
fi
