"""The teacher (or the meeting's hosts) hears when a recording FAILED.

A READY recording is announced by the recording-ready notice instead (``services/notices.py``:
to everyone allowed to watch it, once each, in their language, recorded in the admin), so the
teacher gets one email for it, not two.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from webinars.choices import RoomType
from webinars.models import Recording, Room
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


def recording_failed_notify(*, recording: Recording) -> None:
    """Mail the failure to the hosts; a mail outage is logged and never undoes anything."""
    recipients = recording_recipients(room=recording.room)
    if not recipients:
        return
    base = settings.PORTAL_BASE_URL.rstrip("/")
    room = recording.room
    context = {
        "title": room.display_title,
        "error": recording.meta.get("error", ""),
        "admin_url": f"{base}/admin/",
    }
    subject = render_to_string("webinars/emails/recording_failed_subject.txt", context)
    body = render_to_string("webinars/emails/recording_failed.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, recipients)
    except OSError:
        logger.exception("recording email failed recording=%s", recording.pk)
