"""Public pages on PostgreSQL + gunicorn: query counts and latency (issue 6).

    .venv/bin/python bench/bench_pages.py [--requests 200]

What it does, bounded and cleaned up at the end (``harness``):
1. a fresh PostgreSQL database ``bench_pages`` (dropped afterwards), migrated, on the bench
   settings over production's (DEBUG off, cached template loader, secure cookies; only the
   HTTPS redirect off: ``SECURE_SSL_REDIRECT=0``), JWT on, the anonymous throttle raised, with
   the bench urlconf's trivial Django view (``GET /bench/ping/``) in front of the portal's
   urls (production's urls stay untouched);
2. seeds 10,000 lessons over a week (20 subjects, 50 teachers) with an OpenLessonsPage;
   phase "10 open": 10 open lessons in the next 48 h; phase "2000 open": 2,000 open;
3. per phase, in this process (Django test client, same database): query counts of
   ``GET /api/rooms/open-lessons/`` (first call and steady state; the opened lessons' rooms
   are created beforehand as the scheduler creates them, ``lesson_rooms_create_due``: reads
   never create rooms), the open-lessons page, a join page, and Wagtail's own cost for
   serving the home page (the baseline the pages are compared with);
4. per phase, under gunicorn (2 sync workers, 127.0.0.1): the median and p90 latency of
   the feed API (cached, as served, and uncached), the open-lessons page, a join page,
   Wagtail's home page and the trivial view, sequential requests on fresh connections,
   interleaved so machine noise hits all alike.

The environment reaches the settings as in production, e.g. ``JOIN_PAGE_CACHE_SECONDS=10``
measures join pages served from the per-link cache (the query counts stay the database path's:
each page is counted on its first request).

The cache is Redis, as in production, when it answers at ``BENCH_REDIS_URL`` (else the
database cache table); the first line printed names it.

Targets: feed ≤ 6 queries at both sizes; page and join queries the same at both sizes and at
most Wagtail's baseline + 6; median latency ≤ 3× the trivial view's. The machine is shared,
so latencies are noisy: run it once or twice.
"""

import argparse
import os
import sys
import time

from harness import bench_database, gunicorn, interleaved_latencies, redis_cache_env

DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_pages")
TOTAL_LESSONS = 10_000
# Production's settings minus the HTTPS redirect (TLS ends at the proxy, not benchmarked), Jitsi
# JWT on; the environment's own variables reach the settings as in production.
SETTINGS_ENV = {
    "SECURE_SSL_REDIRECT": "0",
    "JITSI_JWT_ENABLED": "1",
    "JITSI_JWT_SECRET": "bench-jitsi-secret-at-least-32-bytes-long",
}


def seed() -> dict:
    """10,000 lessons over a week around now, none open yet; the site's page tree."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone
    from wagtail.models import Page

    from webinars.models import Lesson, Subject
    from webinars.pages import OpenLessonsPage

    home = Page.objects.get(depth=2, slug="home")
    home.add_child(instance=OpenLessonsPage(title="Open lessons", slug="open-lessons"))
    subjects = Subject.objects.bulk_create(
        Subject(name=f"Subject {n}", code=f"S{n}") for n in range(20)
    )
    teachers = User.objects.bulk_create(
        User(username=f"teacher{n}", first_name="T", last_name=f"Eacher {n}") for n in range(50)
    )
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(days=3)
    lessons = []
    for n in range(TOTAL_LESSONS):
        begins = start + timedelta(minutes=n)  # one a minute: ~7 days, ~2,800 in the window
        lessons.append(
            Lesson(
                subject=subjects[n % len(subjects)],
                teacher=teachers[n % len(teachers)],
                title=f"Lesson {n}",
                scheduled_start=begins,
                scheduled_end=begins + timedelta(minutes=45),
            )
        )
    Lesson.objects.bulk_create(lessons, batch_size=2000)
    return {"now": now}


def open_lessons(count: int) -> None:
    """Make the first ``count`` lessons starting between now + 30 min and now + 47 h open, and
    give them their rooms as the scheduler's tick does."""
    from datetime import timedelta

    from django.utils import timezone

    from webinars.models import Lesson
    from webinars.services.rooms import lesson_rooms_create_due

    now = timezone.now()
    ids = list(
        Lesson.objects.filter(
            scheduled_start__gte=now + timedelta(minutes=30),
            scheduled_start__lte=now + timedelta(hours=47),
        )
        .order_by("scheduled_start")
        .values_list("pk", flat=True)[:count]
    )
    assert len(ids) == count, f"only {len(ids)} lessons in the window"
    Lesson.objects.filter(pk__in=ids).update(is_open=True)
    lesson_rooms_create_due(now=now, batch=1000)


def query_counts() -> dict:
    """Queries per request, measured with the test client against the bench database."""
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from webinars.models import Room

    client = Client()
    cached_for = settings.OPEN_LESSONS_CACHE_SECONDS

    def count(path: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        return len(ctx.captured_queries), response.status_code

    cache.clear()
    client.get("/")  # warm the cached navigation and Wagtail's site lookup
    figures = {}
    # The feed's short cache would answer from memory: count the database path.
    settings.OPEN_LESSONS_CACHE_SECONDS = 0
    figures["feed_api_first"], _ = count("/api/rooms/open-lessons/")
    figures["feed_api"], status = count("/api/rooms/open-lessons/")
    assert status == 200, status
    figures["feed_items"] = len(client.get("/api/rooms/open-lessons/").json())
    figures["open_lessons_page"], status = count("/open-lessons/")
    assert status == 200, status
    slug = Room.objects.filter(is_open=True).order_by("scheduled_start").last().public_slug
    figures["join_page"], status = count(f"/join/{slug}/")
    assert status == 200, status
    figures["wagtail_home_page"], _ = count("/")
    figures["slug"] = slug
    settings.OPEN_LESSONS_CACHE_SECONDS = cached_for
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per path and phase")
    args = parser.parse_args()

    cache, cache_name = redis_cache_env()
    print(f"cache: {cache_name}")
    started = time.monotonic()
    with bench_database(
        DB_NAME, base_settings="portal.settings.production", extra_env={**SETTINGS_ENV, **cache}
    ) as env:
        seed()
        print(f"database ready: {TOTAL_LESSONS} lessons ({time.monotonic() - started:.0f} s)")

        with gunicorn(env, workers=2, timeout=30) as port:
            results = {}
            for phase, count in (("10 open", 10), ("2000 open", 2000)):
                open_lessons(count)
                figures = query_counts()
                paths = {
                    "trivial view": "/bench/ping/",
                    "Wagtail home page": "/",
                    "feed API": "/api/rooms/open-lessons/",
                    "feed API, uncached": "/api/rooms/open-lessons/?since_hours=0.1667{n}",
                    "open-lessons page": "/open-lessons/",
                    "join page": f"/join/{figures['slug']}/",
                }
                calls = {name: (path, None) for name, path in paths.items()}
                results[phase] = (figures, interleaved_latencies(port, calls, args.requests))
                from django.db import connection

                connection.close()

        from django.conf import settings

        print(
            f"OPEN_LESSONS_CACHE_SECONDS={settings.OPEN_LESSONS_CACHE_SECONDS}, "
            f"JOIN_PAGE_CACHE_SECONDS={settings.JOIN_PAGE_CACHE_SECONDS} (from the environment)"
        )
        print()
        print("queries per request (PostgreSQL)      10 open   2000 open")
        rows = [
            ("feed API, first call", "feed_api_first"),
            ("feed API", "feed_api"),
            ("feed items returned", "feed_items"),
            ("open-lessons page", "open_lessons_page"),
            ("join page", "join_page"),
            ("Wagtail home page (baseline)", "wagtail_home_page"),
        ]
        for label, key in rows:
            small, large = results["10 open"][0][key], results["2000 open"][0][key]
            print(f"  {label:<36} {small:>7}   {large:>9}")
        print()
        print(f"latency under gunicorn, ms (median / p90, {args.requests} requests each)")
        for phase, (_figures, timing) in results.items():
            trivial = timing["trivial view"][0]
            print(f"  {phase}:")
            for name, (median, p90) in timing.items():
                ratio = median / trivial if trivial else float("nan")
                print(f"    {name:<22} {median:7.2f} / {p90:7.2f}   {ratio:5.1f}× trivial")
        small, large = results["10 open"][0], results["2000 open"][0]
        checks = {
            "feed API ≤ 6 queries at both sizes": max(
                small["feed_api_first"], large["feed_api_first"]
            )
            <= 6,
            "open-lessons page queries constant": small["open_lessons_page"]
            == large["open_lessons_page"],
            "join page queries constant": small["join_page"] == large["join_page"],
            "pages ≤ Wagtail baseline + 6": max(small["open_lessons_page"], small["join_page"])
            <= small["wagtail_home_page"] + 6,
        }
        for phase, (_figures, timing) in results.items():
            trivial = timing["trivial view"][0]
            for name in ("feed API", "open-lessons page", "join page"):
                checks[f"{phase}: {name} median ≤ 3× trivial"] = timing[name][0] <= 3 * trivial
            wagtail = timing["Wagtail home page"][0]
            for name in ("open-lessons page", "join page"):
                checks[f"{phase}: {name} median ≤ 3× Wagtail's home page"] = (
                    timing[name][0] <= 3 * wagtail
                )
        print()
        for label, ok in checks.items():
            print(f"  [{'ok' if ok else 'MISSED'}] {label}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
