"""Benchmark of the register, the personal feed and the notice tick (issue 13), on PostgreSQL.

    .venv/bin/python bench/bench_register.py [--base-url postgres://postgres@127.0.0.1:5432]

Creates its own database ``bench_register`` (dropped first if left over, dropped at the end),
migrates it and fills it with bulk inserts:

1. A term's register for one class: 40 weeks × 5 lessons × 30 students (6,000 register rows),
   each lesson with its closed room and about 6,500 reported sessions (some late, some gone
   early, some absent, some with a reconnect). Measured through the admin as a user sees it:
   Reports → Register filtered to the class's subject and the term (render), and its XLSX and
   CSV exports. Targets: render ≤ 1 s, export ≤ 5 s.
2. A personal calendar feed of 1,000 lessons (``GET /api/calendar/<token>.ics``). Target ≤ 300 ms.
3. The notice tick with nothing to do, at 100,000 lessons: the lessons inside the reminder
   window were reminded by a warm-up tick, so it finds nothing to plan and nothing to send.
   Targets: ≤ 10 queries and ≤ 100 ms.

Wall-clock figures are medians of several runs; the machine is shared, so run it once or twice.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_register"
SCHOOL = ZoneInfo("Europe/Amsterdam")
TERM_START = date(2026, 9, 7)  # a Monday
WEEKS, PER_WEEK, STUDENTS = 40, 5, 30


def admin_connection(base_url: str):
    return psycopg.connect(f"{base_url}/postgres", autocommit=True)


def drop_database(base_url: str) -> None:
    with admin_connection(base_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def recreate_database(base_url: str) -> None:
    drop_database(base_url)
    with admin_connection(base_url) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def timed(func, repeats: int) -> tuple[float, list[float], object]:
    timings, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = func()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), timings, result


# --- 1. A term's register ---------------------------------------------------------------------


def make_term():
    """One class (30 students in one subject) and its 200 lessons of the term, all held."""
    from django.contrib.auth.models import User

    from webinars.choices import AttendanceSource, ClosedReason, RoomStatus
    from webinars.models import Attendance, Enrollment, Lesson, Room, Subject

    subject = Subject.objects.create(name="Mathematics 7B", code="M7B")
    teacher = User.objects.create_user(
        "term-teacher", "tatiana@school.test", first_name="Tatiana", last_name="Ivanova"
    )
    students = User.objects.bulk_create(
        [
            User(
                username=f"student{n:02d}", first_name=f"Student{n:02d}", last_name=f"Family{n:02d}"
            )
            for n in range(STUDENTS)
        ]
    )
    Enrollment.objects.bulk_create([Enrollment(student=s, subject=subject) for s in students])
    lessons = []
    for week in range(WEEKS):
        for day in range(PER_WEEK):
            when = TERM_START + timedelta(weeks=week, days=day)
            start = datetime(when.year, when.month, when.day, 9, tzinfo=SCHOOL).astimezone(UTC)
            lessons.append(
                Lesson(
                    subject=subject,
                    teacher=teacher,
                    title=f"Algebra {week + 1}.{day + 1}",
                    scheduled_start=start,
                    scheduled_end=start + timedelta(minutes=45),
                )
            )
    Lesson.objects.bulk_create(lessons)
    rooms = Room.objects.bulk_create(
        [
            Room(
                lesson=lesson,
                jitsi_domain="jitsi.school.edu",
                scheduled_start=lesson.scheduled_start,
                scheduled_end=lesson.scheduled_end,
                status=RoomStatus.CLOSED,
                started_at=lesson.scheduled_start,
                ended_at=lesson.scheduled_end + timedelta(minutes=10),
                closed_reason=ClosedReason.ENDED,
            )
            for lesson in lessons
        ]
    )
    sessions = []
    for n, (lesson, room) in enumerate(zip(lessons, rooms, strict=True)):
        start = lesson.scheduled_start
        for k, student in enumerate(students):
            kind = (n + k) % 10
            if kind == 0:
                continue  # absent
            joined = start + timedelta(minutes=9 if kind == 1 else k % 4)
            left = start + timedelta(minutes=25 if kind == 2 else 46)
            spans = [(joined, left)]
            if kind == 3:  # a reconnect
                spans = [
                    (joined, start + timedelta(minutes=20)),
                    (start + timedelta(minutes=22), left),
                ]
            for a, b in spans:
                sessions.append(
                    Attendance(
                        room=room,
                        user=student,
                        person_id=str(student.pk),
                        display_name=student.get_full_name(),
                        role="participant",
                        joined_at=a,
                        left_at=b,
                        source=AttendanceSource.JITSI_EVENT,
                        participant_id=f"{room.pk}-{student.pk}-{a:%M}",
                    )
                )
    Attendance.objects.bulk_create(sessions, batch_size=5000)
    return subject, len(lessons) * STUDENTS, len(sessions)


def bench_register(client, subject) -> dict:
    last = TERM_START + timedelta(weeks=WEEKS)
    query = f"subject={subject.pk}&scheduled_start_from={TERM_START}&scheduled_start_to={last}"

    def page():
        response = client.get(f"/admin/reports/register/?{query}")
        assert response.status_code == 200, response.status_code
        return response

    def export(kind: str):
        def run():
            response = client.get(f"/admin/reports/register/?{query}&export={kind}")
            assert response.status_code == 200, response.status_code
            return b"".join(response.streaming_content)

        return run

    render_ms, renders, response = timed(page, 5)
    assert "6000 items" in " ".join(response.content.decode().split()).replace(",", ""), "rows"
    xlsx_ms, _x, body = timed(export("xlsx"), 3)
    csv_ms, _c, text = timed(export("csv"), 3)
    rows = text.decode().count("\n") - 1
    print(
        f"term register ({rows:,} rows): admin report page median {render_ms:.0f} ms "
        f"(runs {', '.join(f'{t:.0f}' for t in renders)}); XLSX export {xlsx_ms:.0f} ms "
        f"({len(body) / 1024:.0f} KiB); CSV export {csv_ms:.0f} ms"
    )
    return {"render": render_ms, "xlsx": xlsx_ms, "csv": csv_ms}


# --- 2. A personal feed of 1,000 events -------------------------------------------------------


def bench_feed(client) -> float:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from webinars.models import Enrollment, Lesson, Subject
    from webinars.services.calendars import calendar_token_for

    reader = User.objects.create_user("feed-reader", first_name="Fedor", last_name="Feeds")
    teacher = User.objects.get(username="term-teacher")
    subjects = Subject.objects.bulk_create(
        [Subject(name=f"Feed {n}", code=f"F{n}") for n in range(5)]
    )
    Enrollment.objects.bulk_create([Enrollment(student=reader, subject=s) for s in subjects])
    now = timezone.now()
    Lesson.objects.bulk_create(
        [
            Lesson(
                subject=subjects[n % 5],
                teacher=teacher,
                title=f"Feed lesson {n}",
                scheduled_start=now + timedelta(days=-55 + (n * 200) // 1000, hours=n % 7),
                scheduled_end=now
                + timedelta(days=-55 + (n * 200) // 1000, hours=n % 7, minutes=45),
                is_cancelled=n % 50 == 0,
            )
            for n in range(1000)
        ]
    )
    token = calendar_token_for(user=reader).token

    def feed():
        response = client.get(f"/api/calendar/{token}.ics")
        assert response.status_code == 200
        return response.content

    median, runs, body = timed(feed, 9)
    events = body.count(b"BEGIN:VEVENT")
    assert events == 1000, events
    print(
        f"personal feed of {events:,} events ({len(body) / 1024:.0f} KiB): median {median:.0f} ms "
        f"(runs {', '.join(f'{t:.0f}' for t in runs)})"
    )
    return median


# --- 3. The idle notice tick at 100,000 lessons -----------------------------------------------


def fill_timetable(total: int) -> datetime:
    """Lessons every school day 08:00–15:45 over a year, to ``total`` lessons; returns a "now"
    (a Wednesday 09:40) with lessons inside the reminder window."""
    from django.contrib.auth.models import User

    from webinars.models import Lesson, Subject

    teacher = User.objects.get(username="term-teacher")
    subject = Subject.objects.create(name="Everything", code="ALL")
    existing = Lesson.objects.count()
    days = [date(2026, 9, 1) + timedelta(days=n) for n in range(365)]
    days = [d for d in days if d.weekday() < 5]
    slots = [(h, m) for h in range(8, 16) for m in (0, 15, 30, 45)]
    batch, made, n = [], existing, 0
    while made < total:
        day, (hour, minute) = days[n % len(days)], slots[(n // len(days)) % len(slots)]
        start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=SCHOOL).astimezone(UTC)
        batch.append(
            Lesson(
                subject=subject,
                teacher=teacher,
                title=f"Timetable {n}",
                scheduled_start=start,
                scheduled_end=start + timedelta(minutes=45),
            )
        )
        made, n = made + 1, n + 1
        if len(batch) == 5000:
            Lesson.objects.bulk_create(batch)
            batch = []
    Lesson.objects.bulk_create(batch)
    return datetime(2027, 2, 10, 9, 40, tzinfo=SCHOOL).astimezone(UTC)


def bench_tick(now: datetime) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webinars.models import Lesson, Notice
    from webinars.services.notices import notices_tick

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    began = time.perf_counter()
    warm = notices_tick(now=now)
    warm_ms = (time.perf_counter() - began) * 1000
    timings, queries = [], 0
    for i in range(40):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            result = notices_tick(now=now + timedelta(seconds=i % 30))
            timings.append((time.perf_counter() - began) * 1000)
        assert result == {"planned": 0, "sent": 0}, result
        queries = max(queries, len(captured))
    median = statistics.median(timings)
    print(
        f"notice tick at {Lesson.objects.count():,} lessons: warm-up planned {warm['planned']} and "
        f"sent {warm['sent']} reminders in {warm_ms:.0f} ms ({Notice.objects.count()} notices); "
        f"idle tick {queries} queries (BEGIN/COMMIT included), median {median:.2f} ms, "
        f"min {min(timings):.2f}, max {max(timings):.2f}"
    )
    return queries, median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name.",
    )
    parser.add_argument("--lessons", type=int, default=100_000, help="timetable size for the tick")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")

    recreate_database(base_url)
    try:
        os.environ["DATABASE_URL"] = f"{base_url}/{DB_NAME}"
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        setup_test_environment()  # the locmem mail backend, as the test settings say
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated {DB_NAME} in {time.perf_counter() - began:.1f} s")

        subject, register_rows, sessions = make_term()
        print(f"term: {register_rows:,} register rows from {sessions:,} sessions")
        admin = User.objects.create_superuser("bench-admin", "admin@school.test", "x")
        client = Client()
        client.force_login(admin)
        figures = bench_register(client, subject)
        feed_ms = bench_feed(Client())
        now = fill_timetable(args.lessons)
        queries, tick_ms = bench_tick(now)

        verdicts = {
            "register render ≤ 1 s": figures["render"] <= 1000,
            "register export ≤ 5 s": max(figures["xlsx"], figures["csv"]) <= 5000,
            "personal feed ≤ 300 ms": feed_ms <= 300,
            "idle tick ≤ 10 queries": queries <= 10,
            "idle tick ≤ 100 ms": tick_ms <= 100,
        }
        for label, ok in verdicts.items():
            print(f"{'PASS' if ok else 'MISS'}  {label}")
        return 0 if all(verdicts.values()) else 1
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(base_url)


if __name__ == "__main__":
    sys.exit(main())
