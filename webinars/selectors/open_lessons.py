"""Reads behind the open-lessons feed (API) and the open-lessons page."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef
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


# The columns of one feed item (``api.feeds``), read with ``.values()`` (docs/api.md).
OPEN_LESSONS_FEED_COLUMNS = (
    "room__id",
    "room__public_slug",
    "room__status",
    "room__scheduled_start",
    "room__scheduled_end",
    "id",
    "title",
    "description",
    "subject__id",
    "subject__name",
    "subject__code",
    "teacher__id",
    "teacher__username",
    "teacher__first_name",
    "teacher__last_name",
    "scheduled_start",
    "scheduled_end",
    "is_open",
    "is_cancelled",
)


def open_lessons_feed_values(
    *,
    now: datetime | None = None,
    hours: float | None = None,
    since_hours: float = 10 / 60,
    show_all: bool = False,
) -> list[dict]:
    """The same rooms as ``open_lessons_feed``, as plain rows of ``OPEN_LESSONS_FEED_COLUMNS``
    (one query, no model instances: 2,000 of them cost more than the query)."""
    now = now or timezone.now()
    hours = settings.OPEN_LESSONS_HORIZON_HOURS if hours is None else hours
    lessons = _open_lessons_in_window(
        now=now, hours=hours, since_hours=since_hours, show_all=show_all
    )
    return list(lessons.values(*OPEN_LESSONS_FEED_COLUMNS))


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
