"""The join block: the phase a visitor sees, refusals in words, the block on meeting pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_lesson, make_user
from tests.webinars.public.factories import WEBM, open_room, ready_recording
from webinars.choices import ClosedReason, RoomStatus
from webinars.models import Room
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.public.join_block import Refusal, lesson_phase, refusal_message, room_phase

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("minutes_to_start", "status", "phase"),
    [
        (60, RoomStatus.SCHEDULED, "upcoming"),
        (10, RoomStatus.SCHEDULED, "soon"),  # inside the 15 minutes before the start
        (-5, RoomStatus.SCHEDULED, "live"),  # started by the clock, the scheduler not yet
        (30, RoomStatus.OPEN, "live"),
        (-50, RoomStatus.SCHEDULED, "live"),  # 45 min lesson + 10 min grace: still open
        (-60, RoomStatus.SCHEDULED, "ended"),
        (-5, RoomStatus.CLOSED, "ended"),
    ],
)
def test_the_phase_follows_the_clock_and_the_room(minutes_to_start, status, phase):
    room = open_room(start_in=timedelta(minutes=minutes_to_start), duration=timedelta(minutes=45))
    room.status = status

    seen = room_phase(room=room)

    assert seen.name == phase
    assert seen.joinable == (phase in {"soon", "live"})
    assert (seen.opens_at == room.window_start) == (phase == "upcoming")


def test_a_cancelled_lesson_or_room_is_cancelled_whatever_the_clock():
    room = open_room(start_in=timedelta(minutes=5))
    room.closed_reason = ClosedReason.CANCELLED
    assert room_phase(room=room).name == "cancelled"

    lesson = make_lesson(start=timezone.now() + timedelta(days=1), is_cancelled=True)
    assert lesson_phase(lesson=lesson).name == "cancelled"


def test_a_lesson_without_its_room_yet_has_the_rooms_phase():
    lesson = make_lesson(start=timezone.now() + timedelta(hours=3))

    phase = lesson_phase(lesson=lesson)

    assert phase.name == "upcoming"
    assert phase.opens_at == lesson.scheduled_start - timedelta(minutes=15)


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        (Refusal(409), "The room is not open yet."),
        (Refusal(410, rule="lesson_cancelled"), "This lesson was cancelled."),
        (Refusal(410), "This session has ended"),
        (Refusal(429), "Too many join attempts"),
        (Refusal(403), "You may not join this room."),
        (Refusal(404), "This link is not valid"),
        (Refusal(500), "Joining failed"),
    ],
)
def test_every_refusal_reads_as_a_sentence(refusal, words):
    assert words in refusal_message(refusal)


def test_a_ready_recording_plays_in_an_html5_video(client):
    room = open_room(start_in=-timedelta(days=1))
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    recording = ready_recording(room)

    html = client.get(f"/join/{room.public_slug}/").content.decode()

    assert "<video controls" in html
    src = html.split('<video controls preload="metadata" src="')[1].split('"')[0]
    assert recording.file.name in src
    served = client.get(src)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == WEBM
    assert "Ended" in html


def publish_meeting(home, hosts=(), **fields) -> MeetingPage:
    index = MeetingIndexPage.objects.first() or home.add_child(
        instance=MeetingIndexPage(title="Meetings", slug="meetings")
    )
    start = timezone.now() + timedelta(minutes=5)
    defaults = {
        "title": "Parents' evening",
        "slug": "parents-evening",
        "scheduled_start": start,
        "scheduled_end": start + timedelta(hours=1),
        "is_open": True,
    }
    page = index.add_child(instance=MeetingPage(**{**defaults, **fields}))
    page.hosts.add(*hosts)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def test_meeting_page_renders_its_content_and_the_join_block(client, home):
    host = make_user("host", first_name="Olga", last_name="Head")
    page = publish_meeting(
        home,
        hosts=[host],
        intro="Plans for the spring term",
        body=[("paragraph", "<p>Agenda: exams</p>")],
    )

    html = client.get("/meetings/parents-evening/").content.decode()
    join = client.get(f"/join/{page.room.public_slug}/").content.decode()

    assert "Agenda: exams" in html and "Plans for the spring term" in html
    assert "Olga Head" in html and 'class="join-form"' in html
    assert f'action="/join/{page.room.public_slug}/"' in html
    assert "Parents&#x27; evening" in join and "Olga Head" in join


def test_a_staff_only_meeting_page_has_no_public_join_block(client, home):
    page = publish_meeting(home, is_open=False)

    html = client.get("/meetings/parents-evening/").content.decode()

    assert 'class="join-form"' not in html
    assert "for school staff only" in html
    assert client.get(f"/join/{page.room.public_slug}/").status_code == 404
