#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs what the portal needs to run (requirements.txt).
# `--dev` adds the tests' and tools' needs (requirements-dev.txt, npm's axe-core): the test
# command passes it, the run command does not. Each install is skipped while its files are
# unchanged (a stamp per kind, named after their contents).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=runtime files=(requirements.txt)
if [ "${1:-}" = "--dev" ]; then
  kind=dev files=(requirements.txt requirements-dev.txt)
fi
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements-$kind-$(cat "${files[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing the pinned $kind requirements (about a minute the first time)"
  # --no-compile: Python compiles the modules it imports on first use, not all of them now
  # (the S3 library alone is thousands). pip's notes about this machine's missing local
  # mirrors are noise here.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile \
    -r "${files[-1]}" 2> >(grep -v "^WARNING: Location .* is ignored" >&2)
  rm -f .venv/.requirements-"$kind"-* && touch "$stamp"
fi
if [ "$kind" = dev ] && [ -f package-lock.json ] && command -v npm >/dev/null \
  && [ ! -d node_modules ]; then
  echo "==> installing browser-test helpers from npm (axe-core)"
  npm ci --silent --no-audit --no-fund
fi
