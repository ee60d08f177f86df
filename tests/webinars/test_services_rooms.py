"""The room lifecycle (docs/lifecycle.md): ensure, open, close, and their domain events."""

import logging
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_lesson, make_recording, make_room
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.events import (
    RecordingStateChanged,
    RoomClosed,
    RoomOpened,
    emit,
    room_opened,
)
from webinars.models import Room
from webinars.services.rooms import (
    room_close,
    room_ensure_for_lesson,
    room_open,
    rooms_close,
    rooms_open,
)
from webinars.services.tick import maintain_rooms

MINUTE = timedelta(minutes=1)
LEAD = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


# --- ensure / open / close ----------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_is_idempotent_and_copies_the_lessons_schedule():
    lesson = make_lesson(start=timezone.now() + timedelta(days=5), is_open=True)  # beyond 48 h
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


# --- open lessons get their room when saved -----------------------------------------------


@pytest.mark.django_db
def test_an_open_lesson_saved_inside_the_horizon_has_its_room_and_public_link_at_once():
    now = timezone.now()
    soon = make_lesson(start=now + timedelta(hours=30), is_open=True)
    private = make_lesson(start=now + timedelta(hours=30))
    far = make_lesson(start=now + timedelta(hours=60), is_open=True)
    cancelled = make_lesson(start=now + timedelta(hours=2), is_open=True, is_cancelled=True)

    room = Room.objects.get(lesson=soon)
    assert room.is_open and room.public_slug and room.status == RoomStatus.SCHEDULED
    assert not Room.objects.filter(lesson__in=[private, far, cancelled]).exists()

    private.is_open = True  # made open later: the save gives it its room
    private.save()
    assert Room.objects.get(lesson=private).is_open
    far.save()  # still beyond the horizon: the tick makes it 48 h ahead
    assert not Room.objects.filter(lesson=far).exists()
    assert maintain_rooms(now=far.scheduled_start - timedelta(hours=48)).created == [
        Room.objects.get(lesson=far).pk
    ]


# --- domain events ------------------------------------------------------------------------


def _of(events, kind):
    return [event for event in events if isinstance(event, kind)]


@pytest.mark.django_db
def test_one_room_opened_and_closed_is_heard_once_each_after_commit(
    heard, django_capture_on_commit_callbacks
):
    room = make_room()
    start = room.scheduled_start
    with django_capture_on_commit_callbacks(execute=True):
        room_open(room=room, now=start)
        room_open(room=room, now=start + MINUTE)
        room_close(room=room, reason=ClosedReason.FORCED, now=start + 2 * MINUTE)
        room_close(room=room, now=start + 3 * MINUTE)
        assert heard == []  # nothing is heard before the transaction commits

    recording = room.recordings.get()
    opened = RoomOpened(room_id=room.pk, lesson_id=room.lesson_id, at=start)
    assert _of(heard, RoomOpened) == [opened]
    assert _of(heard, RoomClosed) == [
        RoomClosed(
            room_id=room.pk,
            lesson_id=room.lesson_id,
            at=start + 2 * MINUTE,
            reason=ClosedReason.FORCED,
        )
    ]
    assert _of(heard, RecordingStateChanged) == [
        RecordingStateChanged(
            recording_id=recording.pk,
            room_id=room.pk,
            previous="",
            status=RecordingStatus.IN_PROGRESS,
            at=start,
        ),
        RecordingStateChanged(
            recording_id=recording.pk,
            room_id=room.pk,
            previous=RecordingStatus.IN_PROGRESS,
            status=RecordingStatus.PENDING,
            at=start + 2 * MINUTE,
        ),
    ]


@pytest.mark.django_db
def test_the_ticks_bulk_transitions_are_heard_once_per_room(
    heard, django_capture_on_commit_callbacks, settings
):
    settings.MAINTAIN_BATCH_SIZE = 4  # several batches
    start = timezone.now() + timedelta(days=3)
    rooms = [make_room(make_lesson(start=start)) for _ in range(10)]
    ids = sorted(room.pk for room in rooms)
    end = rooms[0].scheduled_end
    with django_capture_on_commit_callbacks(execute=True):
        maintain_rooms(now=start)
        maintain_rooms(now=start + MINUTE)
        maintain_rooms(now=end + GRACE)
        maintain_rooms(now=end + GRACE + MINUTE)

    assert sorted(event.room_id for event in _of(heard, RoomOpened)) == ids
    closed = _of(heard, RoomClosed)
    assert sorted(event.room_id for event in closed) == ids
    assert {(event.at, event.reason) for event in closed} == {(end + GRACE, ClosedReason.ENDED)}
    moves = sorted((e.room_id, e.previous, e.status) for e in _of(heard, RecordingStateChanged))
    assert moves == sorted(
        [(pk, "", RecordingStatus.IN_PROGRESS) for pk in ids]
        + [(pk, RecordingStatus.IN_PROGRESS, RecordingStatus.PENDING) for pk in ids]
    )


@pytest.mark.django_db
def test_nothing_is_heard_of_a_transition_that_was_rolled_back(
    heard, django_capture_on_commit_callbacks
):
    room = make_room()
    others = [make_room(make_lesson(start=room.scheduled_start)) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            room_open(room=room, now=room.scheduled_start)
            maintain_rooms(now=room.scheduled_start)
            rooms_close(ids=[other.pk for other in others], now=room.scheduled_end, reason="ended")
            raise RuntimeError("the request failed after the transitions")

    assert callbacks == [] and heard == []
    room.refresh_from_db()
    assert room.status == RoomStatus.SCHEDULED and not room.recordings.exists()


@pytest.mark.django_db
def test_the_bulk_transition_is_one_update_per_batch_not_one_per_room():
    start = timezone.now() + timedelta(days=3)
    rooms = [make_room(make_lesson(start=start)) for _ in range(25)]
    ids = [room.pk for room in rooms]

    with CaptureQueriesContext(connection) as opening:
        assert sorted(rooms_open(ids=ids, now=start)) == sorted(ids)
    with CaptureQueriesContext(connection) as closing:
        assert sorted(rooms_close(ids=ids, now=start + MINUTE, reason="forced")) == sorted(ids)

    def room_updates(ctx):
        return [q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "webinars_room"')]

    assert len(room_updates(opening)) == 1 and len(room_updates(closing)) == 1
    assert len(opening.captured_queries) <= 4 and len(closing.captured_queries) <= 4
    assert rooms_open(ids=ids, now=start) == []  # closed rooms do not open again


@pytest.mark.django_db
def test_a_failing_subscriber_is_logged_and_the_others_still_hear(
    heard, django_capture_on_commit_callbacks, caplog
):
    def broken(sender, event, **kwargs):
        raise ValueError("subscriber bug")

    room_opened.connect(broken, weak=False, dispatch_uid="test-broken")
    try:
        with caplog.at_level(logging.ERROR, logger="webinars.events"):
            with django_capture_on_commit_callbacks(execute=True):
                emit(RoomOpened(room_id=1, lesson_id=None, at=timezone.now()))
    finally:
        room_opened.disconnect(dispatch_uid="test-broken")

    assert len(heard) == 1
    assert "event subscriber failed event=RoomOpened" in caplog.text
