"""The scheduler tick: create, open and close every room that is due (docs/lifecycle.md).

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
from webinars.lifecycle import open_lessons_horizon, room_grace, room_lead
from webinars.models import Heartbeat, Room
from webinars.services.meetings import room_ensure_for_meeting
from webinars.services.rooms import RoomRef, lesson_rooms_create_due, rooms_close, rooms_open

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


def _create_due_meeting_rooms(now: datetime) -> list[int]:
    """A safety net: live MeetingPages inside their horizon whose room was never made."""
    from webinars.pages import MeetingPage

    pages = MeetingPage.objects.live().filter(
        room__isnull=True,
        scheduled_end__gt=now - room_grace(),
        scheduled_start__lte=now + max(open_lessons_horizon(), room_lead()),
    )
    return [room_ensure_for_meeting(page=page).pk for page in pages]


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
            cancelled = [RoomRef(r[0], r[1]) for r in rows if r[2]]
            ended = [RoomRef(r[0], r[1]) for r in rows if not r[2] and r[3] <= close_before]
            starting = [RoomRef(r[0], r[1]) for r in rows if not r[2] and r[3] > close_before]
            result.opened += rooms_open(rooms=starting, now=now)
            result.closed += rooms_close(rooms=cancelled, now=now, reason=ClosedReason.CANCELLED)
            result.closed += rooms_close(rooms=ended, now=now, reason=ClosedReason.ENDED)
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
    result.created = lesson_rooms_create_due(now=now, batch=batch)
    result.created += _create_due_meeting_rooms(now)
    _transition_due_rooms(now, batch, result)
    result.duration_ms = (time.perf_counter() - started) * 1000
    _beat(result)
    return result
