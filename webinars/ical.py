"""iCalendar feeds from plain events (docs/calendars.md). Pure: no ORM, no request.

Callers hand in ``CalendarEvent``s (``webinars.selectors.calendars`` builds them from lessons
and rooms) and the school's zone. Every event carries:

- a ``UID`` that never changes for the lesson, so an edit replaces the event instead of
  adding one;
- ``SEQUENCE``: the lesson's revision, raised by every reschedule and (un)cancellation, so
  calendar apps take the new time;
- ``STATUS:CANCELLED`` for a cancelled lesson, which stays in the feed (apps then strike it
  through or drop it themselves);
- ``DTSTART``/``DTEND`` in the school's zone (``TZID``), with the zone's ``VTIMEZONE`` in the
  calendar, so a lesson at 09:00 stays at 09:00 across daylight-saving changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

PRODID = "-//Cedar school webinars//EN"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    title: str
    start: datetime  # aware
    end: datetime  # aware
    url: str = ""
    description: str = ""
    sequence: int = 0
    cancelled: bool = False


def _event(item: CalendarEvent, *, zone: ZoneInfo, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("summary", item.title)
    event.add("dtstart", item.start.astimezone(zone))
    event.add("dtend", item.end.astimezone(zone))
    event.add("dtstamp", stamp)
    event.add("sequence", item.sequence)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    if item.url:
        event.add("url", item.url)
    if item.description:
        event.add("description", item.description)
    return event


def calendar_ics(
    *, name: str, events: Iterable[CalendarEvent], time_zone: str, stamp: datetime
) -> bytes:
    """A calendar named ``name``; times in ``time_zone`` with its VTIMEZONE; ``stamp`` is
    the DTSTAMP of every event (when the feed was made)."""
    zone = ZoneInfo(time_zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", time_zone)
    days: list[date] = []
    for item in events:
        calendar.add_component(_event(item, zone=zone, stamp=stamp))
        days += [item.start.date(), item.end.date()]
    if days:
        # The zone's rules around the feed's span only: a few transitions, not a century's.
        calendar.add_missing_timezones(
            first_date=min(days) - timedelta(days=366), last_date=max(days) + timedelta(days=366)
        )
    return calendar.to_ical()
