"""What a lesson's admin page shows of its room: state, links, and who attended."""

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from webinars.choices import JoinRole
from webinars.models import Attendance, Lesson, Room


def lesson_room_summary(*, lesson: Lesson) -> dict:
    """The room (None until the scheduler makes it) and attendance counts: two queries.

    Sessions are rows (a rejoin is a new one); people are distinct signed-in users plus
    guests counted by session, since a guest has no identity to merge.
    """
    room = Room.objects.filter(lesson_id=lesson.pk).first()
    summary = {"room": room, "zone": settings.TIME_ZONE, "attendance": None}
    if room is None:
        return summary
    summary["public_url"] = (
        reverse("webinars:join", args=[room.public_slug]) if room.is_open else ""
    )
    summary["staff_join_url"] = reverse("rooms:open_in_jitsi", args=[room.pk])
    summary["inspect_url"] = reverse("rooms:inspect", args=[room.pk])
    counts = Attendance.objects.filter(room=room).aggregate(
        sessions=Count("pk"),
        people=Count("user", distinct=True),
        guests=Count("pk", filter=Q(user__isnull=True)),
        **{
            role: Count("user", distinct=True, filter=Q(role=role))
            for role in (JoinRole.MODERATOR, JoinRole.PARTICIPANT, JoinRole.OBSERVER)
        },
    )
    summary["attendance"] = counts
    return summary
