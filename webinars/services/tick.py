"""The scheduler tick (SPEC §3): create, open and close every room that is due.

The tick (:func:`maintain_rooms`) is built so that several clusters and web workers may run it at
once: creation relies on the database's unique lesson column (``ON CONFLICT DO NOTHING``), and
transitions lock the due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two ticks
never transition the same room twice. SQLite serialises writers, so there the lock clause is
simply left out. Every query of the tick is a bounded range on an indexed column: the cost
follows the number of rooms due, not the size of the timetable.
"""

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from webinars.choices import ClosedReason, RoomStatus
from webinars.models import MAX_LESSON_DURATION, Heartbeat, Lesson, Room
from webinars.services.rooms import (
    lesson_room_build,
    open_room_horizon,
    recordings_start,
    recordings_stop,
    room_ensure_for_meeting,
    room_grace,
    room_lead,
)

logger = logging.getLogger("webinars.rooms")  # the same log stream as the rooms' own writes

UNCLOSED = (RoomStatus.SCHEDULED, RoomStatus.OPEN)


def _locked(queryset):
    """Row locks that other ticks skip instead of waiting for (PostgreSQL); as-is elsewhere."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


@dataclass
class TickResult:
    """What one tick did; ``as_dict()`` is what the django-q2 task stores as its result."""

    now: datetime
    created: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    duration_ms: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        data["counts"] = self.counts()
        return data

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "opened": len(self.opened),
            "closed": len(self.closed),
        }

    def summary(self) -> str:
        c = self.counts()
        return (
            f"tick at {self.now.isoformat()}: created {c['created']}, opened {c['opened']}, "
            f"closed {c['closed']} in {self.duration_ms:.1f} ms"
        )


def _create_due_lesson_rooms(now: datetime, batch: int) -> list[int]:
    """Rooms for lessons whose window has begun, and open lessons inside the horizon.

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
        is_open=True, scheduled_start__gt=now, scheduled_start__lte=now + open_room_horizon()
    )
    created: list[int] = []
    while True:
        lessons = list(
            Lesson.objects.filter(in_window | open_ahead, is_cancelled=False, room__isnull=True)
            .order_by()
            .only("id", "is_open", "scheduled_start", "scheduled_end")[:batch]
        )
        if not lessons:
            return created
        rooms = [lesson_room_build(lesson) for lesson in lessons]
        # A room made meanwhile by a request or another tick wins; ours is dropped silently.
        Room.objects.bulk_create(rooms, ignore_conflicts=True)
        ours = Room.objects.filter(
            lesson_id__in=[lesson.pk for lesson in lessons],
            jitsi_room__in=[room.jitsi_room for room in rooms],
        ).values_list("id", "lesson_id")
        ours = list(ours)
        for room_id, lesson_id in ours:
            logger.info("room created room=%s lesson=%s", room_id, lesson_id)
            created.append(room_id)
        if len(lessons) < batch or not ours:  # no progress: leave the rest to the next tick
            return created


def _create_due_meeting_rooms(now: datetime) -> list[int]:
    """A safety net: live MeetingPages inside their horizon whose room was never made."""
    from webinars.pages import MeetingPage

    pages = MeetingPage.objects.live().filter(
        room__isnull=True,
        scheduled_end__gt=now - room_grace(),
        scheduled_start__lte=now + max(open_room_horizon(), room_lead()),
    )
    return [room_ensure_for_meeting(page=page).pk for page in pages]


def _close_rows(rows: list[tuple], now: datetime, reason: str) -> list[int]:
    ids = [row[0] for row in rows]
    Room.objects.filter(id__in=ids).update(
        status=RoomStatus.CLOSED, ended_at=now, closed_reason=reason, updated_at=now
    )
    recordings_stop(ids, now)
    for room_id, lesson_id, *_rest in rows:
        logger.info("room closed room=%s lesson=%s reason=%s", room_id, lesson_id, reason)
    return ids


def _open_rows(rows: list[tuple], now: datetime) -> list[int]:
    ids = [row[0] for row in rows]
    Room.objects.filter(id__in=ids).update(status=RoomStatus.OPEN, started_at=now, updated_at=now)
    recordings_start(ids, now)
    for room_id, lesson_id, *_rest in rows:
        logger.info("room opened room=%s lesson=%s", room_id, lesson_id)
    return ids


def _transition_due_rooms(now: datetime, batch: int, result: TickResult) -> None:
    """Open the rooms whose start has come and close those past end + grace, in batches.

    One locked read finds both kinds (two index ranges, OR-ed); rows another tick holds are
    skipped, and a row that tick has already moved no longer matches. A room whose whole window
    passed while the scheduler was down is closed without being opened; a cancelled lesson's
    room is closed as cancelled (normally the lesson's save already did that).
    """
    close_before = now - room_grace()
    due = Room.objects.filter(
        Q(status=RoomStatus.SCHEDULED, scheduled_start__lte=now, scheduled_end__gt=close_before)
        | Q(status__in=UNCLOSED, scheduled_end__lte=close_before),
        auto_manage=True,
    ).order_by()
    while True:
        # Its own transaction when run by the cluster; no savepoint inside a caller's one.
        with transaction.atomic(savepoint=False):
            rows = list(
                _locked(due).values_list(
                    "id", "lesson_id", "lesson__is_cancelled", "scheduled_end"
                )[:batch]
            )
            cancelled = [row for row in rows if row[2]]
            ended = [row for row in rows if not row[2] and row[3] <= close_before]
            starting = [row for row in rows if not row[2] and row[3] > close_before]
            if starting:
                result.opened.extend(_open_rows(starting, now))
            if cancelled:
                result.closed.extend(_close_rows(cancelled, now, ClosedReason.CANCELLED))
            if ended:
                result.closed.extend(_close_rows(ended, now, ClosedReason.ENDED))
        if len(rows) < batch:
            return


def _beat(result: TickResult) -> None:
    from webinars.selectors.health import SCHEDULER_HEARTBEAT

    beat_at = timezone.now()
    details = {"tick_now": result.now.isoformat(), **result.counts()}
    details["duration_ms"] = round(result.duration_ms, 1)
    if not Heartbeat.objects.filter(name=SCHEDULER_HEARTBEAT).update(
        beat_at=beat_at, details=details
    ):
        try:
            with transaction.atomic():
                Heartbeat.objects.create(name=SCHEDULER_HEARTBEAT, beat_at=beat_at, details=details)
        except IntegrityError:
            Heartbeat.objects.filter(name=SCHEDULER_HEARTBEAT).update(
                beat_at=beat_at, details=details
            )


def maintain_rooms(*, now: datetime | None = None) -> TickResult:
    """One scheduler tick: create, open and close every room that is due at ``now``.

    Idempotent and catching up: after downtime the same tick closes rooms overdue by hours and
    opens/creates whatever is due now (a room whose whole window passed unseen is closed without
    being opened). Rooms with ``auto_manage=False`` are left alone; cancelled lessons get no room.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    batch = max(1, settings.MAINTAIN_BATCH_SIZE)
    result = TickResult(now=now)
    result.created = _create_due_lesson_rooms(now, batch) + _create_due_meeting_rooms(now)
    _transition_due_rooms(now, batch, result)
    result.duration_ms = (time.perf_counter() - started) * 1000
    _beat(result)
    return result
