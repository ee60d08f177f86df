"""The school's zone at the edges: forms, admin columns, pages and feeds."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

UTC = ZoneInfo("UTC")


def school_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def school_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``value`` in the school's zone, e.g. ``2026-10-25 09:00``; empty for None."""
    if value is None:
        return ""
    return value.astimezone(school_zone()).strftime(fmt)
