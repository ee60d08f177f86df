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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

PRODID = "-//Cedar school webinars//EN"
END = b"END:VCALENDAR\r\n"


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
    revised: datetime | None = None  # DTSTAMP: when the lesson was last changed


def event_ics(item: CalendarEvent, *, time_zone: str, stamp: datetime) -> bytes:
    """One ``VEVENT`` as bytes. ``DTSTAMP`` is ``item.revised`` (without a METHOD, RFC 5545
    makes it the time the event was last revised), ``stamp`` when that is unknown; so an
    unchanged event always serialises to the same bytes, and callers may keep them."""
    zone = ZoneInfo(time_zone)
    event = Event()
    event.add("uid", item.uid)
    event.add("summary", item.title)
    event.add("dtstart", item.start.astimezone(zone))
    event.add("dtend", item.end.astimezone(zone))
    event.add("dtstamp", item.revised or stamp)
    event.add("sequence", item.sequence)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    if item.url:
        event.add("url", item.url)
    if item.description:
        event.add("description", item.description)
    return event.to_ical()


def _timezone(time_zone: str, events: Sequence[CalendarEvent]) -> Timezone:
    """The zone's VTIMEZONE over whole years around the events (a few transitions, not a
    century's; whole years, so the same feed always carries the same block)."""
    years = [item.start.year for item in events] + [item.end.year for item in events]
    return Timezone.from_tzinfo(
        ZoneInfo(time_zone),
        tzid=time_zone,
        first_date=date(min(years) - 1, 1, 1),
        last_date=date(max(years) + 1, 12, 31),
    )


def calendar_ics(
    *,
    name: str,
    events: Sequence[CalendarEvent],
    time_zone: str,
    stamp: datetime,
    serialize: Callable[[Sequence[CalendarEvent]], list[bytes]] | None = None,
) -> bytes:
    """A calendar named ``name`` with ``events`` in ``time_zone`` and that zone's VTIMEZONE.

    ``serialize`` turns the events into their ``VEVENT`` bytes, in order (default:
    :func:`event_ics` for each); a caller may pass one that keeps unchanged events' bytes.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", time_zone)
    if events:
        calendar.add_component(_timezone(time_zone, events))
    if serialize is None:
        blocks = [event_ics(item, time_zone=time_zone, stamp=stamp) for item in events]
    else:
        blocks = serialize(events)
    head = calendar.to_ical()
    return head[: -len(END)] + b"".join(blocks) + END
