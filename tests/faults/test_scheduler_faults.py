"""The scheduler under stress: busy download workers, a kill in the middle of a tick, a stop.

Real processes on the test database (a file copy of it on SQLite, as in
tests/webinars/test_scheduler.py): ``manage.py qcluster`` for the two clusters, and the
``webinar_maintain`` loop for the kill, which runs the very same tick in a shorter cycle.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import make_lesson, make_room, make_subject, make_user
from tests.webinars.test_scheduler import _database_url
from webinars.choices import RoomStatus
from webinars.models import Lesson
from webinars.schedules import LIFECYCLE_CLUSTER, MAINTAIN_ROOMS, install_schedules

OCCUPIED = "occupied-by-download"
ROOM_WITHIN_SECONDS = 90
STOP_WITHIN_SECONDS = 30

# The suite's cluster settings, with the download workers the default deployment has.
CLUSTER_SETTINGS = """
from tests.qcluster_settings import *  # noqa: F403

Q_CLUSTER = {**Q_CLUSTER, "workers": 2, "queue_limit": 2}  # noqa: F405
"""


def occupy_worker(seconds: int) -> None:
    """Stands in for a multi-GB recording download: marks its worker busy, then holds it."""
    from webinars.models import Heartbeat

    Heartbeat.objects.create(name=f"{OCCUPIED}-{os.getpid()}", beat_at=timezone.now())
    time.sleep(seconds)


class SharedDatabase:
    """Raw SQL on the database the subprocesses use (``%s`` parameters on both engines)."""

    def __init__(self, sqlite_path: Path | None):
        self.sqlite_path = sqlite_path

    def rows(self, sql: str, params=()) -> list[tuple]:
        if self.sqlite_path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        import sqlite3

        with sqlite3.connect(self.sqlite_path, timeout=20) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def value(self, sql: str, params=()):
        return self.rows(sql, params)[0][0]

    def stamp(self, moment: datetime):
        """A datetime as the engine stores it (SQLite: Django's UTC text)."""
        if self.sqlite_path is None:
            return moment
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _start(args: list[str], env: dict, log: Path, **extra_env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        cwd=settings.BASE_DIR,
        env={**env, **extra_env},
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only its processes
        process.wait(timeout=10)


def _wait_for(predicate, *, seconds: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rooms_open_while_downloads_hold_every_worker_and_busy_clusters_stop_within_30_s(
    tmp_path,
):
    install_schedules()
    Schedule.objects.filter(name=MAINTAIN_ROOMS).update(
        next_run=datetime.now(UTC) - timedelta(minutes=1)
    )
    for _ in range(2):  # two long downloads for the default cluster's two workers
        Schedule.objects.create(
            func=f"{__name__}.occupy_worker",
            args="600",
            schedule_type=Schedule.ONCE,
            repeats=-1,
            next_run=datetime.now(UTC) - timedelta(minutes=1),
        )
    lesson = make_lesson(start=datetime.now(UTC) + timedelta(hours=3))  # not due yet
    database_url, sqlite_path = _database_url(tmp_path)
    db = SharedDatabase(sqlite_path)
    (tmp_path / "fault_cluster_settings.py").write_text(CLUSTER_SETTINGS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fault_cluster_settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{settings.BASE_DIR}",
    }
    log = tmp_path / "clusters.log"
    lifecycle = _start(["qcluster"], env, log, Q_CLUSTER_NAME=LIFECYCLE_CLUSTER)
    work = _start(["qcluster"], env, log)
    try:
        busy = _wait_for(
            lambda: (
                db.value(
                    "SELECT count(*) FROM webinars_heartbeat WHERE name LIKE %s", [f"{OCCUPIED}%"]
                )
                == 2
            ),
            seconds=150,
        )
        assert busy, f"the downloads never occupied both workers:\n{log.read_text()[-3000:]}"

        # The lesson now enters its window (it starts ROOM_OPEN_LEAD_MIN from now).
        start = datetime.now(UTC) + timedelta(minutes=settings.ROOM_OPEN_LEAD_MIN, seconds=-1)
        db.rows(
            "UPDATE webinars_lesson SET scheduled_start = %s, scheduled_end = %s WHERE id = %s",
            [db.stamp(start), db.stamp(start + timedelta(minutes=45)), lesson.pk],
        )
        entered = time.monotonic()
        room = _wait_for(
            lambda: db.rows("SELECT id FROM webinars_room WHERE lesson_id = %s", [lesson.pk]),
            seconds=ROOM_WITHIN_SECONDS + 30,
        )
        waited = time.monotonic() - entered
        print(f"room {waited:.0f} s after the lesson entered its window")
        assert room, f"no room after {waited:.0f} s:\n{log.read_text()[-3000:]}"
        assert waited <= ROOM_WITHIN_SECONDS, f"the room came after {waited:.0f} s"
        assert lifecycle.poll() is None and work.poll() is None, log.read_text()[-3000:]

        # Both stop on SIGTERM, the default cluster although its workers are mid-download.
        stop_began = time.monotonic()
        for cluster in (lifecycle, work):
            cluster.send_signal(signal.SIGTERM)
        for cluster in (lifecycle, work):
            cluster.wait(timeout=STOP_WITHIN_SECONDS + 30)
        stopped_after = time.monotonic() - stop_began
        print(f"both clusters stopped {stopped_after:.1f} s after SIGTERM")
        assert stopped_after < STOP_WITHIN_SECONDS, f"stopped after {stopped_after:.0f} s"
        assert "terminating" in log.read_text()  # the downloads were cut short, not awaited
    finally:
        for cluster in (lifecycle, work):
            _kill(cluster)


def _bulk_lessons(n: int, *, start: datetime, duration: timedelta) -> list[int]:
    subject, teacher = make_subject(), make_user()
    Lesson.objects.bulk_create(
        Lesson(
            subject=subject,
            teacher=teacher,
            title=f"Lesson {i}",
            scheduled_start=start,
            scheduled_end=start + duration,
        )
        for i in range(n)
    )
    return list(Lesson.objects.filter(subject=subject).order_by("id").values_list("id", flat=True))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_scheduler_killed_in_the_middle_of_a_tick_converges_once_restarted(tmp_path):
    now = datetime.now(UTC)
    soon = _bulk_lessons(500, start=now + timedelta(minutes=5), duration=timedelta(minutes=45))
    live = _bulk_lessons(500, start=now - timedelta(minutes=10), duration=timedelta(minutes=45))
    over = [make_room(make_lesson(start=now - timedelta(minutes=80))).lesson_id for _ in range(5)]
    due = len(soon) + len(live)
    database_url, sqlite_path = _database_url(tmp_path)
    db = SharedDatabase(sqlite_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.qcluster_settings",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(settings.BASE_DIR),
        "MAINTAIN_BATCH_SIZE": "10",  # many small commits: a kill lands between two of them
    }
    log = tmp_path / "maintain.log"
    created = "SELECT count(*) FROM webinars_room WHERE lesson_id IS NOT NULL"
    before = db.value(created)
    loop = _start(["webinar_maintain", "--interval", "600"], env, log)
    try:
        midway = _wait_for(lambda: db.value(created) > before, seconds=120, step=0.01)
        assert midway, f"the tick never began:\n{log.read_text()}"
        os.killpg(loop.pid, signal.SIGKILL)  # no chance to finish or clean up
        loop.wait(timeout=10)
        at_kill = db.value(created) - before
        assert 0 < at_kill < due, f"the kill did not land mid-tick ({at_kill} of {due} rooms)"
        print(f"killed after {at_kill} of {due} rooms")

        again = _start(["webinar_maintain", "--interval", "1", "--max-ticks", "2"], env, log)
        assert again.wait(timeout=180) == 0, log.read_text()
    finally:
        _kill(loop)

    per_lesson = db.rows(
        "SELECT lesson_id, count(*) FROM webinars_room WHERE lesson_id IS NOT NULL "
        "GROUP BY lesson_id HAVING count(*) > 1"
    )
    assert per_lesson == [], "a lesson got two rooms"
    statuses = dict.fromkeys(("soon", "live", "over"))
    for name, ids in (("soon", soon), ("live", live), ("over", over)):
        marks = ", ".join(["%s"] * len(ids))
        statuses[name] = dict(
            db.rows(
                f"SELECT status, count(*) FROM webinars_room WHERE lesson_id IN ({marks}) "  # noqa: S608
                "GROUP BY status",
                ids,
            )
        )
    assert statuses == {
        "soon": {RoomStatus.SCHEDULED: len(soon)},
        "live": {RoomStatus.OPEN: len(live)},
        "over": {RoomStatus.CLOSED: len(over)},
    }, f"{statuses}; killed after {at_kill} rooms\n{log.read_text()[-2000:]}"
