"""Reads behind the open-lessons feed (API) and the open-lessons page."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from webinars.choices import RecordingStatus, RoomStatus, RoomType
from webinars.models import Lesson, Recording, Room, Subject

# --- Open-lessons feed and listings (docs/public-pages.md) ---------------------------------


def _open_lessons_in_window(*, now: datetime, hours: float, since_hours: float, show_all: bool):
    """Open, not cancelled lessons with a room, overlapping ``[now − since_hours, now + hours]``.

    Overlap rather than "starts inside" so a lesson that began an hour ago and is live now stays
    in the feed; ``show_all`` drops the window (``all=1``). Lessons without a room are
    left out: reads never create one (open lessons get theirs when saved or when they enter the
    horizon, see docs/lifecycle.md).
    """
    lessons = Lesson.objects.filter(is_open=True, is_cancelled=False, room__isnull=False)
    if not show_all:
        lessons = lessons.filter(
            scheduled_end__gte=now - timedelta(hours=since_hours),
            scheduled_start__lte=now + timedelta(hours=hours),
        )
    return lessons.select_related("subject", "teacher", "room").order_by("scheduled_start", "id")


def open_lessons_feed(
    *,
    now: datetime | None = None,
    hours: float | None = None,
    since_hours: float = 10 / 60,
    show_all: bool = False,
) -> list[Room]:
    """Rooms of the open lessons in the window, lesson/subject/teacher joined.

    One query whatever the data size, and no writes.
    """
    now = now or timezone.now()
    hours = settings.OPEN_LESSONS_HORIZON_HOURS if hours is None else hours
    lessons = list(
        _open_lessons_in_window(now=now, hours=hours, since_hours=since_hours, show_all=show_all)
    )
    return [lesson.room for lesson in lessons]


# The feed's JSON is written as text by PostgreSQL (``open_lessons_feed_json``): each value below
# is SQL giving that value's JSON text, never NULL (``||`` with NULL would blank the item).


def _json_iso(column: str) -> str:
    """``column`` (timestamptz) as a JSON string, as Python's ``isoformat()`` writes it in the
    session's zone: ``"2026-09-14T09:00:00+02:00"``; PostgreSQL's own JSON form, except that
    with microseconds Python writes all six digits (``.500000``, PostgreSQL ``.5``)."""
    # whole seconds, tested on the epoch (no zone to apply: a third of the cost of date_trunc)
    return (
        f"CASE WHEN {column} IS NULL THEN 'null' "
        f"WHEN date_part('epoch', {column}) = trunc(date_part('epoch', {column})) "
        f"THEN to_json({column})::text "
        f"ELSE '\"' || to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM') || '\"' END"
    )


def _json_text(column: str) -> str:
    """A text ``column`` as a JSON string (PostgreSQL's own escaping, as ``json.dumps``)."""
    return f"COALESCE(to_json(({column})::text)::text, 'null')"


def _json_int(column: str) -> str:
    return f"COALESCE(({column})::text, 'null')"


def _json_bool(column: str) -> str:
    return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' ELSE 'null' END"


def _json_object(fields: dict[str, str]) -> str:
    """SQL concatenating ``fields`` (key → SQL of the value's JSON text, in order) into one
    JSON object's text. The keys are this module's constants, never user input."""
    parts = []
    for n, (key, value) in enumerate(fields.items()):
        parts += [f"'{',' if n else '{'}\"{key}\":'", value]
    return " || ".join([*parts, "'}'"])


def open_lessons_feed_json(
    *,
    zone: str,
    now: datetime | None = None,
    hours: float | None = None,
    since_hours: float = 10 / 60,
    show_all: bool = False,
) -> str:
    """PostgreSQL only: the feed's JSON array, written by the database in one statement — the
    same rooms as ``open_lessons_feed``, each item exactly as ``api.feeds.OpenLessonItemSerializer``
    renders it with times in ``zone`` (a test compares the two on PostgreSQL, keys' order
    included). A zone the database does not know is a ``DataError`` (outside a transaction the
    caller falls back to the plain path; both read the same IANA names on Debian).

    Why: the feed lists up to thousands of lessons to anyone, and its cache misses once per
    OPEN_LESSONS_CACHE_SECONDS and parameter set. Reading 2,000 rooms as rows costs Python
    far more than the query (8,000 datetimes to parse and format, 2,000 nested dicts to build
    and encode: 83× the trivial view, bench/bench_api_lists.py), and even rows pre-formatted
    by the database and encoded by ``json.dumps`` took 40% longer than this. Each item is
    concatenated text (``_json_object``): ``json_build_object`` looks up every argument's type
    on every row and took 30–40% longer for the same 2,000 items (interleaved runs at 2,000
    lessons: 35–39 ms against 25–28). The lessons are chosen, and their columns read, by the
    ORM's own query (``_open_lessons_in_window`` and ``values``); the JSON is built over it in
    the same pass: choosing the ids first and joining the four tables again for them took
    nearly twice the time in the database.
    """
    now = now or timezone.now()
    hours = settings.OPEN_LESSONS_HORIZON_HOURS if hours is None else hours
    chosen = _open_lessons_in_window(
        now=now, hours=hours, since_hours=since_hours, show_all=show_all
    )
    columns = {
        "r_id": "room__id",
        "r_slug": "room__public_slug",
        "r_status": "room__status",
        "r_start": "room__scheduled_start",
        "r_end": "room__scheduled_end",
        "l_id": "id",
        "l_title": "title",
        "l_description": "description",
        "s_id": "subject_id",
        "u_id": "teacher_id",
        "l_start": "scheduled_start",
        "l_end": "scheduled_end",
        "l_is_open": "is_open",
        "l_is_cancelled": "is_cancelled",
    }
    rows = (
        chosen.select_related(None)
        .order_by()
        .values(**{alias: F(path) for alias, path in columns.items()})
    )
    rows_sql, rows_params = rows.query.sql_with_params()
    subject = _json_object(
        {"id": _json_int("id"), "name": _json_text("name"), "code": _json_text("code")}
    )
    # User.get_full_name() is "first last".strip(), or the username (LessonSerializer)
    name = (
        "COALESCE(NULLIF(btrim(first_name || ' ' || last_name,"
        " E' \\t\\n\\r\\f' || chr(11)), ''), username)"
    )
    teacher = _json_object({"id": _json_int("id"), "name": _json_text(name)})
    lesson = _json_object(
        {
            "id": _json_int("t.l_id"),
            "title": _json_text("t.l_title"),
            "description": _json_text("t.l_description"),
            "subject": "s.json",
            "teacher": "u.json",
            "scheduled_start": _json_iso("t.l_start"),
            "scheduled_end": _json_iso("t.l_end"),
            "is_open": _json_bool("t.l_is_open"),
            "is_cancelled": _json_bool("t.l_is_cancelled"),
        }
    )
    item = _json_object(
        {
            "room_id": _json_int("t.r_id"),
            "public_slug": _json_text("t.r_slug"),
            "status": _json_text("t.r_status"),
            "scheduled_start": _json_iso("t.r_start"),
            "scheduled_end": _json_iso("t.r_end"),
            "lesson": lesson,
        }
    )
    quote = connection.ops.quote_name
    subjects, users = quote(Subject._meta.db_table), quote(get_user_model()._meta.db_table)
    # The subjects' and teachers' objects are written once each (``s``, ``u``), not per lesson.
    sql = f"""
        WITH z AS MATERIALIZED (SELECT set_config('TimeZone', %s, true) AS zone),
        t AS MATERIALIZED ({rows_sql}),
        s AS MATERIALIZED (
            SELECT id, {subject} AS json FROM {subjects} WHERE id IN (SELECT s_id FROM t)
        ),
        u AS MATERIALIZED (
            SELECT id, {teacher} AS json FROM {users} WHERE id IN (SELECT u_id FROM t)
        )
        SELECT '[' || COALESCE(string_agg({item}, ',' ORDER BY t.l_start, t.l_id), '') || ']'
        FROM z, t JOIN s ON s.id = t.s_id JOIN u ON u.id = t.u_id
    """  # noqa: S608 - the ORM's query; every value is a parameter, every name a constant
    # The times are written in the session's zone, set for this statement's transaction only
    # (``z``, read before any row: every row joins it). Inside a longer transaction it is set
    # back at once: Django reads every other timestamp in the connection's own zone.
    with connection.cursor() as cursor:
        cursor.execute(sql, [zone, *rows_params])
        body = cursor.fetchone()[0]
        if connection.in_atomic_block:
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [connection.timezone_name])
    return body


@dataclass(frozen=True)
class OpenLessonsListing:
    live: list[Room]
    upcoming: list[Room]
    recordings: list[Room]
    subjects: list[Subject]
    more: bool = False  # more than ``lessons_limit`` live/upcoming: ask to narrow the filter


def open_lessons_listing(
    *,
    now: datetime | None = None,
    subject_id: int | None = None,
    day: date | None = None,
    recordings_limit: int = 12,
    lessons_limit: int = 60,
    subjects: list[Subject] | None = None,
) -> OpenLessonsListing:
    """What the open-lessons page shows: live now, the next 48 h, recent recordings.

    ``day`` is a date in the school's zone (lessons *starting* that day; DST days are 23 or 25
    hours long) and narrows all three lists, so a past day finds old recordings. The first
    ``lessons_limit`` live/upcoming lessons are shown (``more`` says there are others), so a
    busy timetable costs the same four queries at most and a page of bounded size.
    """
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    horizon = settings.OPEN_LESSONS_HORIZON_HOURS
    lessons = _open_lessons_in_window(now=now, hours=horizon, since_hours=0, show_all=False)
    recorded = Room.objects.filter(
        type=RoomType.LESSON,
        is_open=True,
        lesson__is_open=True,
        lesson__is_cancelled=False,
        scheduled_start__lte=now,
    ).filter(Exists(Recording.objects.filter(room=OuterRef("pk"), status=RecordingStatus.READY)))
    if subject_id is not None:
        lessons = lessons.filter(subject_id=subject_id)
        recorded = recorded.filter(lesson__subject_id=subject_id)
    if day is not None:
        day_start = datetime.combine(day, time.min, tzinfo=zone)
        day_end = day_start + timedelta(days=1)
        lessons = lessons.filter(scheduled_start__gte=day_start, scheduled_start__lt=day_end)
        recorded = recorded.filter(scheduled_start__gte=day_start, scheduled_start__lt=day_end)
    current = list(lessons[: lessons_limit + 1])
    more = len(current) > lessons_limit
    rooms = [lesson.room for lesson in current[:lessons_limit]]
    live, upcoming = [], []
    for room in rooms:
        is_live = room.status == RoomStatus.OPEN or (
            room.status == RoomStatus.SCHEDULED and room.scheduled_start <= now < room.scheduled_end
        )
        if room.status == RoomStatus.CLOSED and not is_live:
            continue
        (live if is_live else upcoming).append(room)
    recordings = list(
        recorded.select_related("lesson__subject", "lesson__teacher").order_by(
            "-scheduled_start", "-id"
        )[:recordings_limit]
    )
    if subjects is None:
        subjects = list(Subject.objects.all())
    return OpenLessonsListing(
        live=live, upcoming=upcoming, recordings=recordings, subjects=subjects, more=more
    )


def subjects_for_filters() -> list[Subject]:
    """Every subject, for the open-lessons page's filter (cached by ``webinars.public.caching``)."""
    return list(Subject.objects.all())
