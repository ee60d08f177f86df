"""JaaS webhooks (SPEC §7): signature check, once-only handling per idempotencyKey, events.

Recording events move the room's recording through IN_PROGRESS → PENDING and queue the
download; participant events become Attendance rows (source ``jaas_webhook``). Events may
arrive out of order: each handler copes with the others' absence.
"""

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from webinars.choices import AttendanceSource, JoinRole, RecordingStatus
from webinars.models import Attendance, JoinAudit, Recording, Room, WebhookEvent
from webinars.recordings.accept import recording_accept_link, recording_claim
from webinars.recordings.errors import RecordingRejected
from webinars.recordings.ingest import WAITING, recording_fail

logger = logging.getLogger("webinars.recordings")


def jaas_signature_valid(*, header: str | None, body: bytes, now: datetime | None = None) -> bool:
    """``X-Jaas-Signature: t=<unix s>,v1=<base64 HMAC-SHA256(secret, t + "." + body)>``.

    The timestamp must be within JAAS_WEBHOOK_TOLERANCE_SEC of now (replays of old captures
    fail); every ``v1`` is compared in constant time; an unset secret accepts nothing.
    """
    secret = settings.JAAS_WEBHOOK_SECRET
    if not secret or not header:
        return False
    stamp, candidates = None, []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1" and value:
            candidates.append(value)
    if not stamp or not stamp.isdigit() or not candidates:
        return False
    now_ts = (now or timezone.now()).timestamp()
    if abs(now_ts - int(stamp)) > settings.JAAS_WEBHOOK_TOLERANCE_SEC:
        return False
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    ok = False
    for candidate in candidates:
        ok |= hmac.compare_digest(expected, candidate.encode())
    return ok


def _event_time(payload: dict, now: datetime) -> datetime:
    return _ms(payload.get("timestamp")) or now


def _ms(value) -> datetime | None:
    """JaaS milliseconds → aware UTC; None for anything that is not a plausible time."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _seconds(value) -> int | None:
    """A duration in seconds (0 … 7 days), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if 0 <= value <= 7 * 86400 else None


def jaas_room_for_fqn(*, fqn: str) -> Room | None:
    """``<AppID>/<room>`` → our room (names are lower-case)."""
    name = (fqn or "").rsplit("/", 1)[-1].strip().lower()
    return Room.objects.filter(jitsi_room=name).first() if name else None


@dataclass
class WebhookOutcome:
    event: WebhookEvent
    duplicate: bool


def jaas_webhook_handle(*, payload: dict, now: datetime | None = None) -> WebhookOutcome:
    """Record one verified JaaS event, once per ``idempotencyKey``, and act on it.

    A replay of a key already seen changes nothing. Unknown rooms are recorded and ignored
    (answering 200, so JaaS does not retry forever). Recording downloads run as tasks.
    """
    now = now or timezone.now()
    key = str(payload.get("idempotencyKey") or "")
    if not key:
        raise RecordingRejected("idempotencyKey", "Missing idempotencyKey.")
    event_type = str(payload.get("eventType") or "")[:64]
    room = jaas_room_for_fqn(fqn=str(payload.get("fqn") or ""))
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                idempotency_key=key[:200], event_type=event_type, room=room, payload=payload
            )
    except IntegrityError:
        return WebhookOutcome(WebhookEvent.objects.get(idempotency_key=key[:200]), True)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    at = _event_time(payload, now)
    session_id = str(payload.get("sessionId") or "")
    if room is None:
        logger.warning("jaas event for an unknown room type=%s", event_type)
    elif event_type == "RECORDING_STARTED":
        _jaas_recording_started(room=room, session_id=session_id, at=at)
    elif event_type == "RECORDING_ENDED":
        _jaas_recording_ended(room=room, session_id=session_id, at=at)
    elif event_type == "RECORDING_UPLOADED":
        _jaas_recording_uploaded(room=room, session_id=session_id, key=key, data=data)
    elif event_type in ("PARTICIPANT_JOINED", "PARTICIPANT_LEFT"):
        _jaas_participant(room=room, joined=event_type == "PARTICIPANT_JOINED", data=data, at=at)
    return WebhookOutcome(event, False)


def _session_recording(room: Room, session_id: str) -> Recording | None:
    if not session_id:
        return None
    return room.recordings.filter(meta__jaas_session_id=session_id).order_by("-created_at").first()


def _session_claim(*, room: Room, session_id: str, status: str, **times) -> None:
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
        recording.meta = {**recording.meta, "jaas_session_id": session_id}
        recording.save()


def _jaas_recording_started(*, room: Room, session_id: str, at: datetime) -> None:
    recording = _session_recording(room, session_id)
    if recording is None:
        _session_claim(
            room=room, session_id=session_id, status=RecordingStatus.IN_PROGRESS, started_at=at
        )
    elif recording.started_at is None:  # out of order: the end or the upload came first
        Recording.objects.filter(pk=recording.pk, started_at=None).update(started_at=at)


def _jaas_recording_ended(*, room: Room, session_id: str, at: datetime) -> None:
    """The recording waits for its upload (PENDING); the upload's own times win over ours."""
    recording = _session_recording(room, session_id)
    if recording is None and not session_id:
        recording = room.recordings.filter(status=RecordingStatus.IN_PROGRESS).last()
    if recording is None:  # out of order: the start has not come yet
        _session_claim(
            room=room, session_id=session_id, status=RecordingStatus.PENDING, ended_at=at
        )
        return
    Recording.objects.filter(pk=recording.pk, ended_at=None).update(ended_at=at)
    Recording.objects.filter(pk=recording.pk, status=RecordingStatus.IN_PROGRESS).update(
        status=RecordingStatus.PENDING, updated_at=timezone.now()
    )


def _jaas_recording_uploaded(*, room: Room, session_id: str, key: str, data: dict) -> None:
    link = str(data.get("preAuthenticatedLink") or "")
    duration = data.get("durationSec")
    fields = {
        "started_at": _ms(data.get("startTimestamp")),
        "ended_at": _ms(data.get("endTimestamp")),
        "duration_secs": _seconds(duration),
    }
    meta = {
        "idempotency_key": key,
        "jaas_session_id": session_id,
        "jaas_recording_session_id": str(data.get("recordingSessionId") or ""),
    }
    started = _session_recording(room, session_id)
    try:
        recording_accept_link(
            room=room, url=link, file_ext="mp4", meta=meta, prefer=started, **fields
        )
    except RecordingRejected as exc:
        recording = recording_claim(
            room=room, meta={**meta, "source": "jaas"}, prefer=started, **fields
        )
        recording_fail(recording=recording, message=f"{exc.field}: {exc.message}")


def _jaas_participant(*, room: Room, joined: bool, data: dict, at: datetime) -> None:
    """One Attendance row per JaaS participant session; events may arrive in any order."""
    participant_id = str(data.get("participantId") or data.get("participantJid") or "")[:128]
    if not participant_id:
        return
    user = None
    user_ref = str(data.get("id") or "")
    if user_ref.isdigit():
        user = get_user_model().objects.filter(pk=int(user_ref)).first()
    row = Attendance.objects.filter(
        room=room, participant_id=participant_id, source=AttendanceSource.JAAS_WEBHOOK
    ).first()
    if row is None:
        role = JoinRole.MODERATOR if str(data.get("moderator")).lower() == "true" else None
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
            source=AttendanceSource.JAAS_WEBHOOK,
            display_name=str(data.get("name") or "Guest")[:64],
            role=role or JoinRole.OBSERVER,
            joined_at=at,
        )
    if joined:
        row.joined_at = min(row.joined_at, at)
    else:
        row.left_at = max(row.left_at or at, at)
        row.joined_at = min(row.joined_at, at)
    row.save()
