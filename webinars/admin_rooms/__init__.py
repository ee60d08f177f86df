"""Wagtail admin for what the system writes: rooms, recordings, attendance and join decisions.

Listed, filtered, inspected and exported in the school's words (``webinars.wording``): times
in the school's zone with the zone named, Yes/No, rules and outcomes as sentences, links where
a person would click. Registered through ``webinars.viewsets.WebinarsViewSetGroup``; the
actions are ``webinars.admin_views``.
"""

from webinars.admin_rooms.joins import AttendanceViewSet, JoinAuditViewSet
from webinars.admin_rooms.recordings import RecordingViewSet
from webinars.admin_rooms.rooms import RoomViewSet

__all__ = [
    "AttendanceViewSet",
    "JoinAuditViewSet",
    "RecordingViewSet",
    "RoomViewSet",
    "zoned_column",
]
