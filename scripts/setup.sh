#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs what the portal needs to run (requirements.txt).
# `--dev` adds the tests' and tools' needs (requirements-dev.txt, npm's axe-core): the test
# command passes it, the run command does not. Each install is skipped while its files are
# unchanged (a stamp per kind, named after their contents).
#
# The installer is uv when it can be had (on PATH, or fetched once with pip into .tools/uv, a
# few seconds, pinned like every other requirement): it creates the venv in under a second and
# installs the pinned requirements in seconds where pip takes a minute. Without it (offline, no pip for $PYTHON), venv + pip as
# before. A venv uv made has no pip of its own: `uv pip install …` (or .tools/uv/bin/uv).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=runtime files=(requirements.txt)
if [ "${1:-}" = "--dev" ]; then
  kind=dev files=(requirements.txt requirements-dev.txt)
fi
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv/.requirements-$kind-$(cat "${files[@]}" | sha256sum | cut -c1-16)

uv=""
if [ ! -f "$stamp" ] && [ "${CEDAR_NO_UV:-}" != 1 ]; then
  if command -v uv >/dev/null; then
    uv=uv
  elif [ -x .tools/uv/bin/uv ]; then
    uv=.tools/uv/bin/uv
  elif "$PYTHON" -m pip install --quiet --disable-pip-version-check --target .tools/uv "uv==0.13.9" \
    2>/dev/null && [ -x .tools/uv/bin/uv ]; then
    uv=.tools/uv/bin/uv
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  if [ -n "$uv" ]; then
    "$uv" venv --quiet --python "$PYTHON" .venv
  else
    "$PYTHON" -m venv .venv
  fi
fi
if [ ! -f "$stamp" ]; then
  # --no-compile (pip): Python compiles the modules it imports on first use, not all of them
  # now (the S3 library alone is thousands); uv does not compile unless asked.
  if [ -n "$uv" ]; then
    echo "==> installing the pinned $kind requirements with uv"
    "$uv" pip install --quiet --python .venv/bin/python -r "${files[-1]}"
  else
    echo "==> installing the pinned $kind requirements with pip (about a minute the first time)"
    # pip's notes about this machine's missing local mirrors are noise here. (A venv uv made
    # has no pip: ensurepip gives it one.)
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --quiet
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile \
      -r "${files[-1]}" 2> >(grep -v "^WARNING: Location .* is ignored" >&2)
  fi
  rm -f .venv/.requirements-"$kind"-* && touch "$stamp"
fi
if [ "$kind" = dev ] && [ -f package-lock.json ] && command -v npm >/dev/null \
  && [ ! -d node_modules ]; then
  echo "==> installing browser-test helpers from npm (axe-core)"
  npm ci --silent --no-audit --no-fund
fi
