"""The teacher (or the meeting's hosts) hears when a recording becomes READY or FAILED."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from webinars.choices import RecordingStatus, RoomType
from webinars.models import Recording, Room
from webinars.recordings.access import recording_is_public
from webinars.selectors.viewer import meeting_page_for

logger = logging.getLogger("webinars.recordings")


def recording_recipients(*, room: Room) -> list[str]:
    """Who hears about a room's recordings: the teacher (and co-teachers), or meeting hosts."""
    if room.type == RoomType.MEETING:
        page = meeting_page_for(room=room)
        people = list(page.hosts.all()) if page is not None else []
    else:
        people = [room.lesson.teacher, *room.lesson.co_teachers.all()]
    return sorted({person.email for person in people if person.email})


def recording_notify(*, recording: Recording) -> None:
    """Mail the outcome; a mail outage is logged and never undoes the ingest."""
    kind = "ready" if recording.status == RecordingStatus.READY else "failed"
    recipients = recording_recipients(room=recording.room)
    if not recipients:
        return
    base = settings.PORTAL_BASE_URL.rstrip("/")
    room = recording.room
    context = {
        "recording": recording,
        "room": room,
        "title": room.display_title,
        "error": recording.meta.get("error", ""),
        "page_url": f"{base}/join/{room.public_slug}/" if recording_is_public(room=room) else "",
        "my_url": f"{base}/my/",
        "admin_url": f"{base}/admin/",
        "time_zone": settings.TIME_ZONE,
        "duration_min": round(recording.duration_secs / 60) if recording.duration_secs else None,
    }
    subject = render_to_string(f"webinars/emails/recording_{kind}_subject.txt", context)
    body = render_to_string(f"webinars/emails/recording_{kind}.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, recipients)
    except OSError:
        logger.exception("recording email failed recording=%s", recording.pk)
