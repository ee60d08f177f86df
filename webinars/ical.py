"""iCalendar feeds built from selector output (times in UTC; calendar apps show local time)."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

if TYPE_CHECKING:  # type hints only: calendar building reads plain attributes
    from webinars.models import Lesson, Room


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Cedar school webinars//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def _event(*, uid: str, title: str, start, end, url: str, description: str = "") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", timezone.now())
    if url:
        event.add("url", url)
    if description:
        event.add("description", description)
    return event


def lessons_ics(*, lessons: Iterable["Lesson"], name: str, base_url: str) -> bytes:
    """One event per lesson (cancelled ones marked CANCELLED), linking to the user's page."""
    calendar = _calendar(name)
    for lesson in lessons:
        event = _event(
            uid=f"lesson-{lesson.pk}@cedar",
            title=f"{lesson.title} ({lesson.subject.code})",
            start=lesson.scheduled_start,
            end=lesson.scheduled_end,
            url=f"{base_url}/my/",
            description=lesson.description,
        )
        if lesson.is_cancelled:
            event.add("status", "CANCELLED")
        calendar.add_component(event)
    return calendar.to_ical()


def room_ics(*, room: "Room", base_url: str) -> bytes:
    calendar = _calendar(room.display_title)
    url = f"{base_url}/join/{room.public_slug}/" if room.is_open else f"{base_url}/my/"
    calendar.add_component(
        _event(
            uid=f"room-{room.pk}@cedar",
            title=room.display_title,
            start=room.scheduled_start,
            end=room.scheduled_end,
            url=url,
        )
    )
    return calendar.to_ical()
