"""Writes on sessions (``Attendance`` rows): where stays end (docs/register.md).

A join starts a session (``services.joins``); the platform's reports start their own
(``recordings.webhooks``). Sessions end here: when the platform says the person left, when the
teacher's embedded room says the teacher hung up, and — for whatever is still open — when the
room closes.
"""

import logging
from datetime import datetime

from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.dispatch import receiver
from django.utils import timezone

from webinars.choices import AttendanceSource
from webinars.events import room_closed
from webinars.models import Attendance, Room

logger = logging.getLogger("webinars.register")


def sessions_end(
    *,
    room_id: int,
    at: datetime,
    person_id: str = "",
    user_id: int | None = None,
    sources: tuple[str, ...] = (),
) -> int:
    """End the open sessions of a room (of one person, of some sources) at ``at``; one UPDATE.

    A session never ends before it began: platforms' clocks and ours differ by seconds. Returns
    how many ended.
    """
    open_rows = Attendance.objects.filter(room_id=room_id, left_at__isnull=True)
    if person_id or user_id is not None:
        who = Q(person_id=person_id) if person_id else Q()
        if user_id is not None:
            who |= Q(user_id=user_id)
        open_rows = open_rows.filter(who, joined_at__lte=at)
    if sources:
        open_rows = open_rows.filter(source__in=sources)
    return open_rows.update(left_at=Greatest(F("joined_at"), Value(at)))


def session_end_joined(*, room_id: int, person_id: str, at: datetime) -> int:
    """The platform says ``person_id`` (our link's id: a user's pk or a guest id) left: their
    open "clicked Join" sessions end too, so the raw rows tell the same story."""
    user_id = int(person_id) if person_id.isdigit() else None
    if not person_id:
        return 0
    return sessions_end(
        room_id=room_id,
        at=at,
        person_id=person_id,
        user_id=user_id,
        sources=(AttendanceSource.JOIN_API,),
    )


def session_end_embedded(*, room: Room, user, now: datetime | None = None) -> int:
    """The teacher hung up in the embedded room (the IFrame API's ``videoConferenceLeft``)."""
    now = now or timezone.now()
    ended = sessions_end(
        room_id=room.pk, at=now, user_id=user.pk, sources=(AttendanceSource.JOIN_API,)
    )
    logger.info("embedded room left room=%s user=%s sessions=%s", room.pk, user.pk, ended)
    return ended


@receiver(room_closed, dispatch_uid="webinars.register.sessions_end_at_close")
def sessions_end_at_close(sender, event, **kwargs) -> None:
    """Whoever is still inside when the room closes leaves at the close."""
    ended = sessions_end(room_id=event.room_id, at=event.at)
    if ended:
        logger.info("sessions ended at close room=%s sessions=%s", event.room_id, ended)
