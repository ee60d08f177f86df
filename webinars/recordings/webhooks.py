"""What a video platform's webhooks change here: recordings, attendance, the event log.

The platform's adapter has already checked the signature and read the body into plain events
(``webinars.providers``); this module acts on them, once per event key (a ``WebhookEvent``
row). Recording events move the room's recording through IN_PROGRESS → PENDING and queue the
download; participant events become Attendance rows. Events may arrive out of order: each
handler copes with the others' absence. ``Recording.meta`` and ``Attendance.source`` are
named after the provider (``jaas_session_id``, ``jaas_webhook``).
"""

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from webinars.choices import AttendanceSource, JoinRole, RecordingStatus
from webinars.models import Attendance, JoinAudit, Recording, Room, WebhookEvent
from webinars.providers import (
    ParticipantEvent,
    ParticipantJoined,
    ParticipantLeft,
    ProviderEvent,
    RecordingEnded,
    RecordingStarted,
    RecordingUploaded,
    VideoProvider,
)
from webinars.recordings.accept import recording_accept_link, recording_claim
from webinars.recordings.errors import RecordingRejected
from webinars.recordings.ingest import WAITING, recording_fail
from webinars.services.register import session_end_joined

logger = logging.getLogger("webinars.recordings")


@dataclass
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool


def webhook_events_handle(
    *, provider: VideoProvider, events: list[ProviderEvent]
) -> list[WebhookOutcome]:
    """Record each verified event, once per key, and act on it.

    A replay of a key already seen changes nothing. Events for unknown rooms are recorded and
    ignored (the platform gets its 200 and stops retrying). Recording downloads run as tasks.
    """
    return [_event_handle(provider=provider, event=event) for event in events]


def _event_handle(*, provider: VideoProvider, event: ProviderEvent) -> WebhookOutcome:
    key = event.key[:200]
    room = Room.objects.filter(jitsi_room=event.room_name).first() if event.room_name else None
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                idempotency_key=key, event_type=event.kind[:64], room=room, payload=event.payload
            )
    except IntegrityError:
        return WebhookOutcome(WebhookEvent.objects.get(idempotency_key=key), True)
    if room is None:
        logger.warning("%s event for an unknown room type=%s", provider.name, event.kind[:64])
    elif isinstance(event, RecordingStarted):
        _recording_started(provider=provider, room=room, event=event)
    elif isinstance(event, RecordingEnded):
        _recording_ended(provider=provider, room=room, event=event)
    elif isinstance(event, RecordingUploaded):
        _recording_uploaded(provider=provider, room=room, event=event)
    elif isinstance(event, ParticipantEvent):
        _participant(provider=provider, room=room, event=event)
    return WebhookOutcome(row, False)


def _session_key(provider: VideoProvider) -> str:
    return f"{provider.name}_session_id"


def _session_recording(provider: VideoProvider, room: Room, session_id: str) -> Recording | None:
    if not session_id:
        return None
    lookup = {f"meta__{_session_key(provider)}": session_id}
    return room.recordings.filter(**lookup).order_by("-created_at").first()


def _session_claim(
    *, provider: VideoProvider, room: Room, session_id: str, status: str, **times
) -> None:
    """The session's recording is the room's first free waiting row (or a new one)."""
    with transaction.atomic():
        waiting = room.recordings.select_for_update().filter(status__in=WAITING, file="")
        recording = next(
            (r for r in waiting.order_by("created_at", "id") if "source" not in r.meta), None
        )
        recording = recording or Recording(room=room)
        recording.status = status
        for name, value in times.items():
            setattr(recording, name, value)
        recording.meta = {**recording.meta, _session_key(provider): session_id}
        recording.save()


def _recording_started(*, provider: VideoProvider, room: Room, event: RecordingStarted) -> None:
    recording = _session_recording(provider, room, event.session_id)
    if recording is None:
        _session_claim(
            provider=provider,
            room=room,
            session_id=event.session_id,
            status=RecordingStatus.IN_PROGRESS,
            started_at=event.at,
        )
    elif recording.started_at is None:  # out of order: the end or the upload came first
        Recording.objects.filter(pk=recording.pk, started_at=None).update(started_at=event.at)


def _recording_ended(*, provider: VideoProvider, room: Room, event: RecordingEnded) -> None:
    """The recording waits for its upload (PENDING); the upload's own times win over ours."""
    recording = _session_recording(provider, room, event.session_id)
    if recording is None and not event.session_id:
        recording = room.recordings.filter(status=RecordingStatus.IN_PROGRESS).last()
    if recording is None:  # out of order: the start has not come yet
        _session_claim(
            provider=provider,
            room=room,
            session_id=event.session_id,
            status=RecordingStatus.PENDING,
            ended_at=event.at,
        )
        return
    Recording.objects.filter(pk=recording.pk, ended_at=None).update(ended_at=event.at)
    Recording.objects.filter(pk=recording.pk, status=RecordingStatus.IN_PROGRESS).update(
        status=RecordingStatus.PENDING, updated_at=timezone.now()
    )


def _recording_uploaded(*, provider: VideoProvider, room: Room, event: RecordingUploaded) -> None:
    fields = {
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_secs": event.duration_secs,
    }
    meta = {
        "idempotency_key": event.key,
        _session_key(provider): event.session_id,
        f"{provider.name}_recording_session_id": event.recording_id,
    }
    started = _session_recording(provider, room, event.session_id)
    try:
        recording_accept_link(
            room=room,
            url=provider.recording_source(event=event),
            file_ext=event.file_ext,
            source=provider.name,
            meta=meta,
            prefer=started,
            **fields,
        )
    except RecordingRejected as exc:
        recording = recording_claim(
            room=room, meta={**meta, "source": provider.name}, prefer=started, **fields
        )
        recording_fail(recording=recording, message=f"{exc.field}: {exc.message}")


# Where each platform's participant reports are filed (``Attendance.source``).
_REPORT_SOURCE = {"jaas": AttendanceSource.JAAS_WEBHOOK, "jitsi": AttendanceSource.JITSI_EVENT}


def _participant(*, provider: VideoProvider, room: Room, event: ParticipantEvent) -> None:
    """One Attendance row per participant session; events may arrive in any order.

    A leave also ends the person's open "clicked Join" rows (matched by the id our link gave
    them: the user's pk, or a guest's synthetic id), see docs/register.md.
    """
    participant_id = event.participant_id[:128]
    if not participant_id:
        return
    source = _REPORT_SOURCE[provider.name]
    at = event.at
    user = None
    if event.user_id.isdigit():
        user = get_user_model().objects.filter(pk=int(event.user_id)).first()
    row = Attendance.objects.filter(room=room, participant_id=participant_id, source=source).first()
    if row is None:
        role = JoinRole.MODERATOR if event.moderator else None
        if role is None and user is not None:
            audit = (
                JoinAudit.objects.filter(room=room, user=user, granted=True)
                .order_by("-created_at")
                .first()
            )
            role = audit.role if audit is not None else None
        row = Attendance(
            room=room,
            user=user,
            participant_id=participant_id,
            source=source,
            display_name=(event.name or "Guest")[:64],
            role=role or JoinRole.OBSERVER,
            joined_at=at,
            person_id=event.user_id[:64],
        )
    if isinstance(event, ParticipantJoined):
        row.joined_at = min(row.joined_at, at)
    else:
        row.left_at = max(row.left_at or at, at)
        row.joined_at = min(row.joined_at, at)
    row.save()
    if isinstance(event, ParticipantLeft):
        session_end_joined(room_id=room.pk, person_id=event.user_id[:64], at=at)
