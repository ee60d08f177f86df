"""The room window: when a room may be joined and when it closes (see docs/lifecycle.md).

Pure functions over datetimes and settings (no ORM, no request), so models, services, the
tick, views and the API all compute the window the same way.
"""

from datetime import datetime, timedelta

from django.conf import settings


def room_lead() -> timedelta:
    """How long before the start a room opens its doors (``ROOM_OPEN_LEAD_MIN``)."""
    return timedelta(minutes=settings.ROOM_OPEN_LEAD_MIN)


def room_grace() -> timedelta:
    """How long after the end a room stays joinable (``ROOM_CLOSE_GRACE_MIN``)."""
    return timedelta(minutes=settings.ROOM_CLOSE_GRACE_MIN)


def open_lessons_horizon() -> timedelta:
    """How far ahead open lessons get their room, so public links can be shared early."""
    return timedelta(hours=settings.OPEN_LESSONS_HORIZON_HOURS)


def room_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``(opens, closes)`` of a room scheduled ``start``–``end``: joinable in ``[opens, closes)``.

    The one definition of the window; a lesson without a room yet has the same window as the
    room it will get.
    """
    return start - room_lead(), end + room_grace()
