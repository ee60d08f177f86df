"""Reads for the admin's dashboard panel."""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from webinars.choices import RecordingStatus, RoomStatus
from webinars.models import Lesson, Recording, Room


def admin_dashboard(*, now: datetime | None = None, limit: int = 20) -> dict:
    """What the school's admin checks first: rooms live now (with their teacher and how many
    are inside), the next 24 h, failed recordings. Three queries whatever the school's size."""
    now = now or timezone.now()
    rooms = Room.objects.select_related("lesson__subject", "lesson__teacher").order_by(
        "scheduled_start", "id"
    )
    return {
        "live": list(
            rooms.filter(status=RoomStatus.OPEN).annotate(
                headcount=Count("attendances", filter=Q(attendances__left_at__isnull=True))
            )[:limit]
        ),
        "next_day": list(
            Lesson.objects.select_related("subject", "teacher")
            .filter(scheduled_start__gte=now, scheduled_start__lt=now + timedelta(hours=24))
            .filter(is_cancelled=False)
            .order_by("scheduled_start", "id")[:limit]
        ),
        "failed_recordings": list(
            Recording.objects.select_related("room__lesson")
            .filter(status=RecordingStatus.FAILED)
            .order_by("-updated_at")[:limit]
        ),
    }
