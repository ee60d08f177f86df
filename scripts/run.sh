#!/usr/bin/env bash
# Sets up and runs the portal on SQLite with demo data: the web server and both django-q2
# clusters ("lifecycle": the room tick; the default "work" one: recording downloads, notices).
# Ctrl-C (or SIGTERM) stops all three; each cluster stops within Q_STOP_GRACE (15 s) + a few.
# The clusters' logs append to $LOG_DIR/lifecycle.log and work.log (rotated at 5 MB).
#
# Fast to the first page (docs/operations.md, bench/bench_first_run.py): one Django start for
# migrate + seed + server (`manage.py run_demo`, no autoreloader); the clusters start once the
# home page answers, so they do not compete with it for the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DJANGO_SETTINGS_MODULE=portal.settings.dev
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:${PORT:-8000}}"  # links in emails
PORT="${PORT:-8000}"
LOG_DIR="${LOG_DIR:-logs}"
PY=.venv/bin/python
mkdir -p "$LOG_DIR"

pids=()
stop_all() {
  trap - EXIT INT TERM
  [ "${#pids[@]}" -eq 0 ] && return
  echo "stopping (pids ${pids[*]}) …"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all EXIT INT TERM

# In the background so that a signal reaches the trap at once (bash runs traps only between
# commands, and `wait` is one it interrupts).
$PY manage.py run_demo "127.0.0.1:${PORT}" &
server=$!
pids+=("$server")

# The home page answering is the sign that the server is up (and its URLs loaded).
$PY - "http://127.0.0.1:${PORT}/" "$server" <<'PYTHON'
import os, sys, time, urllib.request

url, server = sys.argv[1], int(sys.argv[2])
while True:
    try:
        os.kill(server, 0)
    except ProcessLookupError:
        sys.exit("the web server stopped before it served a page")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            if response.status == 200:
                break
    except OSError:
        time.sleep(0.2)
PYTHON

# Python logging writes each cluster's file (LOG_FILE); the redirect keeps what is not logging
# (a traceback at start-up) in the same place.
LOG_FILE="$LOG_DIR/lifecycle.log" Q_CLUSTER_NAME=lifecycle \
  $PY manage.py qcluster >>"$LOG_DIR/lifecycle.log" 2>&1 &
pids+=($!)
LOG_FILE="$LOG_DIR/work.log" $PY manage.py qcluster >>"$LOG_DIR/work.log" 2>&1 &
pids+=($!)

echo
echo "Cedar webinar portal: http://127.0.0.1:${PORT}/   admin: http://127.0.0.1:${PORT}/admin/"
echo "API docs: http://127.0.0.1:${PORT}/api/docs/"
echo "scheduler logs: $LOG_DIR/lifecycle.log (room ticks), $LOG_DIR/work.log (recordings)"
echo
wait "$server"
