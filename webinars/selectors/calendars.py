"""What the calendar feeds list, as plain events for ``webinars.ical`` (docs/calendars.md)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from webinars import ical
from webinars.ical import CalendarEvent
from webinars.models import Lesson, Room
from webinars.selectors.timetable import lessons_for_user

# The personal feed covers a term either side of today; calendar apps keep what they saw.
FEED_AHEAD = timedelta(days=150)
FEED_BACK = timedelta(days=60)
FEED_LIMIT = 2000
OPEN_FEED_AHEAD = timedelta(days=60)
OPEN_FEED_BACK = timedelta(days=14)


def _room_of(lesson: Lesson) -> Room | None:
    try:
        return lesson.room
    except Room.DoesNotExist:
        return None


def lesson_page_path(*, lesson: Lesson, room: Room | None) -> str:
    """The page that opens a lesson: its public join page when it is an open lesson with a room
    (the link anyone may use), else "My lessons" (where the people it is for join it)."""
    if lesson.is_open and room is not None and room.is_open:
        return f"/join/{room.public_slug}/"
    return "/my/"


def lesson_event(*, lesson: Lesson, base_url: str) -> CalendarEvent:
    room = _room_of(lesson)
    return CalendarEvent(
        uid=f"lesson-{lesson.pk}@cedar",
        title=f"{lesson.title} ({lesson.subject.code})",
        start=lesson.scheduled_start,
        end=lesson.scheduled_end,
        url=f"{base_url}{lesson_page_path(lesson=lesson, room=room)}",
        description=lesson.description,
        sequence=lesson.sequence,
        cancelled=lesson.is_cancelled,
        revised=lesson.updated_at,
    )


def personal_events(*, user, base_url: str, now: datetime | None = None) -> list[CalendarEvent]:
    """A person's lessons (taught, attended, their children's; every lesson for staff),
    cancelled ones included, from ``FEED_BACK`` ago to ``FEED_AHEAD`` ahead."""
    mine = lessons_for_user(user=user, now=now, ahead=FEED_AHEAD, back=FEED_BACK, limit=FEED_LIMIT)
    lessons = sorted(
        [*mine.past, *mine.upcoming], key=lambda lesson: (lesson.scheduled_start, lesson.pk)
    )
    return [lesson_event(lesson=lesson, base_url=base_url) for lesson in lessons]


def open_lesson_events(*, base_url: str, now: datetime | None = None) -> list[CalendarEvent]:
    """Every open lesson from two weeks ago to two months ahead, cancelled ones marked."""
    now = now or timezone.now()
    lessons = (
        Lesson.objects.filter(
            Q(is_open=True),
            scheduled_start__gte=now - OPEN_FEED_BACK,
            scheduled_start__lte=now + OPEN_FEED_AHEAD,
        )
        .select_related("subject", "room")
        .order_by("scheduled_start", "id")
    )
    return [lesson_event(lesson=lesson, base_url=base_url) for lesson in lessons]


def room_event(*, room: Room, base_url: str) -> CalendarEvent:
    """A room's event: a lesson's room is its lesson's event (the same UID as in the feeds)."""
    if room.lesson_id is not None:
        return lesson_event(lesson=room.lesson, base_url=base_url)
    path = f"/join/{room.public_slug}/" if room.is_open else "/my/"
    return CalendarEvent(
        uid=f"room-{room.pk}@cedar",
        title=room.display_title,
        start=room.scheduled_start,
        end=room.scheduled_end,
        url=f"{base_url}{path}",
        revised=room.updated_at,
    )


def feed_ics(*, name: str, events: Sequence[CalendarEvent]) -> bytes:
    """A feed in the school's zone."""
    return ical.calendar_ics(
        name=name, events=events, time_zone=settings.TIME_ZONE, stamp=timezone.now()
    )
