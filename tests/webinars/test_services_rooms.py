"""The room lifecycle (SPEC §3): ensure, open, close, lesson edits and meetings."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_lesson, make_recording, make_room, make_user
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import Lesson, Recording, Room
from webinars.pages import MeetingIndexPage, MeetingPage
from webinars.services.rooms import (
    lesson_delete,
    meeting_create,
    meeting_page_delete_guard,
    room_close,
    room_ensure_for_lesson,
    room_ensure_for_meeting,
    room_open,
)
from webinars.services.tick import maintain_rooms

MINUTE = timedelta(minutes=1)
LEAD = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


# --- ensure / open / close ----------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_is_idempotent_and_copies_the_lessons_schedule():
    lesson = make_lesson(is_open=True)
    room, created = room_ensure_for_lesson(lesson=lesson)
    again, created_again = room_ensure_for_lesson(lesson=lesson)
    assert (created, created_again) == (True, False)
    assert again.pk == room.pk
    assert room.type == RoomType.LESSON and room.status == RoomStatus.SCHEDULED
    assert (room.scheduled_start, room.scheduled_end) == (
        lesson.scheduled_start,
        lesson.scheduled_end,
    )
    assert room.is_open is True


@pytest.mark.django_db
def test_opening_starts_a_recording_and_closing_leaves_it_waiting_for_its_file():
    room = make_room()
    now = room.scheduled_start
    room_open(room=room, now=now)
    room.refresh_from_db()
    assert room.status == RoomStatus.OPEN and room.started_at == now
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.IN_PROGRESS and recording.started_at == now

    later = now + timedelta(minutes=50)
    room_close(room=room, reason=ClosedReason.FORCED, now=later)
    room.refresh_from_db()
    recording.refresh_from_db()
    assert (room.status, room.closed_reason, room.ended_at) == (
        RoomStatus.CLOSED,
        ClosedReason.FORCED,
        later,
    )
    assert recording.status == RecordingStatus.PENDING and recording.ended_at == later


@pytest.mark.django_db
def test_open_and_close_twice_change_nothing_the_second_time():
    room = make_room()
    first = room.scheduled_start
    room_open(room=room, now=first)
    room_open(room=room, now=first + MINUTE)
    room_close(room=room, now=first + 2 * MINUTE)
    room_close(room=room, reason=ClosedReason.FORCED, now=first + 3 * MINUTE)
    room.refresh_from_db()
    assert room.started_at == first
    assert (room.ended_at, room.closed_reason) == (first + 2 * MINUTE, ClosedReason.ENDED)
    assert room.recordings.count() == 1


@pytest.mark.django_db
def test_opening_resumes_a_pending_recording_but_never_touches_a_ready_one():
    room = make_room()
    ready = make_recording(room, status=RecordingStatus.READY, file_url="https://x.test/a.mp4")
    room_open(room=room, now=room.scheduled_start)
    ready.refresh_from_db()
    assert ready.status == RecordingStatus.READY
    assert room.recordings.filter(status=RecordingStatus.IN_PROGRESS).count() == 1

    second = make_room()
    pending = make_recording(second, status=RecordingStatus.PENDING)
    room_open(room=second, now=second.scheduled_start)
    pending.refresh_from_db()
    assert pending.status == RecordingStatus.IN_PROGRESS
    assert second.recordings.count() == 1


# --- lesson edits -------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_lesson_closes_its_room_as_cancelled():
    room = make_room()
    room_open(room=room, now=room.scheduled_start)
    lesson = room.lesson
    lesson.is_cancelled = True
    lesson.save()
    room.refresh_from_db()
    assert (room.status, room.closed_reason) == (RoomStatus.CLOSED, ClosedReason.CANCELLED)
    assert room.recordings.get().status == RecordingStatus.PENDING


@pytest.mark.django_db
def test_rescheduling_moves_an_unclosed_room_but_not_a_closed_one():
    room = make_room()
    lesson = room.lesson
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.scheduled_start, room.scheduled_end) == (
        lesson.scheduled_start,
        lesson.scheduled_end,
    )

    room_close(room=room, now=lesson.scheduled_end)
    before = (room.scheduled_start, room.scheduled_end)
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.scheduled_start, room.scheduled_end) == before
    assert room.status == RoomStatus.CLOSED


@pytest.mark.django_db
def test_moving_a_running_lesson_to_another_day_puts_its_room_back_to_scheduled():
    room = make_room(make_lesson(start=datetime.now(UTC) - timedelta(minutes=5)))
    room_open(room=room, now=room.scheduled_start)
    lesson = room.lesson
    lesson.scheduled_start += timedelta(days=1)
    lesson.scheduled_end += timedelta(days=1)
    lesson.save()
    room.refresh_from_db()
    assert (room.status, room.started_at) == (RoomStatus.SCHEDULED, None)
    assert room.scheduled_start == lesson.scheduled_start
    assert room.recordings.get().status == RecordingStatus.PENDING


@pytest.mark.django_db
def test_uncancelling_before_the_window_ends_schedules_the_room_again():
    room = make_room()
    lesson = room.lesson
    lesson.is_cancelled = True
    lesson.save()
    lesson.is_cancelled = False
    lesson.save()
    room.refresh_from_db()
    assert room.status == RoomStatus.SCHEDULED and room.closed_reason == ""


@pytest.mark.django_db
def test_a_lesson_with_a_ready_recording_cannot_be_deleted():
    room = make_room()
    make_recording(room, status=RecordingStatus.READY, file_url="https://x.test/a.mp4")
    with pytest.raises(ValidationError, match="finished recording"):
        lesson_delete(lesson=room.lesson)
    assert Lesson.objects.filter(pk=room.lesson_id).exists()


@pytest.mark.django_db
def test_deleting_a_lesson_takes_its_room_and_unfinished_recordings():
    room = make_room()
    make_recording(room, status=RecordingStatus.FAILED)
    make_recording(room, status=RecordingStatus.PENDING)
    lesson_delete(lesson=room.lesson)
    assert not Lesson.objects.filter(pk=room.lesson_id).exists()
    assert not Room.objects.filter(pk=room.pk).exists()
    assert not Recording.objects.filter(room_id=room.pk).exists()


# --- meetings -----------------------------------------------------------------------------


def _meeting_page(title="Parents' evening", start=None, **fields) -> MeetingPage:
    index = MeetingIndexPage.objects.first()
    if index is None:
        from wagtail.models import Site

        index = MeetingIndexPage(title="Meetings", slug="meetings")
        Site.objects.get(is_default_site=True).root_page.add_child(instance=index)
    start = start or datetime(2030, 5, 1, 17, tzinfo=UTC)
    page = MeetingPage(
        title=title,
        slug=title.lower().replace(" ", "-").replace("'", ""),
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        **fields,
    )
    index.add_child(instance=page)
    return page


@pytest.mark.django_db
def test_publishing_a_meeting_page_makes_its_room_and_republishing_updates_it():
    page = _meeting_page(is_open=True)
    assert page.room_id is None
    page.save_revision().publish()
    page.refresh_from_db()
    room = page.room
    assert room.type == RoomType.MEETING and room.lesson_id is None
    assert (room.title, room.is_open, room.scheduled_start) == (
        "Parents' evening",
        True,
        page.scheduled_start,
    )

    page.title = "Parents' evening (moved)"
    page.scheduled_start += timedelta(hours=2)
    page.scheduled_end += timedelta(hours=2)
    page.is_open = False
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.room_id == room.pk
    room.refresh_from_db()
    assert (room.title, room.is_open, room.scheduled_start) == (
        "Parents' evening (moved)",
        False,
        page.scheduled_start,
    )
    assert Room.objects.filter(type=RoomType.MEETING).count() == 1


@pytest.mark.django_db
def test_publishing_a_revision_older_than_the_room_keeps_the_room():
    page = _meeting_page()
    old_revision = page.save_revision()
    page.save_revision().publish()
    page.refresh_from_db()
    room_id = page.room_id
    old_revision.publish()
    page.refresh_from_db()
    assert page.room_id == room_id
    assert Room.objects.filter(type=RoomType.MEETING).count() == 1


@pytest.mark.django_db
def test_meeting_create_makes_the_index_page_a_published_page_and_its_room():
    MeetingIndexPage.objects.all().delete()
    host = make_user(is_staff=True)
    start = datetime(2030, 5, 1, 17, tzinfo=UTC)
    room = meeting_create(
        host=host,
        title="Общее собрание",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        is_open=True,
    )
    page = MeetingPage.objects.get(room=room)
    assert page.live and list(page.hosts.all()) == [host]
    assert isinstance(page.get_parent().specific, MeetingIndexPage)
    assert room.title == "Общее собрание" and room.type == RoomType.MEETING
    assert room_ensure_for_meeting(page=page).pk == room.pk


@pytest.mark.django_db
def test_the_tick_makes_a_missing_meeting_room_inside_the_horizon():
    start = datetime(2030, 5, 1, 17, tzinfo=UTC)
    page = _meeting_page(start=start)
    page.save_revision().publish()
    page.refresh_from_db()
    MeetingPage.objects.filter(pk=page.pk).update(room=None)
    Room.objects.filter(pk=page.room_id).delete()

    assert maintain_rooms(now=start - timedelta(hours=60)).created == []
    result = maintain_rooms(now=start - timedelta(hours=47))
    page.refresh_from_db()
    assert result.created == [page.room_id]
    assert maintain_rooms(now=start).opened == [page.room_id]


@pytest.mark.django_db
def test_a_meeting_page_with_a_ready_recording_cannot_be_deleted_and_others_close_their_room():
    page = _meeting_page()
    page.save_revision().publish()
    page.refresh_from_db()
    ready = make_recording(page.room, status=RecordingStatus.READY, file_url="https://x.test/a")
    with pytest.raises(ValidationError, match="finished recording"):
        meeting_page_delete_guard(page=page)
    ready.delete()
    meeting_page_delete_guard(page=page)
    room = page.room
    page.delete()
    room.refresh_from_db()
    assert (room.status, room.closed_reason) == (RoomStatus.CLOSED, ClosedReason.CANCELLED)
