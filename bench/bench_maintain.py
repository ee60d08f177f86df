"""Benchmark of the scheduler tick (issue 3): cost follows the rooms due, not the timetable.

    .venv/bin/python bench/bench_maintain.py [--base-url postgres://postgres@127.0.0.1:5432]

Creates its own PostgreSQL database ``bench_maintain`` (dropped first if left over, dropped again
at the end), migrates it, and fills it with bulk inserts:

1. 10,000 lessons over a school year (weekdays 08:00–16:00 in the school's zone, 10 % open);
   every lesson already over has its CLOSED room, as it would after a year of ticks.
   A warm-up tick at "now" (a Wednesday 10:00:30 in February) does what is due; then ticks with
   nothing due are measured: queries and milliseconds (median of 25).
2. 90,000 more lessons (100,000 in all), same measurement; the ratio of the medians is printed.
3. 1,000 lessons starting in the same minute on a Saturday: the tick 15 min before creates all
   their rooms; the tick at the start opens them; the tick after end + grace closes them.

Targets: nothing due ≤ 10 queries and ≤ 100 ms; 100k/10k ≤ 1.5×; 1,000 rooms in one tick ≤ 5 s.
The machine is shared: wall-clock figures are noisy, run it once or twice. PostgreSQL's own
planning+execution time of the tick's queries (EXPLAIN ANALYZE) is printed too: it grows with
the lessons inside the bands the tick reads (the last 12 h and, for open lessons, the next 48 h),
i.e. with lessons per day, never with the length of the timetable.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_maintain"
SCHOOL = ZoneInfo("Europe/Amsterdam")
YEAR_START, YEAR_END = date(2026, 9, 1), date(2027, 6, 30)
NOW = datetime(2027, 2, 10, 10, 0, 30, tzinfo=SCHOOL).astimezone(UTC)  # a Wednesday


def admin_connection(base_url: str):
    return psycopg.connect(f"{base_url}/postgres", autocommit=True)


def recreate_database(base_url: str) -> None:
    with admin_connection(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database(base_url: str) -> None:
    with admin_connection(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def school_days() -> list[date]:
    days, day = [], YEAR_START
    while day <= YEAR_END:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def lesson_starts(count: int, offset: int) -> list[datetime]:
    """``count`` start times spread evenly over the school year's weekdays, 08:00–15:45 local."""
    days = school_days()
    slots_per_day = 32  # every 15 minutes from 08:00 to 15:45
    starts = []
    for i in range(count):
        n = (i * 7919 + offset) % (len(days) * slots_per_day)  # a stride spreads them out
        day, slot = days[n // slots_per_day], n % slots_per_day
        local = datetime(day.year, day.month, day.day, 8, tzinfo=SCHOOL) + slot * timedelta(
            minutes=15
        )
        starts.append(local.astimezone(UTC))
    return starts


def add_lessons(count: int, offset: int, subject, teacher, *, closed_before: datetime) -> None:
    from webinars.choices import ClosedReason, RoomStatus
    from webinars.models import Lesson, Room

    lessons = [
        Lesson(
            subject=subject,
            teacher=teacher,
            title=f"Lesson {offset + i}",
            scheduled_start=start,
            scheduled_end=start + timedelta(minutes=45),
            is_open=(i % 10 == 0),
        )
        for i, start in enumerate(lesson_starts(count, offset))
    ]
    Lesson.objects.bulk_create(lessons, batch_size=5000)
    grace = timedelta(minutes=10)
    rooms = [
        Room(
            lesson_id=lesson.pk,
            jitsi_domain="jitsi.school.edu",
            is_open=lesson.is_open,
            scheduled_start=lesson.scheduled_start,
            scheduled_end=lesson.scheduled_end,
            status=RoomStatus.CLOSED,
            started_at=lesson.scheduled_start,
            ended_at=lesson.scheduled_end + grace,
            closed_reason=ClosedReason.ENDED,
        )
        for lesson in lessons
        if lesson.scheduled_end + grace <= closed_before
    ]
    Room.objects.bulk_create(rooms, batch_size=5000)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure_idle_ticks(label: str, repeats: int = 50, rounds: int = 3) -> float:
    from webinars.models import Lesson
    from webinars.services.tick import maintain_rooms

    warm = maintain_rooms(now=NOW)
    medians, queries, everything = [], 0, []
    for _round in range(rounds):
        timings, queries = _idle_round(repeats, queries)
        medians.append(statistics.median(timings))
        everything += timings
    median = min(medians)
    server = server_side_ms()
    print(
        f"{label}: {Lesson.objects.count():,} lessons; warm-up tick {warm.counts()}; "
        f"nothing-due tick: {queries} queries (BEGIN/COMMIT included), "
        f"median {median:.2f} ms (best of {rounds} rounds of {repeats}; medians "
        + ", ".join(f"{m:.2f}" for m in medians)
        + f"), min {min(everything):.2f} ms, max {max(everything):.2f} ms; "
        f"PostgreSQL planning+execution of its queries: median {server:.3f} ms"
    )
    return median, server


def server_side_ms(repeats: int = 15) -> float:
    """The tick's queries as PostgreSQL itself times them (EXPLAIN ANALYZE): free of the
    client-side scheduling noise of a shared machine, this shows what grows with the data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webinars.services.tick import maintain_rooms

    totals = []
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            maintain_rooms(now=NOW)
        total = 0.0
        for query in captured.captured_queries:
            if not query["sql"].startswith(("SELECT", "UPDATE")):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else plan
                total += plan["Planning Time"] + plan["Execution Time"]
        totals.append(total)
    return statistics.median(totals)


def _idle_round(repeats: int, queries: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webinars.services.tick import maintain_rooms

    timings = []
    for i in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            result = maintain_rooms(now=NOW + timedelta(seconds=i % 20))
            timings.append((time.perf_counter() - began) * 1000)
        assert result.counts() == {"created": 0, "opened": 0, "closed": 0}, result.counts()
        queries = max(queries, len(captured))
        if os.environ.get("BENCH_SHOW_SQL") and i == 0:
            for q in captured.captured_queries:
                print("   ", q["sql"][:3000])
                if q["sql"].startswith("SELECT"):
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN ANALYZE " + q["sql"])
                        print("\n".join("      " + row[0] for row in cursor.fetchall()))
    return timings, queries


def burst_of_1000(subject, teacher) -> dict[str, float]:
    from webinars.models import Lesson, Room
    from webinars.services.tick import maintain_rooms

    start = datetime(2027, 2, 13, 10, 0, tzinfo=SCHOOL).astimezone(UTC)  # a Saturday
    Lesson.objects.bulk_create(
        [
            Lesson(
                subject=subject,
                teacher=teacher,
                title=f"Burst {i}",
                scheduled_start=start,
                scheduled_end=start + timedelta(minutes=45),
            )
            for i in range(1000)
        ]
    )
    analyze()
    settle = maintain_rooms(now=start - timedelta(minutes=16))  # the rest of the week first
    print(f"tick before the burst (the week's backlog): {settle.counts()}")
    figures = {}
    for label, now, key in (
        ("create", start - timedelta(minutes=15), "created"),
        ("open", start, "opened"),
        ("close", start + timedelta(minutes=55), "closed"),
    ):
        began = time.perf_counter()
        result = maintain_rooms(now=now)
        figures[label] = time.perf_counter() - began
        count = result.counts()[key]
        print(
            f"1,000 lessons at one minute: {label} tick {key} {count} rooms in {figures[label]:.2f} s"
        )
        assert count == 1000, result.counts()
    assert Room.objects.filter(scheduled_start=start).count() == 1000
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name.",
    )
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")

    recreate_database(base_url)
    try:
        os.environ["DATABASE_URL"] = f"{base_url}/{DB_NAME}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        rooms_log = logging.getLogger("webinars.rooms")
        rooms_log.setLevel(logging.INFO)  # format every action line, as production does
        rooms_log.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115
        rooms_log.propagate = False

        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated {DB_NAME} in {time.perf_counter() - began:.1f} s")

        from django.contrib.auth.models import User

        from webinars.models import Subject

        subject = Subject.objects.create(name="Mathematics", code="MATH")
        teacher = User.objects.create_user("teacher", password="x")

        began = time.perf_counter()
        add_lessons(10_000, 0, subject, teacher, closed_before=NOW)
        analyze()
        print(f"built 10,000 lessons in {time.perf_counter() - began:.1f} s")
        small, small_server = measure_idle_ticks("10k")

        began = time.perf_counter()
        add_lessons(90_000, 10_000, subject, teacher, closed_before=NOW)
        analyze()
        print(f"built 90,000 more lessons in {time.perf_counter() - began:.1f} s")
        large, large_server = measure_idle_ticks("100k")
        print(
            f"nothing-due tick, 100k / 10k: wall clock {large / small:.2f}x (target ≤ 1.5x); "
            f"PostgreSQL time {large_server / small_server:.2f}x "
            f"({small_server:.3f} → {large_server:.3f} ms)"
        )

        burst = burst_of_1000(subject, teacher)
        print(
            "summary: idle tick {:.2f} ms at 10k, {:.2f} ms at 100k ({:.2f}x); "
            "1,000-room create tick {:.2f} s".format(small, large, large / small, burst["create"])
        )
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(base_url)
        print(f"dropped {DB_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
