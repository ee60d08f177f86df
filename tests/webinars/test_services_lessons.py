"""Lesson edits the room follows, and deleting lessons (docs/lifecycle.md)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_lesson, make_recording, make_room
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus
from webinars.models import Lesson, Recording, Room
from webinars.services.lessons import lesson_delete
from webinars.services.rooms import room_close, room_open

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
