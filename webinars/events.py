"""Domain events: facts about rooms, recordings and lessons, for whoever subscribes later.

Notices and outbound webhooks will listen here instead of hooking into model saves, so they
hear about bulk changes (the tick's one UPDATE for a thousand rooms) as well as single ones.
Each fact is a frozen dataclass sent on its own Django ``Signal`` by :func:`emit`, *after* the
surrounding transaction commits: a subscriber never hears of a change that was rolled back.
The catalogue, and when each event fires, is in docs/lifecycle.md.

Subscribe with ``@receiver(room_opened)`` and read ``kwargs["event"]``.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("webinars.events")

room_opened = Signal()
room_closed = Signal()
recording_state_changed = Signal()
lesson_created = Signal()
lesson_updated = Signal()
lesson_cancelled = Signal()


@dataclass(frozen=True)
class RoomOpened:
    """A room went SCHEDULED → OPEN at ``at``."""

    room_id: int
    lesson_id: int | None
    at: datetime


@dataclass(frozen=True)
class RoomClosed:
    """A room went to CLOSED at ``at`` because of ``reason`` (a ``ClosedReason``)."""

    room_id: int
    lesson_id: int | None
    at: datetime
    reason: str


@dataclass(frozen=True)
class RecordingStateChanged:
    """A recording moved from ``previous`` ("" for a new one) to ``status`` at ``at``."""

    recording_id: int
    room_id: int
    previous: str
    status: str
    at: datetime


@dataclass(frozen=True)
class LessonCreated:
    lesson_id: int
    at: datetime


@dataclass(frozen=True)
class LessonUpdated:
    lesson_id: int
    at: datetime


@dataclass(frozen=True)
class LessonCancelled:
    lesson_id: int
    at: datetime


SIGNALS: dict[type, Signal] = {
    RoomOpened: room_opened,
    RoomClosed: room_closed,
    RecordingStateChanged: recording_state_changed,
    LessonCreated: lesson_created,
    LessonUpdated: lesson_updated,
    LessonCancelled: lesson_cancelled,
}

Event = (
    RoomOpened
    | RoomClosed
    | RecordingStateChanged
    | LessonCreated
    | LessonUpdated
    | LessonCancelled
)


def emit(*events: Event) -> None:
    """Send ``events``, in order, once the current transaction commits (at once outside one).

    A failing subscriber is logged and does not stop the others: the facts are already
    committed, so the writer that emitted them must not be told it failed.
    """
    if events:
        transaction.on_commit(lambda: _send(events))


def _send(events: tuple[Event, ...]) -> None:
    for event in events:
        signal = SIGNALS[type(event)]
        for receiver, error in signal.send_robust(sender=type(event), event=event):
            if isinstance(error, Exception):
                logger.error(
                    "event subscriber failed event=%s receiver=%r error=%r",
                    type(event).__name__,
                    receiver,
                    error,
                    exc_info=error,
                )
