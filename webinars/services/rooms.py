"""Writes on rooms: a lesson's one room, and the transitions to OPEN and to CLOSED.

Every room opens through :func:`rooms_open` and closes through :func:`rooms_close`, whether one
room at a time (:func:`room_open`, :func:`room_close`) or the scheduler tick's batches
(``webinars.services.tick``), so each transition moves its recordings the same way and emits
its domain events (``webinars.events``). The rules are in docs/lifecycle.md.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.events import RecordingStateChanged, RoomClosed, RoomOpened, emit
from webinars.lifecycle import open_lessons_horizon, room_grace, room_lead
from webinars.models import (
    MAX_LESSON_DURATION,
    Lesson,
    Recording,
    Room,
)
from webinars.providers import provider_for_env

logger = logging.getLogger("webinars.rooms")


def room_build(**fields) -> Room:
    """An unsaved room on the configured video platform, with fresh random names."""
    provider = provider_for_env(settings.JITSI_ENV)
    room = Room(jitsi_env=provider.env, jitsi_domain=provider.default_domain(), **fields)
    room.join_url = provider.room_url(room=room)
    return room


def lesson_room_build(lesson: Lesson) -> Room:
    """An unsaved room for ``lesson``, with a fresh random Jitsi name and public slug."""
    return room_build(
        type=RoomType.LESSON,
        lesson=lesson,
        is_open=lesson.is_open,
        scheduled_start=lesson.scheduled_start,
        scheduled_end=lesson.scheduled_end,
    )


def lessons_due_for_room(*, now: datetime) -> QuerySet[Lesson]:
    """Lessons that should have a room at ``now`` and have none: their window has begun, or
    they are open and start within the horizon. Cancelled lessons never get one.

    The range on ``scheduled_start`` is bounded on both sides (a lesson lasts ≤ 12 h), so the
    query walks only the index entries of lessons that could be due.
    """
    lead, grace = room_lead(), room_grace()
    in_window = Q(
        scheduled_start__gt=now - grace - MAX_LESSON_DURATION,
        scheduled_start__lte=now + lead,
        scheduled_end__gt=now - grace,
    )
    open_ahead = Q(
        is_open=True, scheduled_start__gt=now, scheduled_start__lte=now + open_lessons_horizon()
    )
    return Lesson.objects.filter(in_window | open_ahead, is_cancelled=False, room__isnull=True)


def lesson_rooms_create_due(
    *, now: datetime, batch: int, lesson_ids: Sequence[int] | None = None
) -> list[int]:
    """Rooms for every due lesson (of ``lesson_ids``, when given), ``batch`` per bulk insert.

    A room made meanwhile by a request or another tick wins the unique lesson column
    (``ON CONFLICT DO NOTHING``) and ours is dropped silently, so concurrent callers are safe.
    Returns the ids of the rooms this call made.
    """
    due = lessons_due_for_room(now=now)
    if lesson_ids is not None:
        due = due.filter(pk__in=lesson_ids)
    created: list[int] = []
    while True:
        found = list(
            due.order_by().only("id", "is_open", "scheduled_start", "scheduled_end")[:batch]
        )
        if not found:
            return created
        rooms = [lesson_room_build(lesson) for lesson in found]
        Room.objects.bulk_create(rooms, ignore_conflicts=True)
        ours = list(
            Room.objects.filter(
                lesson_id__in=[lesson.pk for lesson in found],
                jitsi_room__in=[room.jitsi_room for room in rooms],
            ).values_list("id", "lesson_id")
        )
        for room_id, lesson_id in ours:
            logger.info("room created room=%s lesson=%s", room_id, lesson_id)
            created.append(room_id)
        if len(found) < batch or not ours:  # no progress: leave the rest to the next tick
            return created


def open_lesson_room_ensure(*, lesson: Lesson, now: datetime | None = None) -> list[int]:
    """Give an open lesson saved inside the horizon its room (and public link) straight away.

    The tick would make it within a minute; doing it on save means a teacher who has just
    published an open lesson can share its link at once. Reads never create rooms.
    """
    if not lesson.is_open or lesson.is_cancelled:
        return []
    now = now or timezone.now()
    batch = max(1, settings.MAINTAIN_BATCH_SIZE)
    return lesson_rooms_create_due(now=now, batch=batch, lesson_ids=[lesson.pk])


def room_ensure_for_lesson(*, lesson: Lesson) -> tuple[Room, bool]:
    """The lesson's room, created if missing; returns ``(room, created)``.

    Safe under concurrent callers (API, scheduler, a lesson's save): the one-to-one column is
    unique, so a losing insert raises IntegrityError inside its savepoint and we read the
    winner's row.
    """
    existing = Room.objects.filter(lesson_id=lesson.pk).first()
    if existing is not None:
        return existing, False
    room = lesson_room_build(lesson)
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError:
        return Room.objects.get(lesson_id=lesson.pk), False
    logger.info("room created room=%s lesson=%s", room.pk, lesson.pk)
    return room, True


# --- Transitions ---------------------------------------------------------------------------


class RoomRef(NamedTuple):
    """A room row the caller holds locked: its id and its lesson's (None for a meeting)."""

    id: int
    lesson_id: int | None


def _lock(ids: Sequence[int], statuses: Sequence[str]) -> list[RoomRef]:
    """Lock the rows of ``ids`` still in ``statuses`` (waiting for other writers, in id order)."""
    rows = (
        Room.objects.select_for_update()
        .filter(id__in=ids, status__in=statuses)
        .order_by("id")
        .values_list("id", "lesson_id")
    )
    return [RoomRef(*row) for row in rows]


def rooms_open(
    *, rooms: Sequence[RoomRef] | None = None, ids: Sequence[int] = (), now: datetime
) -> list[int]:
    """SCHEDULED → OPEN; each room's latest recording goes IN_PROGRESS. Returns the opened ids.

    The one way a room opens, for one room or a batch of a thousand: one UPDATE for all, one
    ``RoomOpened`` per room once committed. ``ids`` are locked here and those no longer
    SCHEDULED are left alone, so opening twice changes nothing; ``rooms`` are rows the caller
    already locked and saw SCHEDULED (the tick's batch), which spares a second read.
    """
    return _transition(
        rooms=rooms,
        ids=ids,
        allowed=[RoomStatus.SCHEDULED],
        changes={"status": RoomStatus.OPEN, "started_at": now, "updated_at": now},
        recordings=recordings_start,
        event=lambda room: RoomOpened(room_id=room.id, lesson_id=room.lesson_id, at=now),
        log=("room opened room=%s lesson=%s",),
        now=now,
    )


def rooms_close(
    *,
    rooms: Sequence[RoomRef] | None = None,
    ids: Sequence[int] = (),
    now: datetime,
    reason: str,
) -> list[int]:
    """→ CLOSED for ``reason``; IN_PROGRESS recordings wait for their file. Returns the ids.

    The one way a room closes (see :func:`rooms_open` for ``rooms`` and ``ids``): a CLOSED
    room keeps its original time and reason; one ``RoomClosed`` per room once committed.
    """
    return _transition(
        rooms=rooms,
        ids=ids,
        allowed=[RoomStatus.SCHEDULED, RoomStatus.OPEN],
        changes={
            "status": RoomStatus.CLOSED,
            "ended_at": now,
            "closed_reason": reason,
            "updated_at": now,
        },
        recordings=recordings_stop,
        event=lambda room: RoomClosed(
            room_id=room.id, lesson_id=room.lesson_id, at=now, reason=reason
        ),
        log=("room closed room=%s lesson=%s reason=%s", reason),
        now=now,
    )


def _transition(
    *,
    rooms: Sequence[RoomRef] | None,
    ids: Sequence[int],
    allowed: list[str],
    changes: dict,
    recordings: Callable[..., None],
    event: Callable[[RoomRef], RoomOpened | RoomClosed],
    log: tuple,
    now: datetime,
) -> list[int]:
    with transaction.atomic(savepoint=False):  # no savepoint inside the tick's transaction
        if rooms is None:
            rooms = _lock(ids, allowed)
        room_ids = [room.id for room in rooms]
        if not room_ids:
            return []
        Room.objects.filter(id__in=room_ids).update(**changes)
        recordings(room_ids=room_ids, now=now)
        emit(*(event(room) for room in rooms))
    message, *extra = log
    for room in rooms:
        logger.info(message, room.id, room.lesson_id, *extra)
    return room_ids


_STATE_FIELDS = ["status", "started_at", "ended_at", "closed_reason", "updated_at"]


def room_open(*, room: Room, now: datetime | None = None) -> Room:
    """Open one room now (an OPEN or CLOSED room stays as it is); ``room`` is brought up to date."""
    now = now or timezone.now()
    if rooms_open(ids=[room.pk], now=now):
        room.status, room.started_at, room.updated_at = RoomStatus.OPEN, now, now
    else:
        room.refresh_from_db(fields=_STATE_FIELDS)
    return room


def room_close(
    *, room: Room, reason: str = ClosedReason.ENDED, now: datetime | None = None
) -> Room:
    """Close one room now; closing a CLOSED room keeps its original time and reason."""
    now = now or timezone.now()
    if rooms_close(ids=[room.pk], now=now, reason=reason):
        room.status, room.ended_at, room.closed_reason = RoomStatus.CLOSED, now, reason
        room.updated_at = now
    else:
        room.refresh_from_db(fields=_STATE_FIELDS)
    return room


def recordings_start(*, room_ids: Sequence[int], now: datetime) -> None:
    """The latest recording of each opened room goes IN_PROGRESS (a new row when none is open).

    Part of opening a room. Bulk over many rooms: one read of their recordings, one insert,
    one update; one ``RecordingStateChanged`` per recording moved.
    """
    latest: dict[int, tuple[int, str, str]] = {}
    rows = (
        Recording.objects.filter(room_id__in=room_ids)
        .order_by("created_at", "id")
        .values_list("room_id", "id", "status", "file")
    )
    for room_id, rec_id, rec_status, rec_file in rows:
        latest[room_id] = (rec_id, rec_status, rec_file)
    new_rows, resumed = [], []
    for room_id in room_ids:
        rec = latest.get(room_id)
        if rec is None or rec[1] in (RecordingStatus.READY, RecordingStatus.FAILED):
            new_rows.append(
                Recording(room_id=room_id, status=RecordingStatus.IN_PROGRESS, started_at=now)
            )
        elif rec[1] == RecordingStatus.PENDING and not rec[2]:
            resumed.append((rec[0], room_id))
    if new_rows:
        Recording.objects.bulk_create(new_rows)
    if resumed:
        resumed_ids = [rec_id for rec_id, _room_id in resumed]
        Recording.objects.filter(id__in=resumed_ids).update(
            status=RecordingStatus.IN_PROGRESS, updated_at=now
        )
        Recording.objects.filter(id__in=resumed_ids, started_at__isnull=True).update(started_at=now)
    moved = [(rec.pk, rec.room_id, "") for rec in new_rows]
    moved += [(rec_id, room_id, RecordingStatus.PENDING) for rec_id, room_id in resumed]
    _recordings_moved(moved, status=RecordingStatus.IN_PROGRESS, now=now)


def recordings_stop(*, room_ids: Sequence[int], now: datetime) -> None:
    """IN_PROGRESS recordings of closed rooms wait for their file (PENDING).

    The rows are locked while they change, so a webhook marking one READY at the same moment
    is not overwritten.
    """
    with transaction.atomic(savepoint=False):
        rows = list(
            Recording.objects.select_for_update()
            .filter(room_id__in=room_ids, status=RecordingStatus.IN_PROGRESS)
            .order_by("id")
            .values_list("id", "room_id")
        )
        if not rows:
            return
        Recording.objects.filter(id__in=[rec_id for rec_id, _room_id in rows]).update(
            status=RecordingStatus.PENDING, ended_at=now, updated_at=now
        )
    moved = [(rec_id, room_id, RecordingStatus.IN_PROGRESS) for rec_id, room_id in rows]
    _recordings_moved(moved, status=RecordingStatus.PENDING, now=now)


def _recordings_moved(moved: list[tuple[int, int, str]], *, status: str, now: datetime) -> None:
    emit(
        *(
            RecordingStateChanged(
                recording_id=rec_id, room_id=room_id, previous=previous, status=status, at=now
            )
            for rec_id, room_id, previous in moved
        )
    )
