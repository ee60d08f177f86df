"""Benchmark of the timetable import and the admin lesson list (issue "The school as it is").

    .venv/bin/python bench/bench_timetable.py [--base-url postgres://postgres@127.0.0.1:5432]

Creates its own PostgreSQL database ``bench_timetable`` (dropped first if left over, dropped
again at the end), migrates it, then:

1. makes 40 teachers, 30 classes and 10 subjects, and a timetable file of 200 weekly series
   over 40 weeks (8,000 lessons; no clashes) — CSV, read through tablib like any upload;
2. imports it (``timetable_import``, the service behind the command and the admin page) and
   times it; imports it again and checks that nothing changed (no row's ``updated_at`` moves);
3. adds bulk-inserted lessons up to 100,000 (a few past school years of the same teachers and
   classes), then requests the admin lesson list as a superuser (Django test client, same
   database, production-like cached templates off) with its default order and each filter:
   queries per request and the median of 15 requests, at 8,000 and at 100,000 lessons.

Targets: first import ≤ 60 s; second ≤ 30 s and nothing changes; lesson list and filters
median ≤ 500 ms at 100,000 lessons with the same number of queries as at 8,000.
The machine is shared: wall-clock figures are noisy, run it once or twice.
"""

import argparse
import csv
import io
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_timetable"
SERIES, WEEKS, CLASSES, TEACHERS, SUBJECTS = 200, 40, 30, 40, 10
TOTAL_LESSONS = 100_000


def admin_sql(base_url: str, statement: str) -> None:
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def timetable_csv(first_monday, teachers, classes, subjects) -> bytes:
    """200 series: class c, slot s (weekday, period); the teacher of (c, s) is unique per slot."""
    last = first_monday + timedelta(weeks=WEEKS) - timedelta(days=1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "subject",
            "class",
            "teacher",
            "weekday",
            "start",
            "end",
            "first_date",
            "last_date",
            "open",
            "ref",
        ]
    )
    for i in range(SERIES):
        c, slot = i % CLASSES, i // CLASSES
        weekday, period = slot % 5 + 1, slot // 5
        start = datetime(2000, 1, 1, 8, 30) + timedelta(minutes=55 * period)
        writer.writerow(
            [
                subjects[i % SUBJECTS].code,
                classes[c].name,
                teachers[(c + 7 * slot) % TEACHERS].username,
                weekday,
                f"{start:%H:%M}",
                f"{start + timedelta(minutes=45):%H:%M}",
                first_monday.isoformat(),
                last.isoformat(),
                "yes" if i % 10 == 0 else "no",
                f"TT-{i:03d}",
            ]
        )
    return out.getvalue().encode()


def timed_import(content: bytes, now) -> tuple[float, object]:
    from webinars.services.imports import timetable_import

    began = time.perf_counter()
    report = timetable_import(content=content, filename="timetable.csv", now=now)
    return time.perf_counter() - began, report


def fill_to(total: int, teachers, classes, subjects, now) -> None:
    """Older school years: lessons a week apart per (class, slot), as generated ones would be."""
    from webinars.models import Lesson

    missing = total - Lesson.objects.count()
    batch, made = [], 0
    start = now - timedelta(days=3 * 365)
    while made < missing:
        for i in range(SERIES):
            if made >= missing:
                break
            c, slot = i % CLASSES, i // CLASSES
            when = start + timedelta(days=slot % 5, minutes=55 * (slot // 5))
            batch.append(
                Lesson(
                    subject=subjects[i % SUBJECTS],
                    school_class=classes[c],
                    teacher=teachers[(c + 7 * slot) % TEACHERS],
                    title=f"Archive {made}",
                    scheduled_start=when,
                    scheduled_end=when + timedelta(minutes=45),
                    is_open=made % 10 == 0,
                )
            )
            made += 1
        start += timedelta(weeks=1)
        if len(batch) >= 5000:
            Lesson.objects.bulk_create(batch)
            batch = []
    Lesson.objects.bulk_create(batch)


def database_ms(executed) -> float:
    """Planning + execution time PostgreSQL reports for a request's SELECTs (EXPLAIN ANALYZE):
    what the database costs, apart from the shared machine's scheduling noise."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in executed:
            if sql.startswith("SELECT"):
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0][0]
                total += plan["Planning Time"] + plan["Execution Time"]
    return total


def measure_list(client, label: str, teachers, classes, subjects) -> dict:
    from django.db import connection

    today = datetime.now(UTC).date()
    requests = {
        "default (upcoming first)": {},
        "subject": {"subject": subjects[3].pk},
        "teacher": {"teacher": teachers[5].pk},
        "class": {"school_class": classes[7].pk},
        "date range": {
            "scheduled_start_from": today.isoformat(),
            "scheduled_start_to": (today + timedelta(days=30)).isoformat(),
        },
        "open": {"is_open": "true"},
        "search": {"q": "No7"},  # a teacher's surname: found at both sizes
        "sorted by start": {"ordering": "-scheduled_start"},
    }
    figures = {}
    for name, params in requests.items():
        executed = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get("/admin/lessons/", params)
        assert response.status_code == 200, (name, response.status_code)
        timings = []
        for _ in range(15):
            began = time.perf_counter()
            client.get("/admin/lessons/", params)
            timings.append((time.perf_counter() - began) * 1000)
        figures[name] = (len(executed), statistics.median(timings))
        print(
            f"  {label} {name:>26}: {figures[name][0]} queries, median {figures[name][1]:.0f} ms;"
            f" PostgreSQL's own time for them {database_ms(executed):.1f} ms"
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the database afterwards (to look into it)."
    )
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    admin_sql(base_url, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(base_url, f'CREATE DATABASE "{DB_NAME}"')
    try:
        os.environ["DATABASE_URL"] = f"{base_url}/{DB_NAME}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from webinars.models import Lesson, SchoolClass, Subject

        call_command("migrate", verbosity=0)
        group = Group.objects.get(name="Teachers")
        teachers = [
            User.objects.create_user(f"teacher{n:02d}", first_name="T", last_name=f"No{n}")
            for n in range(TEACHERS)
        ]
        group.user_set.add(*teachers)
        classes = [
            SchoolClass.objects.create(name=f"{5 + n // 6}{'ABCDEF'[n % 6]}")
            for n in range(CLASSES)
        ]
        subjects = [
            Subject.objects.create(name=f"Subject {n}", code=f"S{n}") for n in range(SUBJECTS)
        ]
        now = datetime.now(UTC)
        today = now.date()
        first_monday = today + timedelta(days=7 - today.weekday())
        content = timetable_csv(first_monday, teachers, classes, subjects)

        seconds, report = timed_import(content, now)
        assert report.written, report.text()
        print(f"import 1: {seconds:.1f} s (target ≤ 60 s) — " + "; ".join(report.lines))
        stamp = Lesson.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0]
        lessons = Lesson.objects.count()

        seconds, report = timed_import(content, now)
        unchanged = (
            Lesson.objects.count() == lessons
            and Lesson.objects.order_by("-updated_at").values_list("updated_at", flat=True)[0]
            == stamp
        )
        print(
            f"import 2: {seconds:.1f} s (target ≤ 30 s) — "
            + "; ".join(report.lines)
            + f"; nothing changed: {unchanged}"
        )

        admin = User.objects.create_superuser("admin", password="x")
        client = Client()
        client.force_login(admin)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings = []
        for _ in range(15):
            began = time.perf_counter()
            client.get("/admin/subjects/")
            timings.append((time.perf_counter() - began) * 1000)
        print(f"baseline: the 10-row subject list, median {statistics.median(timings):.0f} ms")
        print(f"admin lesson list at {Lesson.objects.count():,} lessons:")
        small = measure_list(client, "8k", teachers, classes, subjects)

        began = time.perf_counter()
        fill_to(TOTAL_LESSONS, teachers, classes, subjects, now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"filled to {Lesson.objects.count():,} lessons in {time.perf_counter() - began:.1f} s"
        )
        large = measure_list(client, "100k", teachers, classes, subjects)
        same_queries = all(small[name][0] == large[name][0] for name in small)
        worst = max(ms for _queries, ms in large.values())
        print(
            f"summary: worst median at 100k {worst:.0f} ms (target ≤ 500 ms); "
            f"same query counts at 8k and 100k: {same_queries}"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(base_url, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            print(f"dropped {DB_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
