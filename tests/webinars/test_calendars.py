"""Calendar feeds follow every change (docs/calendars.md). Every feed is parsed back twice: with
icalendar (what builds it) and with vobject (an independent parser)."""

from datetime import UTC, datetime, timedelta

import pytest
import vobject
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from icalendar import Calendar
from rest_framework.throttling import AnonRateThrottle

from tests.factories import at, enroll, make_lesson, make_room, make_user
from webinars.ical import CalendarEvent, event_ics, events_ics
from webinars.services.calendars import calendar_token_for

ZONE = "Europe/Amsterdam"


def both(body: bytes) -> tuple[list, list]:
    """The feed's events as icalendar and as vobject read them (the two must agree)."""
    ours = Calendar.from_ical(body)
    theirs = vobject.readOne(body.decode())
    ical_events = list(ours.walk("VEVENT"))
    vobj_events = list(getattr(theirs, "vevent_list", []))
    assert [str(e["uid"]) for e in ical_events] == [e.uid.value for e in vobj_events]
    for mine, other in zip(ical_events, vobj_events, strict=True):
        assert mine.decoded("dtstart") == other.dtstart.value
        assert mine.decoded("dtend") == other.dtend.value
        assert int(mine["sequence"]) == int(other.sequence.value)
        assert str(mine["status"]) == other.status.value
    return ical_events, vobj_events


def feed(client, user) -> bytes:
    token = calendar_token_for(user=user).token
    response = client.get(f"/api/calendar/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    return response.content


@pytest.fixture
def student(db):
    return make_user("sasha")


def lesson_for(student, **fields):
    lesson = make_lesson(**fields)
    enroll(student, lesson.subject)
    return lesson


@pytest.mark.django_db
def test_events_carry_the_schools_zone_with_its_vtimezone(client, student):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=3)
    lesson = lesson_for(student, start=start, title="Fractions")
    body = feed(client, student)
    text = body.decode()
    assert f"DTSTART;TZID={ZONE}:" in text and "BEGIN:VTIMEZONE" in text and f"TZID:{ZONE}" in text
    (event,), (other,) = both(body)
    assert str(event["uid"]) == f"lesson-{lesson.pk}@cedar"
    assert event.decoded("dtstart") == start and str(event.decoded("dtstart").tzinfo) == ZONE
    assert (
        other.dtstart.value.utcoffset()
        == start.astimezone(event.decoded("dtstart").tzinfo).utcoffset()
    )
    assert str(event["url"]) == "http://testserver/my/"
    assert (int(event["sequence"]), str(event["status"])) == (0, "CONFIRMED")


@pytest.mark.django_db
def test_a_reschedule_and_a_cancellation_raise_the_sequence_and_the_event_stays(client, student):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(days=3)
    lesson = lesson_for(student, start=start)
    lesson.scheduled_start += timedelta(hours=1)
    lesson.scheduled_end += timedelta(hours=1)
    lesson.save()
    (moved,), _ = both(feed(client, student))
    assert int(moved["sequence"]) == 1 and moved.decoded("dtstart") == start + timedelta(hours=1)

    lesson.title = "New title"  # not a change of time: same revision
    lesson.save()
    lesson.is_cancelled = True
    lesson.save(update_fields=["is_cancelled", "updated_at"])  # the way a closure saves
    (cancelled,), (other,) = both(feed(client, student))
    assert str(cancelled["uid"]) == str(moved["uid"])
    assert int(cancelled["sequence"]) == 2 and str(cancelled["status"]) == "CANCELLED"
    assert other.status.value == "CANCELLED"
    lesson.refresh_from_db()
    assert lesson.sequence == 2


@pytest.mark.django_db
def test_daylight_saving_keeps_the_wall_clock_time(client, student):
    before = lesson_for(student, start=at("2026-10-23", "09:00"), title="Friday")  # CEST, +02
    after = lesson_for(student, start=at("2026-10-26", "09:00"), title="Monday")  # CET, +01
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    from webinars import ical
    from webinars.selectors.calendars import lesson_event

    body = ical.calendar_ics(
        name="t",
        events=[lesson_event(lesson=lesson, base_url="http://x") for lesson in (before, after)],
        time_zone=ZONE,
        stamp=now,
    )
    assert "DTSTART;TZID=Europe/Amsterdam:20261023T090000" in body.decode()
    assert "DTSTART;TZID=Europe/Amsterdam:20261026T090000" in body.decode()
    _ical, (friday, monday) = both(body)
    assert friday.dtstart.value.utcoffset() == timedelta(hours=2)
    assert monday.dtstart.value.utcoffset() == timedelta(hours=1)
    assert (
        friday.dtstart.value.astimezone(UTC).hour == 7
        and monday.dtstart.value.astimezone(UTC).hour == 8
    )
    assert "BEGIN:STANDARD" in body.decode() and "BEGIN:DAYLIGHT" in body.decode()


@pytest.mark.django_db
def test_the_personal_feed_spans_a_term_and_keeps_cancelled_lessons(client, student):
    now = timezone.now().replace(microsecond=0, second=0)
    lessons = [lesson_for(student, start=now + timedelta(days=days)) for days in (-40, 20, 100)]
    gone = lessons[1]
    gone.is_cancelled = True
    gone.save()
    events, _ = both(feed(client, student))
    assert [str(e["uid"]) for e in events] == [f"lesson-{lesson.pk}@cedar" for lesson in lessons]
    assert [str(e["status"]) for e in events] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]


@pytest.mark.django_db
def test_the_public_feed_lists_open_lessons_only_with_their_join_page(client):
    start = timezone.now().replace(microsecond=0, second=0) + timedelta(hours=5)
    open_lesson = make_lesson(start=start, is_open=True, title="Open day")
    room = make_room(open_lesson)
    make_lesson(start=start, title="Private")
    cancelled = make_lesson(start=start + timedelta(days=1), is_open=True, title="Open but off")
    cancelled.is_cancelled = True
    cancelled.save()
    response = client.get("/api/calendar/open-lessons.ics")
    assert response.status_code == 200
    events, _ = both(response.content)
    found = {str(e["summary"]).split(" (")[0]: e for e in events}
    assert set(found) == {"Open day", "Open but off"}
    assert str(found["Open day"]["url"]) == f"http://testserver/join/{room.public_slug}/"
    assert str(found["Open but off"]["status"]) == "CANCELLED"


@pytest.mark.django_db
def test_the_public_feed_is_throttled(client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    codes = [client.get("/api/calendar/open-lessons.ics").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_a_lesson_rooms_event_is_the_same_event_as_in_the_feeds(client):
    room = make_room(make_lesson(is_open=True, title="Open day"))
    events, _ = both(client.get(f"/api/rooms/{room.pk}/calendar.ics").content)
    assert str(events[0]["uid"]) == f"lesson-{room.lesson_id}@cedar"


@pytest.mark.django_db
def test_the_calendar_link_is_renewed_from_my_lessons_and_the_old_one_dies_at_once(student):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(student)
    old = calendar_token_for(user=student).token
    page = browser.get("/my/")
    assert old in page.content.decode() and "Make a new calendar link" in page.content.decode()
    assert browser.post("/my/calendar/regenerate/").status_code == 403  # no CSRF token
    token = browser.cookies["csrftoken"].value
    response = browser.post("/my/calendar/regenerate/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/my/"
    new = calendar_token_for(user=student).token
    assert new != old
    assert Client().get(f"/api/calendar/{old}.ics").status_code == 404
    assert Client().get(f"/api/calendar/{new}.ics").status_code == 200


@pytest.mark.django_db
def test_my_lessons_shows_a_cancelled_lesson_in_words_without_a_join_button(client, student):
    start = timezone.now() + timedelta(days=1)
    lesson = lesson_for(student, start=start, title="Snowed in")
    lesson.is_cancelled = True
    lesson.save()
    client.force_login(student)
    body = client.get("/my/").content.decode()
    card = body[body.index(f'id="lesson-{lesson.pk}"') :].split("</li>")[0]
    assert "Snowed in" in card and "This lesson has been cancelled." in card
    assert f"/my/join/{lesson.pk}/" not in card


# --- The direct VEVENT writer is icalendar, byte for byte -------------------------------------

# Text a school types: letters of both languages, punctuation iCalendar escapes, line ends,
# backslashes (also before "N"), and long titles that must fold (also inside multi-byte letters).
TEXT = st.text(
    alphabet=st.sampled_from(list("aZ09 ,;:\\\"'^Nn\r\n\té€жЖ—😀ё")),
    max_size=200,
)
INSTANT = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
EVENT = st.builds(
    CalendarEvent,
    uid=st.from_regex(r"[a-z0-9-]{1,40}@[a-z.]{1,30}", fullmatch=True) | TEXT.filter(bool),
    title=TEXT,
    start=INSTANT,
    end=INSTANT,
    url=st.just("")
    | st.from_regex(r"https://[a-z]{1,20}\.example/join/[a-z0-9]{1,80}/", fullmatch=True),
    description=TEXT,
    sequence=st.integers(min_value=0, max_value=10_000),
    cancelled=st.booleans(),
    revised=st.none() | INSTANT,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    events=st.lists(EVENT, max_size=4),
    zone=st.sampled_from(["Europe/Amsterdam", "Europe/Moscow", "America/New_York", "UTC"]),
    stamp=INSTANT,
)
def test_the_direct_event_writer_gives_icalendars_bytes(events, zone, stamp):
    """``events_ics`` (the feeds' fast path) equals icalendar's ``event_ics`` for every event."""
    plain = b"".join(event_ics(item, time_zone=zone, stamp=stamp) for item in events)
    assert events_ics(events, time_zone=zone, stamp=stamp) == plain


@pytest.mark.parametrize("mark", ["\\", "^", ",", "ж", "😀", "\n"])
def test_the_direct_event_writer_folds_like_icalendar_at_every_boundary(mark):
    stamp = datetime(2026, 12, 1, tzinfo=UTC)
    for offset in range(55, 85):
        item = CalendarEvent(
            uid="lesson-1@school.example",
            title="x" * offset + mark + "y" * 90,
            start=stamp,
            end=stamp + timedelta(minutes=45),
            description="ё" * offset + mark * 3,
        )
        plain = event_ics(item, time_zone="Europe/Amsterdam", stamp=stamp)
        assert events_ics([item], time_zone="Europe/Amsterdam", stamp=stamp) == plain, offset
