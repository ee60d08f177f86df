#!/usr/bin/env bash
# Sets up and runs the whole test suite: SQLite by default, PostgreSQL when DATABASE_URL is set.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/webinars -k join`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
exec .venv/bin/python -m pytest -rs "$@"
