"""A real django-q2 cluster runs the room lifecycle on its own (docs/lifecycle.md).

The test starts ``manage.py qcluster`` as a subprocess on the test database, waits (bounded) for
the installed Schedule to create a due lesson's room, and stops the cluster by its PID.
On SQLite the in-memory test database is copied to a file the cluster can open.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_q.models import Schedule

from tests.factories import make_lesson
from webinars.models import Heartbeat, Room
from webinars.schedules import LIFECYCLE_CLUSTER, MAINTAIN_ROOMS, install_schedules
from webinars.selectors.health import SCHEDULER_HEARTBEAT

WAIT_SECONDS = 120  # the cluster's scheduler first looks about 30 s after start


def _database_url(tmp_path: Path) -> tuple[str, Path | None]:
    """A URL for the test database that another process can open."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"])
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        return f"postgres://{auth}@{host}/{db['NAME']}", None
    path = tmp_path / "cluster.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    return f"sqlite:///{path}", path


def _room_exists(lesson_id: int, sqlite_path: Path | None) -> bool:
    if sqlite_path is None:
        return Room.objects.filter(lesson_id=lesson_id).exists()
    with sqlite3.connect(sqlite_path, timeout=10) as db:
        row = db.execute("SELECT id FROM webinars_room WHERE lesson_id = ?", [lesson_id]).fetchone()
    return row is not None


def _heartbeat_exists(sqlite_path: Path | None) -> bool:
    if sqlite_path is None:
        return Heartbeat.objects.filter(name=SCHEDULER_HEARTBEAT).exists()
    with sqlite3.connect(sqlite_path, timeout=10) as db:
        query = "SELECT 1 FROM webinars_heartbeat WHERE name = ?"
        return db.execute(query, [SCHEDULER_HEARTBEAT]).fetchone() is not None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_running_cluster_creates_a_due_room_by_itself(tmp_path):
    install_schedules()
    Schedule.objects.filter(name=MAINTAIN_ROOMS).update(
        next_run=datetime.now(UTC) - timedelta(minutes=1)
    )
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5))
    assert not Room.objects.filter(lesson=lesson).exists()
    database_url, sqlite_path = _database_url(tmp_path)

    log = (tmp_path / "qcluster.log").open("w")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.qcluster_settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(settings.BASE_DIR),
        "Q_CLUSTER_NAME": LIFECYCLE_CLUSTER,  # the cluster the room tick is routed to
    }
    cluster = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        created = False
        while time.monotonic() < deadline and cluster.poll() is None:
            if _room_exists(lesson.pk, sqlite_path):
                created = True
                break
            time.sleep(1)
        output = (tmp_path / "qcluster.log").read_text()
        assert cluster.poll() is None, f"qcluster exited early:\n{output}"
        assert created, f"no room after {WAIT_SECONDS} s; cluster output:\n{output}"
        assert _heartbeat_exists(sqlite_path)
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)  # its own session: only its processes
            cluster.wait(timeout=10)
        log.close()
    assert cluster.returncode is not None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_webinar_maintain_loop_ticks_and_stops_on_sigterm(tmp_path):
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(minutes=5))
    database_url, sqlite_path = _database_url(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.qcluster_settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    loop = subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "webinar_maintain"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and loop.poll() is None:
            if _room_exists(lesson.pk, sqlite_path):
                break
            time.sleep(0.5)
        assert _room_exists(lesson.pk, sqlite_path)
        loop.send_signal(signal.SIGTERM)
        output, _ = loop.communicate(timeout=30)  # the 60 s interval wait ends at once
    finally:
        if loop.poll() is None:
            os.killpg(loop.pid, signal.SIGKILL)
            loop.wait(timeout=10)
    assert loop.returncode == 0, output
    assert "created 1, opened 0, closed 0" in output
    assert "stopped after 1 tick(s)" in output
