"""What an outbound webhook says about a lesson, a room, a recording or a room's attendance.

The ``data`` of each event (docs/webhooks.md has examples). Times are UTC in ISO 8601 with a
``Z``; links are absolute, on PORTAL_BASE_URL. People are named, never emailed: the
receiving system already knows the school's accounts by id.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from webinars.choices import JoinRole, RecordingStatus
from webinars.models import Attendance, Lesson, Recording, Room
from webinars.selectors.viewer import room_facts_for


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


def _person(user) -> dict:
    return {"id": user.pk, "name": user.get_full_name() or user.get_username()}


def lesson_data(*, lesson_id: int) -> dict | None:
    """The lesson as it is now, or None when it is gone (deleted before the event was sent)."""
    lesson = (
        Lesson.objects.select_related("subject", "teacher", "room")
        .prefetch_related("co_teachers")
        .filter(pk=lesson_id)
        .first()
    )
    if lesson is None:
        return None
    room = getattr(lesson, "room", None)
    return {
        "lesson": {
            "id": lesson.pk,
            "title": lesson.title,
            "subject": {
                "id": lesson.subject_id,
                "code": lesson.subject.code,
                "name": lesson.subject.name,
            },
            "teacher": _person(lesson.teacher),
            "co_teachers": [_person(user) for user in lesson.co_teachers.all()],
            "scheduled_start": iso(lesson.scheduled_start),
            "scheduled_end": iso(lesson.scheduled_end),
            "is_open": lesson.is_open,
            "is_cancelled": lesson.is_cancelled,
            "room_id": room.pk if room else None,
        }
    }


def room_data(*, room_id: int) -> dict | None:
    room = Room.objects.filter(pk=room_id).first()
    if room is None:
        return None
    return {
        "room": {
            "id": room.pk,
            "type": room.type,
            "title": room.title or None,
            "lesson_id": room.lesson_id,
            "status": room.status,
            "scheduled_start": iso(room.scheduled_start),
            "scheduled_end": iso(room.scheduled_end),
            "started_at": iso(room.started_at),
            "ended_at": iso(room.ended_at),
            "closed_reason": room.closed_reason or None,
            "is_open": room.is_open,
            "join_page_url": absolute(f"/join/{room.public_slug}/") if room.is_open else None,
        }
    }


def recording_data(*, recording_id: int) -> dict | None:
    recording = Recording.objects.select_related("room").filter(pk=recording_id).first()
    if recording is None:
        return None
    room_id = recording.room_id
    data = {
        "recording": {
            "id": recording.pk,
            "room_id": room_id,
            "lesson_id": recording.room.lesson_id,
            "status": recording.status,
            "started_at": iso(recording.started_at),
            "ended_at": iso(recording.ended_at),
            "duration_secs": recording.duration_secs,
            "size_bytes": recording.size_bytes,
            "checksum_sha256": recording.checksum_sha256 or None,
            "is_public": room_facts_for(room=recording.room).recordings_are_public,
            "api_url": absolute(reverse("api-room-recording", args=[room_id])),
        }
    }
    if recording.status == RecordingStatus.FAILED:
        data["error"] = recording.meta.get("error") or None
    return data


def attendance_data(*, room_id: int, closed_at: datetime) -> dict:
    """The room's register in numbers, with the links to read it in full."""
    lesson_id = Room.objects.filter(pk=room_id).values_list("lesson_id", flat=True).first()
    counts = Attendance.objects.filter(room_id=room_id).aggregate(
        sessions=Count("id"),
        people=Count("user", distinct=True),
        guests=Count("display_name", filter=Q(user__isnull=True), distinct=True),
        still_connected=Count("id", filter=Q(left_at__isnull=True)),
        **{role: Count("id", filter=Q(role=role)) for role in JoinRole.values},
    )
    return {
        "attendance": {
            "room_id": room_id,
            "lesson_id": lesson_id,
            "closed_at": iso(closed_at),
            "sessions": counts["sessions"],
            "people": counts["people"] + counts["guests"],
            "sessions_by_role": {role: counts[role] for role in JoinRole.values},
            "still_connected": counts["still_connected"],
            "api_url": absolute(reverse("api-attendance", args=[room_id])),
            "csv_url": absolute(reverse("api-attendance-csv", args=[room_id])),
        }
    }
