"""How many lessons a list holds: ``lessons_count``, the count of ``GET /api/lessons/``'s pages.

Why a trick: DRF's page-number pagination answers ``count`` with every page, and PostgreSQL
counts 100,000 lessons in 5–8 ms each time (an index-only scan of every row): more than all
the rest of a page of 50 (bench/bench_api_lists.py). Lessons change a few times a day (the
admin, imports, series); a school's apps page through them all day.

How: PostgreSQL keeps a stamp of the lessons table's committed state — the one row of
``webinars_lessons_version`` gets a fresh UUID in every transaction that writes lessons, at
commit and atomically with the rows, and at every TRUNCATE (migration 0011: a deferred
trigger, so whoever writes, however, the stamp follows). A count is kept in Django's cache
under the stamp and the list's query. A page reads the stamp (one indexed row) and finds its
count kept, or counts and reads the stamp in one statement — one snapshot, so the count
is the one of the stamp kept with it. A kept count is therefore never stale (a UUID, not a
counter, so that a database restored from a backup cannot meet counts of another history),
and each process keeps its own (Django's ``per_process`` cache, in memory: no round trip to
the shared cache; a few workers each counting once per change is nothing).

The plain ``count()`` is used instead on other databases (SQLite: development and tests),
inside a transaction (its own writes are not stamped before it commits), and for a query that
reads any table besides the lessons (a filter on a subject's code: the stamp does not cover
subjects). tests/webinars/test_lesson_counts.py proves it equal to the plain count on
PostgreSQL after every kind of write, with an uncommitted writer alongside.
"""

import hashlib

from django.core.cache import caches
from django.db import connections
from django.db.models import QuerySet

from webinars.models import Lesson

STAMP_TABLE = "webinars_lessons_version"
KEPT_SECONDS = 3600


def _reads_only_lessons(sql: str) -> bool:
    """Whether a compiled query reads the lessons table and nothing else (no join, no
    subquery: one FROM). A false "no" only costs the plain count."""
    return (
        sql.count(" FROM ") == 1
        and " JOIN " not in sql
        and f' FROM "{Lesson._meta.db_table}"' in sql
    )


def _key(stamp, sql: str, params) -> str:
    digest = hashlib.sha256(repr((str(stamp), sql, tuple(params))).encode()).hexdigest()[:32]
    return f"portal:lessons-count:{digest}"


def lessons_stamp(connection):
    """The lessons' stamp on ``connection`` (PostgreSQL), or None when its row was removed."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT version FROM "{STAMP_TABLE}"')  # noqa: S608 - a constant
        row = cursor.fetchone()
    return None if row is None else row[0]


def lessons_count(lessons: QuerySet) -> int:
    """``lessons.count()``, kept under the lessons' stamp where that is exact (module docstring)."""
    connection = connections[lessons.db]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return lessons.count()
    sql, params = lessons.order_by().values("pk").query.sql_with_params()
    if not _reads_only_lessons(sql):
        return lessons.count()
    stamp = lessons_stamp(connection)
    if stamp is None:  # the stamp's row was removed by hand: nothing can be kept
        return lessons.count()
    count = caches["per_process"].get(_key(stamp, sql, params))
    if count is not None:
        return count
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT v.version, (SELECT COUNT(*) FROM ({sql}) q) FROM "{STAMP_TABLE}" v',  # noqa: S608 - the ORM's query, values as parameters
            params,
        )
        stamp, count = cursor.fetchone()
    caches["per_process"].set(_key(stamp, sql, params), count, KEPT_SECONDS)
    return count
