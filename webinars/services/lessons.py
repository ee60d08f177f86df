"""Writes on lessons that reach their room: edits the room follows, and deletion.

Rules in docs/lifecycle.md: cancelling closes the room, rescheduling moves it, deleting keeps
finished recordings safe.
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from webinars.choices import ClosedReason, RecordingStatus, RoomStatus
from webinars.lifecycle import room_window
from webinars.models import Lesson, Room
from webinars.services.rooms import recordings_stop, room_close

logger = logging.getLogger("webinars.rooms")


def room_follow_lesson(*, lesson: Lesson, now: datetime | None = None) -> Room | None:
    """Keep the lesson's room in step after the lesson was saved (docs/lifecycle.md).

    Cancelled → the room closes with reason ``cancelled``. Rescheduled → an unclosed room moves
    with it (back to SCHEDULED when its new start lies in the future). Un-cancelled while its
    window has not passed → the room is SCHEDULED again. A room closed for any other reason keeps
    its history.
    """
    now = now or timezone.now()
    room = Room.objects.filter(lesson_id=lesson.pk).first()
    if room is None:
        return None
    if lesson.is_cancelled:
        if room.status != RoomStatus.CLOSED:
            room_close(room=room, reason=ClosedReason.CANCELLED, now=now)
        return room
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        revivable = (
            room.status == RoomStatus.CLOSED
            and room.closed_reason == ClosedReason.CANCELLED
            and now < room_window(lesson.scheduled_start, lesson.scheduled_end)[1]
        )
        if room.status == RoomStatus.CLOSED and not revivable:
            return room
        fields = {
            "scheduled_start": lesson.scheduled_start,
            "scheduled_end": lesson.scheduled_end,
            "is_open": lesson.is_open,
        }
        if revivable or (room.status == RoomStatus.OPEN and lesson.scheduled_start > now):
            fields.update(
                status=RoomStatus.SCHEDULED, started_at=None, ended_at=None, closed_reason=""
            )
        changed = {k: v for k, v in fields.items() if getattr(room, k) != v}
        if not changed:
            return room
        for name, value in changed.items():
            setattr(room, name, value)
        room.save(update_fields=[*changed, "updated_at"])
        if changed.get("status") == RoomStatus.SCHEDULED:
            recordings_stop(room_ids=[room.pk], now=now)  # the lesson no longer runs now
    logger.info(
        "room rescheduled room=%s lesson=%s start=%s end=%s status=%s",
        room.pk,
        lesson.pk,
        room.scheduled_start.isoformat(),
        room.scheduled_end.isoformat(),
        room.status,
    )
    return room


def lesson_delete(*, lesson: Lesson) -> None:
    """Delete a lesson with its room and unfinished recordings; refuse if a recording is READY.

    Recordings are PROTECTed by the database: a READY file must never disappear because someone
    tidied the timetable. Files of non-READY recordings are removed from storage too.
    """
    room = Room.objects.filter(lesson_id=lesson.pk).first()
    if room is not None and room.recordings.filter(status=RecordingStatus.READY).exists():
        raise ValidationError(
            _(
                "“%(lesson)s” cannot be deleted: its room has a finished recording. "
                "Cancel the lesson instead, or delete the recording first."
            )
            % {"lesson": lesson.title}
        )
    with transaction.atomic():
        if room is not None:
            for recording in room.recordings.all():
                if recording.file:
                    recording.file.delete(save=False)
                recording.delete()
        lesson_id = lesson.pk
        lesson.delete()
    logger.info("lesson deleted lesson=%s room=%s", lesson_id, room.pk if room else None)
