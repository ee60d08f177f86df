"""Writes on rooms: creating a lesson's one room, opening and closing it (SPEC §3)."""

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from webinars import jitsi
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import Lesson, Recording, Room

logger = logging.getLogger("webinars.rooms")


def _new_room(**fields) -> Room:
    env = settings.JITSI_ENV
    room = Room(jitsi_env=env, jitsi_domain=jitsi.default_domain(env), **fields)
    room.join_url = jitsi.room_base_url(
        domain=room.jitsi_domain, room_name=room.jitsi_room, env=room.jitsi_env
    )
    return room


def room_ensure_for_lesson(*, lesson: Lesson) -> tuple[Room, bool]:
    """The lesson's room, created if missing; returns ``(room, created)``.

    Safe under concurrent callers (API, scheduler, feed): the one-to-one column is unique,
    so a losing insert raises IntegrityError inside its savepoint and we read the winner's row.
    """
    existing = Room.objects.filter(lesson_id=lesson.pk).first()
    if existing is not None:
        return existing, False
    room = _new_room(
        type=RoomType.LESSON,
        lesson=lesson,
        is_open=lesson.is_open,
        scheduled_start=lesson.scheduled_start,
        scheduled_end=lesson.scheduled_end,
    )
    try:
        with transaction.atomic():
            room.save()
    except IntegrityError:
        return Room.objects.get(lesson_id=lesson.pk), False
    logger.info("room created room=%s lesson=%s", room.pk, lesson.pk)
    return room, True


def room_open(*, room: Room, now: datetime | None = None) -> Room:
    """SCHEDULED → OPEN; the room's latest recording goes IN_PROGRESS."""
    now = now or timezone.now()
    with transaction.atomic():
        room.status = RoomStatus.OPEN
        room.started_at = now
        room.save(update_fields=["status", "started_at", "updated_at"])
        recording = room.recordings.order_by("-created_at", "-id").first()
        if recording is None or recording.status in (RecordingStatus.READY, RecordingStatus.FAILED):
            Recording.objects.create(room=room, status=RecordingStatus.IN_PROGRESS, started_at=now)
        elif recording.status == RecordingStatus.PENDING and recording.file == "":
            recording.status = RecordingStatus.IN_PROGRESS
            recording.started_at = recording.started_at or now
            recording.save(update_fields=["status", "started_at", "updated_at"])
    logger.info("room opened room=%s lesson=%s", room.pk, room.lesson_id)
    return room


def room_close(
    *, room: Room, reason: str = ClosedReason.ENDED, now: datetime | None = None
) -> Room:
    """→ CLOSED; an IN_PROGRESS recording becomes PENDING (waiting for the file)."""
    now = now or timezone.now()
    with transaction.atomic():
        room.status = RoomStatus.CLOSED
        room.ended_at = now
        room.closed_reason = reason
        room.save(update_fields=["status", "ended_at", "closed_reason", "updated_at"])
        room.recordings.filter(status=RecordingStatus.IN_PROGRESS).update(
            status=RecordingStatus.PENDING, ended_at=now, updated_at=now
        )
    logger.info("room closed room=%s lesson=%s reason=%s", room.pk, room.lesson_id, reason)
    return room
