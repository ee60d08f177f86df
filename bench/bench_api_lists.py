"""The API's lists and the open-lessons feed on PostgreSQL + gunicorn (issue 14).

    .venv/bin/python bench/bench_api_lists.py [--requests 100]

What it does, in one run, bounded and cleaned up at the end (``harness``):
1. a fresh PostgreSQL database ``bench_api_lists`` (dropped afterwards), migrated, on the bench
   settings (the portal's base settings, DEBUG off; the feed's cache bypassed on every request:
   ``OPEN_LESSONS_CACHE_SECONDS=0``) with the two baselines in front of the portal's urls: a
   trivial Django view and a trivial authenticated DRF endpoint;
2. seeds 100,000 lessons (20 subjects, 50 teachers, 30 classes; 98,000 over two school years
   around now and 2,000 open ones with their rooms in the next 47 hours), a school-staff user
   (Director) and a student of one class enrolled in one subject, both with API tokens; then
   ``VACUUM ANALYZE`` (as autovacuum would have by then);
3. in this process (DRF's test client, same database): queries per request of
   ``GET /api/lessons/`` at ``page_size`` 10 and 50, as staff and as the student (must be
   equal; after one first page, which also counts the lessons: later pages take the count
   kept under the lessons' stamp, ``webinars.selectors.lesson_counts``), and of the feed;
4. under gunicorn (2 sync workers, 127.0.0.1), sequential requests on fresh connections,
   interleaved: the median and p90 of the trivial authenticated endpoint,
   ``GET /api/lessons/?page_size=50`` as staff (every lesson: counts 100,000) and as the
   student, the trivial Django view and ``GET /api/rooms/open-lessons/`` (2,000 items, uncached).

The cache (throttles): production runs Redis (``REDIS_URL``; docker-compose.yml, docs/operations.md),
so the bench does too when ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) answers a
PING; else it falls back to the database cache table (the feed's anonymous throttle then costs
five queries and a commit per request) and says so. The first line printed names the cache used.

Targets: lessons at page_size 50 median ≤ 3× the trivial authenticated endpoint, queries per
page equal at 10 and 50; the uncached feed median ≤ 20× the trivial view. The machine is
shared: wall-clock figures are noisy, run it once or twice.
"""

import argparse
import sys
from datetime import timedelta

from harness import bench_database, gunicorn, interleaved_latencies, redis_cache_env

DB_NAME = "bench_api_lists"
TOTAL_LESSONS, OPEN_LESSONS = 100_000, 2_000
SUBJECTS, TEACHERS, CLASSES = 20, 50, 30


def seed() -> dict:
    """The school (module docstring); answers the two callers' API tokens."""
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from webinars.models import Enrollment, Lesson, SchoolClass, Subject
    from webinars.people import STUDENTS
    from webinars.people import TEACHERS as TEACHERS_GROUP
    from webinars.services.rooms import lesson_rooms_create_due

    subjects = Subject.objects.bulk_create(
        Subject(name=f"Subject {n}", code=f"S{n}") for n in range(SUBJECTS)
    )
    teachers = User.objects.bulk_create(
        User(username=f"teacher{n}", first_name="Teacher", last_name=f"No. {n}")
        for n in range(TEACHERS)
    )
    Group.objects.get_or_create(name=TEACHERS_GROUP)[0].user_set.add(*teachers)
    classes = SchoolClass.objects.bulk_create(
        SchoolClass(name=f"{7 + n // 10}{chr(65 + n % 10)}") for n in range(CLASSES)
    )
    staff = User.objects.create_user("director", first_name="Dana", last_name="Director")
    staff.groups.add(Group.objects.get_or_create(name="Director")[0])
    student = User.objects.create_user("student", first_name="Sam", last_name="Student")
    student.groups.add(Group.objects.get_or_create(name=STUDENTS)[0])
    classes[0].students.add(student)
    Enrollment.objects.create(student=student, subject=subjects[1])

    now = timezone.now().replace(second=0, microsecond=0)
    lessons = []
    spread = TOTAL_LESSONS - OPEN_LESSONS
    first = now - timedelta(days=365)
    for n in range(TOTAL_LESSONS):
        if n < spread:  # two school years around now, every ~10 minutes
            begins = first + timedelta(minutes=n * 2 * 365 * 24 * 60 // spread)
        else:  # the open ones: from now + 30 min, every ~84 s for 47 hours
            begins = now + timedelta(minutes=30, seconds=(n - spread) * 47 * 3600 // OPEN_LESSONS)
        lessons.append(
            Lesson(
                subject=subjects[n % SUBJECTS],
                teacher=teachers[n % TEACHERS],
                school_class=classes[n % CLASSES] if n % 4 else None,
                title=f"Lesson {n}",
                scheduled_start=begins,
                scheduled_end=begins + timedelta(minutes=45),
                is_open=n >= spread,
            )
        )
    Lesson.objects.bulk_create(lessons, batch_size=5000)
    lesson_rooms_create_due(now=now, batch=1000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return seeded_tokens()


def seeded_tokens() -> dict:
    """Fresh API tokens of the school-staff user and the student (keys are shown only once)."""
    from django.contrib.auth.models import User

    from webinars.services.tokens import api_token_issue

    return {
        who: api_token_issue(user=User.objects.get(username=username))[1]
        for who, username in (("staff", "director"), ("student", "student"))
    }


def query_counts(tokens: dict) -> dict:
    """Queries per request with DRF's test client (same database, same settings)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    figures = {}
    for who, token in tokens.items():
        client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
        client.get("/bench/ping-api/")  # a token's first use is noted (a write): not counted
        client.get("/api/lessons/?page_size=10")  # the count is kept from now on (lesson_counts)
        for size in (10, 50):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/api/lessons/?page_size={size}")
            assert response.status_code == 200, response.content
            body = response.json()
            assert len(body["results"]) == size
            figures[(who, size)] = (len(queries), body["count"])
    client = APIClient()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/rooms/open-lessons/")
    assert response.status_code == 200
    figures["feed"] = (len(queries), len(response.json()))
    connection.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="requests per path")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="take the kept database as it is")
    args = parser.parse_args()

    cache, cache_name = redis_cache_env()
    print(f"cache: {cache_name}")
    with bench_database(
        DB_NAME,
        extra_env={"OPEN_LESSONS_CACHE_SECONDS": "0", **cache},
        keep=args.keep,
        reuse=args.reuse,
    ) as env:
        tokens = seeded_tokens() if args.reuse else seed()
        counts = query_counts(tokens)
        print(f"{TOTAL_LESSONS:,} lessons, {OPEN_LESSONS:,} open in the feed's window")
        print("\nqueries per request (PostgreSQL)")
        for who in tokens:
            small, large = counts[(who, 10)], counts[(who, 50)]
            print(
                f"  GET /api/lessons/ as {who:<8} page_size 10: {small[0]}, page_size 50: "
                f"{large[0]} (count {large[1]:,})"
            )
        print(
            f"  GET /api/rooms/open-lessons/        {counts['feed'][0]} ({counts['feed'][1]} items)"
        )

        with gunicorn(env, workers=2) as port:
            calls = {
                "trivial authenticated": ("/bench/ping-api/", tokens["staff"]),
                "lessons, staff": ("/api/lessons/?page_size=50", tokens["staff"]),
                "lessons, student": ("/api/lessons/?page_size=50", tokens["student"]),
                "trivial view": ("/bench/ping/", None),
                "feed, uncached": ("/api/rooms/open-lessons/", None),
            }
            timing = interleaved_latencies(port, calls, args.requests)

        print(f"\nlatency under gunicorn, ms (median / p90, {args.requests} requests each)")
        bases = {
            "trivial authenticated": "trivial authenticated",
            "lessons, staff": "trivial authenticated",
            "lessons, student": "trivial authenticated",
            "trivial view": "trivial view",
            "feed, uncached": "trivial view",
        }
        for name, (median, p90) in timing.items():
            base = bases[name]
            ratio = median / timing[base][0]
            print(f"  {name:<24} {median:7.2f} / {p90:7.2f}   {ratio:5.1f}× {base}")

        auth = timing["trivial authenticated"][0]
        checks = {
            "lessons (staff) median ≤ 3× trivial authenticated": timing["lessons, staff"][0]
            <= 3 * auth,
            "lessons (student) median ≤ 3× trivial authenticated": timing["lessons, student"][0]
            <= 3 * auth,
            "queries per page equal at page_size 10 and 50": all(
                counts[(who, 10)][0] == counts[(who, 50)][0] for who in tokens
            ),
            "feed (2,000, uncached) median ≤ 20× trivial view": timing["feed, uncached"][0]
            <= 20 * timing["trivial view"][0],
        }
        print()
        for label, ok in checks.items():
            print(f"  [{'ok' if ok else 'MISSED'}] {label}")
        return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
