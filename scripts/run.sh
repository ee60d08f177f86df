#!/usr/bin/env bash
# Sets up and runs the portal on SQLite with demo data and the django-q2 scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE=portal.settings.dev
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:${PORT:-8000}}"  # links in emails
PORT="${PORT:-8000}"
PY=.venv/bin/python
$PY manage.py seed_demo
$PY manage.py qcluster > qcluster.log 2>&1 &
cluster=$!
trap 'kill $cluster 2>/dev/null; wait $cluster 2>/dev/null' EXIT INT TERM
echo
echo "Cedar webinar portal: http://127.0.0.1:${PORT}/   admin: http://127.0.0.1:${PORT}/admin/"
echo "API docs: http://127.0.0.1:${PORT}/api/docs/   scheduler log: qcluster.log (pid $cluster)"
echo
$PY manage.py runserver "127.0.0.1:${PORT}"
