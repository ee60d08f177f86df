"""Reads about the portal's own health: the scheduler's heartbeat."""

from datetime import timedelta

from django.utils import timezone

from webinars.models import Heartbeat

SCHEDULER_HEARTBEAT = "maintain_rooms"
SCHEDULER_STALE_AFTER = timedelta(minutes=3)


def scheduler_heartbeat() -> dict:
    """The scheduler's last tick: ``ok`` when it ran in the last 3 minutes, else ``stale``."""
    beat = Heartbeat.objects.filter(name=SCHEDULER_HEARTBEAT).first()
    if beat is None:
        return {"status": "never_ran", "last_tick": None}
    fresh = timezone.now() - beat.beat_at <= SCHEDULER_STALE_AFTER
    return {"status": "ok" if fresh else "stale", "last_tick": beat.beat_at.isoformat()}
