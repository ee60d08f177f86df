"""Recordings (SPEC §8): every file ends up in storage we own, and only the right people watch it.

Two ways in, one way to storage:

* Jibri (self-hosted) leaves an ``.mp4`` in ``RECORDING_LOCAL_DIR``; ``deploy/jibri/finalize.sh``
  posts its path. The path is checked (inside the directory, no ``..``, no symlink escape, a
  regular file) when the request arrives and again when the file is moved.
* JaaS posts a webhook with a link that expires after 24 h; we record the event and a django-q2
  task downloads the file under a strict policy (https, allow-listed hosts, public addresses
  only, each redirect re-checked, size cap, timeout), retrying with backoff.

Both are done by ``recording_download`` (the body of ``webinars.tasks.download_recording``), so a
failed move or download is retried the same way and ends FAILED with the error in ``meta``.
Files are hashed while streamed and reach storage only when complete (a temporary file first).

Who may watch: the people the §4 table lets into the lesson (``webinars.roles``); recordings of
open lessons and open meetings are public. Private files are served through short-lived
signed URLs: S3 presigned URLs, or a Django-signed link to the permission-checked local view.

``Recording.meta`` keys: ``source`` (jibri, jaas, jaas_dev_form, dev_upload, dev_dummy),
``local_path`` (Jibri, relative to RECORDING_LOCAL_DIR), ``url`` (the download link; dropped once
READY), ``url_host``, ``attempts``, ``error``, ``errors`` (history), ``next_attempt_at``,
``idempotency_key``, ``jaas_session_id``, ``jaas_recording_session_id``, ``jibri_metadata``.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import stat
import struct
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import urllib3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.files import File
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from webinars import roles
from webinars.choices import (
    AttendanceSource,
    JoinRole,
    RecordingStatus,
    RecordingStorage,
    RoomType,
)
from webinars.models import (
    Attendance,
    Enrollment,
    Guardianship,
    JoinAudit,
    Recording,
    Room,
    WebhookEvent,
    random_token,
)

logger = logging.getLogger("webinars.recordings")

TASK = "webinars.tasks.download_recording"
CHUNK_SIZE = 1024 * 1024
MAX_REDIRECTS = 5
RETRY_BASE_SECS = 60  # then ×4 per attempt: 1, 4, 16, 64 min… (JaaS links live 24 h)
ALLOWED_EXTENSIONS = {"mp4", "webm", "mkv", "m4a", "mp3", "ogg"}
MEDIA_SIGNER_SALT = "webinars.recordings.media"
WAITING = (RecordingStatus.PENDING, RecordingStatus.IN_PROGRESS)
STALE_AFTER = timedelta(hours=24)  # JaaS keeps its copy 24 h; Jibri finalizes within minutes


class RecordingRejected(Exception):
    """The caller sent something we will not ingest; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class DownloadError(Exception):
    """A failure worth retrying (network, 5xx, 404 while JaaS is still uploading…)."""


class DownloadRefused(DownloadError):
    """A failure no retry can fix (policy refusal, too large): FAILED at once."""


# --- Who may watch --------------------------------------------------------------------------


def _meeting_page(room: Room):
    try:
        return room.meeting_page
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: a meeting without its page
        return None


def recording_is_public(*, room: Room) -> bool:
    """Open lessons' and open meetings' recordings are public; closed lessons' are private."""
    if room.type == RoomType.MEETING:
        page = _meeting_page(room)
        return page.is_open if page is not None else room.is_open
    return bool(room.lesson_id and room.lesson.is_open)


def recording_visible_to(*, room: Room, user=None) -> bool:
    """May ``user`` (None or anonymous = nobody signed in) watch this room's recordings?

    Exactly the people the §4 table lets into the room — teacher and co-teachers, enrolled
    students, their parents, school staff — or anyone when the lesson or meeting is open.
    """
    user_id = user.pk if user is not None and user.is_authenticated else None
    staff = False
    if user_id is not None:
        staff = roles.is_school_staff(
            is_staff=user.is_staff,
            is_superuser=user.is_superuser,
            group_names=set(user.groups.values_list("name", flat=True)),
        )
    if room.type == RoomType.MEETING:
        page = _meeting_page(room)
        host_ids = set(page.hosts.values_list("pk", flat=True)) if page is not None else set()
        decision = roles.decide_meeting_role(
            user_id=user_id,
            host_ids=host_ids,
            is_school_staff=staff,
            meeting_is_open=recording_is_public(room=room),
        )
        return decision.granted
    lesson = room.lesson
    enrolled = is_parent = co_teacher = False
    if user_id is not None:
        co_teacher = lesson.co_teachers.filter(pk=user_id).exists()
        enrolled = Enrollment.objects.filter(
            student_id=user_id, subject_id=lesson.subject_id
        ).exists()
        is_parent = Guardianship.objects.filter(
            parent_id=user_id, child__enrollments__subject_id=lesson.subject_id
        ).exists()
    decision = roles.decide_lesson_role(
        user_id=user_id,
        teacher_id=lesson.teacher_id,
        is_co_teacher=co_teacher,
        is_enrolled=enrolled,
        is_parent_of_enrolled=is_parent,
        is_school_staff=staff,
        lesson_is_open=lesson.is_open,
        via_public_link=True,
    )
    return decision.granted


def _is_s3(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a runtime dependency
        return False
    return isinstance(storage, S3Storage)


def recording_media_url(*, recording: Recording, signed: bool) -> str:
    """The local view's URL; ``signed`` adds a TimestampSigner signature valid for the TTL."""
    url = recording.file.storage.url(recording.file.name)
    if not signed:
        return url
    _value, stamp, signature = (
        signing.TimestampSigner(salt=MEDIA_SIGNER_SALT).sign(recording.file.name).rsplit(":", 2)
    )
    return f"{url}?t={stamp}&s={signature}"


def recording_media_signature_valid(*, name: str, stamp: str, signature: str) -> bool:
    """True when ``t``/``s`` of a local media URL sign ``name`` and are younger than the TTL."""
    try:
        value = signing.TimestampSigner(salt=MEDIA_SIGNER_SALT).unsign(
            f"{name}:{stamp}:{signature}", max_age=settings.RECORDING_SIGNED_URL_TTL
        )
    except signing.BadSignature:  # includes SignatureExpired
        return False
    return value == name


def recording_public_url(*, recording: Recording, user=None) -> str | None:
    """A URL ``user`` can play now, or None (not ready, no file, or not theirs to watch).

    Private recordings get short-lived URLs (RECORDING_SIGNED_URL_TTL); public ones a presigned
    S3 URL too (the bucket stays private) or the plain local URL. Local URLs are site-relative.
    """
    if recording.status != RecordingStatus.READY or not recording.file:
        return None
    room = recording.room
    public = recording_is_public(room=room)
    if not public and not recording_visible_to(room=room, user=user):
        return None
    storage = recording.file.storage
    if _is_s3(storage):
        return storage.url(recording.file.name, expire=settings.RECORDING_SIGNED_URL_TTL)
    return recording_media_url(recording=recording, signed=not public)


# --- Shared secrets -------------------------------------------------------------------------


def recording_secret_valid(*, given: str | None) -> bool:
    """``X-Recording-Secret`` check, constant-time; an unset secret accepts nothing."""
    expected = settings.RECORDING_WEBHOOK_SECRET
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def jaas_signature_valid(*, header: str | None, body: bytes, now: datetime | None = None) -> bool:
    """``X-Jaas-Signature: t=<unix s>,v1=<base64 HMAC-SHA256(secret, t + "." + body)>``.

    The timestamp must be within JAAS_WEBHOOK_TOLERANCE_SEC of now (replays of old captures
    fail); every ``v1`` is compared in constant time; an unset secret accepts nothing.
    """
    import base64

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


# --- Claiming a recording row for a new file ------------------------------------------------


def _claim_recording(
    *, room: Room, meta: dict, prefer: Recording | None = None, **fields
) -> Recording:
    """The room's oldest recording still waiting for a file, or a new one; ``meta`` merged.

    A waiting row (PENDING/IN_PROGRESS, no file, no source yet) was made when the room opened;
    each further file of the same room gets its own row, so the list stays in order.
    """
    with transaction.atomic():
        waiting = (
            Recording.objects.select_for_update()
            .filter(room=room, status__in=WAITING, file="")
            .order_by("created_at", "id")
        )
        free = [r for r in waiting if "source" not in r.meta]
        preferred = [r for r in free if prefer is not None and r.pk == prefer.pk]
        recording = (preferred or free or [None])[0]
        if recording is None:
            recording = Recording(room=room, status=RecordingStatus.PENDING)
        recording.meta = {**recording.meta, **meta}
        if recording.status == RecordingStatus.IN_PROGRESS:
            recording.status = RecordingStatus.PENDING
        for name, value in fields.items():
            if value is not None:
                setattr(recording, name, value)
        recording.full_clean(exclude=["file"])
        recording.save()
    return recording


def _queue_download(recording: Recording) -> None:
    async_task(TASK, recording.pk, task_name=f"recording-{recording.pk}-ingest")


# --- Jibri ----------------------------------------------------------------------------------


def jibri_resolve_path(*, file_path: str) -> Path:
    """The real path of a Jibri file, refusing anything outside RECORDING_LOCAL_DIR.

    Relative paths are taken from RECORDING_LOCAL_DIR (what finalize.sh sends); absolute ones
    must lie inside it. ``..`` is refused outright, symlinks are followed and the target must
    still be inside, and the result must be a regular file.
    """
    if not file_path or "\x00" in file_path:
        raise RecordingRejected("file_path", "Give the recording's path.")
    base = Path(settings.RECORDING_LOCAL_DIR).resolve()
    raw = Path(file_path)
    if ".." in raw.parts:
        raise RecordingRejected("file_path", "The path may not contain '..'.")
    candidate = raw if raw.is_absolute() else base / raw
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise RecordingRejected("file_path", "No such file in the recordings directory.")
    if not resolved.is_relative_to(base) or resolved == base:
        raise RecordingRejected("file_path", "The file must lie inside the recordings directory.")
    if not stat.S_ISREG(resolved.stat().st_mode):
        raise RecordingRejected("file_path", "The path is not a regular file.")
    return resolved


def _extension(*, file_ext: str, path: Path) -> str:
    ext = (file_ext or path.suffix).lstrip(".").lower()
    if ext not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise RecordingRejected("file_ext", f"Unsupported extension; use one of {allowed}.")
    return ext


def _read_jibri_metadata(directory: Path) -> dict:
    meta_path = directory / "metadata.json"
    try:
        if meta_path.is_symlink() or meta_path.stat().st_size > 1024 * 1024:
            return {}
        data = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def jibri_room_name(*, meeting_url: str) -> str:
    """``https://jitsi.school.edu/[tenant/]cedar-abc?x#y`` → ``cedar-abc`` (lower-case)."""
    path = urlsplit(meeting_url or "").path.rstrip("/")
    return path.rsplit("/", 1)[-1].lower()


def jibri_room_for_file(*, path: Path) -> Room | None:
    """The room named by ``meeting_url`` in the Jibri ``metadata.json`` beside the file."""
    name = jibri_room_name(meeting_url=str(_read_jibri_metadata(path.parent).get("meeting_url")))
    return Room.objects.filter(jitsi_room=name).first() if name else None


def recording_accept_jibri_file(
    *, room: Room | None, file_path: str, file_ext: str = "", jitsi_room: str = ""
) -> Recording:
    """Accept a finished Jibri file: validate the path, claim a recording, queue the move.

    ``room`` None finds the room by ``jitsi_room`` or by Jibri's metadata.json. Nothing is
    moved when the input is refused (RecordingRejected). The move itself runs as a task so
    Jibri's finalize script returns at once, and a failed move is retried like a download.
    """
    path = jibri_resolve_path(file_path=file_path)
    ext = _extension(file_ext=file_ext, path=path)
    if room is None:
        if jitsi_room:
            room = Room.objects.filter(jitsi_room=jitsi_room.strip().lower()).first()
        else:
            room = jibri_room_for_file(path=path)
        if room is None:
            raise RecordingRejected(
                "jitsi_room", "Unknown room: send jitsi_room or keep metadata.json beside the file."
            )
    base = Path(settings.RECORDING_LOCAL_DIR).resolve()
    if Recording.objects.filter(
        meta__local_path=str(path.relative_to(base)), status__in=WAITING
    ).exists():
        raise RecordingRejected("file_path", "This file is already being ingested.")
    recording = _claim_recording(
        room=room,
        meta={"source": "jibri", "local_path": str(path.relative_to(base)), "ext": ext},
    )
    logger.info("recording accepted recording=%s room=%s source=jibri", recording.pk, room.pk)
    _queue_download(recording)
    recording.refresh_from_db()
    return recording


# --- JaaS -----------------------------------------------------------------------------------


def download_url_allowed(*, url: str) -> str | None:
    """Why ``url`` may not be downloaded (scheme or host), or None; no DNS lookup here."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.DEBUG and scheme == "http"):
        return "only https links are accepted"
    host = (parts.hostname or "").lower()
    if not host or not _host_allowed(host):
        return f"host {host or '?'} is not in RECORDING_DOWNLOAD_HOSTS"
    return None


def recording_accept_link(
    *,
    room: Room,
    url: str,
    file_ext: str = "mp4",
    source: str = "jaas",
    meta: dict | None = None,
    prefer: Recording | None = None,
    **fields,
) -> Recording:
    """Record that a file is waiting at ``url`` and queue its download (webhook handlers)."""
    ext = (file_ext or "mp4").lstrip(".").lower()
    if ext not in ALLOWED_EXTENSIONS:
        raise RecordingRejected("fileExt", "Unsupported extension.")
    reason = download_url_allowed(url=url)
    if reason:
        raise RecordingRejected("preAuthenticatedLink", f"Refused: {reason}.")
    recording = _claim_recording(
        room=room,
        meta={
            **(meta or {}),
            "source": source,
            "url": url,
            "url_host": urlsplit(url).hostname,
            "ext": ext,
            "attempts": 0,
        },
        prefer=prefer,
        **fields,
    )
    logger.info("recording accepted recording=%s room=%s source=%s", recording.pk, room.pk, source)
    _queue_download(recording)
    recording.refresh_from_db()
    return recording


def _event_time(payload: dict, now: datetime) -> datetime:
    stamp = payload.get("timestamp")
    if isinstance(stamp, int | float) and stamp > 0:
        return datetime.fromtimestamp(stamp / 1000, tz=UTC)
    return now


def _ms(value) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return None


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


def _jaas_recording_started(*, room: Room, session_id: str, at: datetime) -> None:
    recording = _session_recording(room, session_id)
    if recording is not None:
        return  # out of order: the upload (or a replay under another key) came first
    with transaction.atomic():
        waiting = room.recordings.select_for_update().filter(status__in=WAITING, file="")
        recording = next(
            (r for r in waiting.order_by("created_at", "id") if "source" not in r.meta), None
        )
        recording = recording or Recording(room=room)
        recording.status = RecordingStatus.IN_PROGRESS
        recording.started_at = at
        recording.meta = {**recording.meta, "jaas_session_id": session_id}
        recording.save()


def _jaas_recording_ended(*, room: Room, session_id: str, at: datetime) -> None:
    recording = _session_recording(room, session_id)
    if recording is None:
        recording = room.recordings.filter(status=RecordingStatus.IN_PROGRESS).last()
    if recording is None or recording.status not in WAITING:
        return
    recording.status = RecordingStatus.PENDING
    recording.ended_at = at
    recording.save(update_fields=["status", "ended_at", "updated_at"])


def _jaas_recording_uploaded(*, room: Room, session_id: str, key: str, data: dict) -> None:
    link = str(data.get("preAuthenticatedLink") or "")
    duration = data.get("durationSec")
    fields = {
        "started_at": _ms(data.get("startTimestamp")),
        "ended_at": _ms(data.get("endTimestamp")),
        "duration_secs": int(duration) if isinstance(duration, int | float) else None,
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
        recording = _claim_recording(
            room=room, meta={**meta, "source": "jaas"}, prefer=started, **fields
        )
        _fail(recording, f"{exc.field}: {exc.message}")


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


# --- The task: move or download into storage ------------------------------------------------


class _MovableFile(File):
    """A local file FileSystemStorage may rename into place (``temporary_file_path``)."""

    def __init__(self, path: Path):
        super().__init__(open(path, "rb"), name=path.name)  # noqa: SIM115 - closed by caller
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _mp4_boxes(fh, start: int, end: int):
    pos, seen = start, 0
    while pos + 8 <= end and seen < 10_000:
        fh.seek(pos)
        size, kind = struct.unpack(">I4s", fh.read(8))
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", fh.read(8))[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, pos + size
        pos += size
        seen += 1


def mp4_duration_secs(path: Path) -> int | None:
    """Duration from the MP4 ``moov/mvhd`` box (ffprobe is not available); None if unreadable."""
    try:
        with open(path, "rb") as fh:
            end = os.fstat(fh.fileno()).st_size
            for kind, start, stop in _mp4_boxes(fh, 0, end):
                if kind != b"moov":
                    continue
                for inner, istart, _istop in _mp4_boxes(fh, start, stop):
                    if inner != b"mvhd":
                        continue
                    fh.seek(istart)
                    version = fh.read(4)[0]
                    if version == 1:
                        fh.seek(16, os.SEEK_CUR)
                        timescale, duration = struct.unpack(">IQ", fh.read(12))
                    else:
                        fh.seek(8, os.SEEK_CUR)
                        timescale, duration = struct.unpack(">II", fh.read(8))
                    return round(duration / timescale) if timescale else None
    except (OSError, struct.error, IndexError):
        return None
    return None


def _store(recording: Recording, path: Path, *, ext: str) -> str:
    """Put the complete file at ``path`` into recording storage (rename when local)."""
    filename = f"room{recording.room_id}-rec{recording.pk}-{random_token(5)}.{ext}"
    name = recording.file.field.generate_filename(recording, filename)
    content = _MovableFile(path)
    try:
        return recording.file.storage.save(name, content, max_length=500)
    finally:
        content.close()


def _finish(recording: Recording, *, saved_name: str, size: int, sha256: str, **fields) -> None:
    recording.file.name = saved_name
    recording.status = RecordingStatus.READY
    recording.size_bytes = size
    recording.checksum_sha256 = sha256
    recording.storage = (
        RecordingStorage.S3 if _is_s3(recording.file.storage) else RecordingStorage.LOCAL
    )
    for name, value in fields.items():
        if value is not None:
            setattr(recording, name, value)
    if recording.duration_secs is None and recording.started_at and recording.ended_at:
        recording.duration_secs = max(
            0, int((recording.ended_at - recording.started_at).total_seconds())
        )
    for key in ("url", "error", "next_attempt_at"):
        recording.meta.pop(key, None)
    recording.save()
    logger.info(
        "recording ready recording=%s room=%s size=%s", recording.pk, recording.room_id, size
    )
    _notify(recording)


def _ingest_jibri(recording: Recording) -> None:
    try:
        path = jibri_resolve_path(file_path=recording.meta.get("local_path", ""))
    except RecordingRejected as exc:
        raise DownloadRefused(exc.message)
    size, sha256 = _hash_file(path)
    if size > settings.RECORDING_MAX_BYTES:
        raise DownloadRefused(f"the file is larger than RECORDING_MAX_BYTES ({size} bytes)")
    jibri = _read_jibri_metadata(path.parent)
    duration = next(
        (
            int(jibri[key])
            for key in ("duration", "duration_secs", "durationSec")
            if isinstance(jibri.get(key), int | float)
        ),
        None,
    )
    if duration is None:
        duration = mp4_duration_secs(path)
    if duration is None and not (recording.started_at and recording.ended_at):
        room = recording.room
        if room.started_at and room.ended_at:
            duration = max(0, int((room.ended_at - room.started_at).total_seconds()))
    if jibri:
        recording.meta["jibri_metadata"] = {
            "meeting_url": jibri.get("meeting_url"),
            "participants": len(jibri.get("participants") or []),
        }
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.status == RecordingStatus.READY:
            return
        saved = _store(recording, path, ext=recording.meta.get("ext", "mp4"))
        if path.exists():  # S3 (or any non-renaming storage): the copy is done
            path.unlink()
        _finish(recording, saved_name=saved, size=size, sha256=sha256, duration_secs=duration)


def _host_allowed(host: str) -> bool:
    for entry in settings.RECORDING_DOWNLOAD_HOSTS:
        entry = entry.strip().lower()
        if entry.startswith("."):
            if host.endswith(entry) or host == entry[1:]:
                return True
        elif host == entry:
            return True
    return False


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if settings.DEBUG and ip.is_loopback:
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str


def _check_target(url: str) -> _Target:
    """Policy check of one hop; returns the vetted address the connection is pinned to."""
    reason = download_url_allowed(url=url)
    if reason:
        raise DownloadRefused(reason)
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DownloadError(f"cannot resolve {host}: {exc.strerror}")
    addresses = [info[4][0] for info in infos]
    refused = [a for a in addresses if not _address_allowed(a)]
    if refused:
        raise DownloadRefused(f"{host} resolves to a non-public address ({refused[0]})")
    if not addresses:
        raise DownloadError(f"cannot resolve {host}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme, host, port, addresses[0], path)


def _open(target: _Target):
    """GET pinned to the vetted address (no second DNS lookup), TLS verified unless DEBUG."""
    timeout = urllib3.Timeout(
        connect=settings.RECORDING_DOWNLOAD_TIMEOUT, read=settings.RECORDING_DOWNLOAD_TIMEOUT
    )
    options = {"timeout": timeout, "retries": False, "maxsize": 1}
    if target.scheme == "https":
        verify = not settings.DEBUG
        import certifi

        options.update(
            cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
            ca_certs=certifi.where() if verify else None,
            server_hostname=target.host,
            assert_hostname=target.host if verify else False,
        )
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        return pool.urlopen(
            "GET",
            target.path,
            headers={"Host": host_header, "User-Agent": "cedar-portal/1"},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise DownloadError(f"cannot fetch from {target.host}: {type(exc).__name__}")


def _fetch(url: str, fh) -> tuple[int, str]:
    """Stream ``url`` into ``fh``; returns (size, sha256). Redirects are followed by hand."""
    max_bytes = settings.RECORDING_MAX_BYTES
    for _hop in range(MAX_REDIRECTS + 1):
        target = _check_target(url)
        response = _open(target)
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise DownloadError(f"{target.host} redirected without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise DownloadError(f"{target.host} answered HTTP {response.status}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise DownloadRefused(f"the file is larger than RECORDING_MAX_BYTES ({length})")
            digest, size = hashlib.sha256(), 0
            try:
                for chunk in response.stream(CHUNK_SIZE, decode_content=False):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadRefused("the file is larger than RECORDING_MAX_BYTES")
                    digest.update(chunk)
                    fh.write(chunk)
            except urllib3.exceptions.HTTPError as exc:
                raise DownloadError(f"download from {target.host} broke: {type(exc).__name__}")
            if length.isdigit() and size != int(length):
                raise DownloadError(f"short read from {target.host} ({size}/{length} bytes)")
            return size, digest.hexdigest()
        finally:
            response.release_conn()
            response.close()
    raise DownloadRefused(f"more than {MAX_REDIRECTS} redirects")


def _ingest_link(recording: Recording) -> None:
    url = recording.meta.get("url") or ""
    if not url:
        raise DownloadRefused("no download link is known for this recording")
    handle, tmp_name = tempfile.mkstemp(prefix="recording-", suffix=".part")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as fh:
            size, sha256 = _fetch(url, fh)
        with transaction.atomic():
            locked = Recording.objects.select_for_update().get(pk=recording.pk)
            if locked.status == RecordingStatus.READY:
                return
            saved = _store(recording, tmp_path, ext=recording.meta.get("ext", "mp4"))
            _finish(recording, saved_name=saved, size=size, sha256=sha256)
    finally:
        tmp_path.unlink(missing_ok=True)


def recording_download(*, recording_id: int, now: datetime | None = None) -> Recording | None:
    """Bring one recording's file into storage (task body of ``download_recording``).

    Jibri files are moved, JaaS links downloaded. A transient failure schedules the next try
    (a django-q2 ONCE Schedule with backoff) until RECORDING_DOWNLOAD_ATTEMPTS; a refusal or
    the last failure marks the recording FAILED, keeps the error in ``meta`` and tells the
    teacher. Safe to run twice: a READY recording is left alone.
    """
    now = now or timezone.now()
    recording = Recording.objects.select_related("room").filter(pk=recording_id).first()
    if recording is None or recording.status in (RecordingStatus.READY, RecordingStatus.FAILED):
        return recording  # FAILED starts again only through recording_retry
    attempt = int(recording.meta.get("attempts") or 0) + 1
    recording.meta["attempts"] = attempt
    recording.meta.pop("next_attempt_at", None)
    Recording.objects.filter(pk=recording.pk).update(meta=recording.meta)
    try:
        if recording.meta.get("source") == "jibri":
            _ingest_jibri(recording)
        else:
            _ingest_link(recording)
    except DownloadError as exc:
        message = str(exc)
        recording.meta.setdefault("errors", []).append(
            {"at": now.isoformat(), "attempt": attempt, "error": message}
        )
        recording.meta["errors"] = recording.meta["errors"][-10:]
        recording.meta["error"] = message
        permanent = isinstance(exc, DownloadRefused)
        if permanent or attempt >= settings.RECORDING_DOWNLOAD_ATTEMPTS:
            _fail(recording, message)
        else:
            _schedule_retry(recording, attempt=attempt, now=now)
        logger.warning(
            "recording ingest failed recording=%s attempt=%s error=%s",
            recording.pk,
            attempt,
            message,
        )
    except Exception as exc:  # noqa: BLE001 - storage/disk trouble or a bug: retry, never hang
        logger.exception("recording ingest crashed recording=%s attempt=%s", recording.pk, attempt)
        recording.meta["error"] = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
        if attempt >= settings.RECORDING_DOWNLOAD_ATTEMPTS:
            _fail(recording, recording.meta["error"])
        else:
            _schedule_retry(recording, attempt=attempt, now=now)
    recording.refresh_from_db()
    return recording


def retry_delay(*, attempt: int) -> timedelta:
    """Backoff after failed attempt ``attempt`` (1-based): 1, 4, 16, 64 minutes, at most 6 h."""
    return timedelta(seconds=min(RETRY_BASE_SECS * 4 ** (attempt - 1), 6 * 3600))


def _schedule_retry(recording: Recording, *, attempt: int, now: datetime) -> None:
    next_run = now + retry_delay(attempt=attempt)
    recording.meta["next_attempt_at"] = next_run.isoformat()
    recording.status = RecordingStatus.PENDING
    recording.save(update_fields=["meta", "status", "updated_at"])
    Schedule.objects.create(
        name=f"recording {recording.pk} retry {attempt + 1}"[:100],
        func=TASK,
        args=repr(recording.pk),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=next_run,
    )


def _fail(recording: Recording, message: str) -> None:
    recording.status = RecordingStatus.FAILED
    recording.meta["error"] = message
    recording.meta.pop("next_attempt_at", None)
    recording.save(update_fields=["status", "meta", "updated_at"])
    logger.warning("recording failed recording=%s room=%s", recording.pk, recording.room_id)
    _notify(recording)


def recording_retry(*, recording: Recording) -> Recording:
    """The admin's "retry": start over with a fresh attempt count (the error history stays).

    Only FAILED or still-waiting recordings that know where their file is (a link or a Jibri
    path) can be retried; READY ones are left alone.
    """
    if recording.status == RecordingStatus.READY:
        raise RecordingRejected("status", "This recording is already ready.")
    if not (recording.meta.get("url") or recording.meta.get("local_path")):
        raise RecordingRejected("source", "Nothing to retry: no download link or Jibri file.")
    recording.status = RecordingStatus.PENDING
    recording.meta["attempts"] = 0
    recording.meta.pop("error", None)
    recording.meta.pop("next_attempt_at", None)
    recording.save(update_fields=["status", "meta", "updated_at"])
    Schedule.objects.filter(func=TASK, args=repr(recording.pk)).delete()
    _queue_download(recording)
    recording.refresh_from_db()
    return recording


def recording_expire_stale(*, now: datetime | None = None, after: timedelta = STALE_AFTER) -> int:
    """FAIL recordings still waiting for a file long after their room closed; returns how many.

    Without this a lesson whose file never came (Jibri down, no upload webhook) would show
    "processing" forever. Recordings that know where their file is are left to the retries.
    Meant for a periodic schedule (e.g. hourly, ``webinars.tasks`` entry point).
    """
    now = now or timezone.now()
    stale = Recording.objects.select_related("room").filter(
        status__in=WAITING, file="", room__ended_at__lt=now - after
    )
    count = 0
    for recording in stale:
        if recording.meta.get("source"):
            continue
        hours = round(after.total_seconds() / 3600)
        _fail(recording, f"no recording file arrived within {hours} h of the room closing")
        count += 1
    return count


# --- Notifications --------------------------------------------------------------------------


def recording_recipients(*, room: Room) -> list[str]:
    """Who hears about a room's recordings: the teacher (and co-teachers), or meeting hosts."""
    if room.type == RoomType.MEETING:
        page = _meeting_page(room)
        people = list(page.hosts.all()) if page is not None else []
    else:
        people = [room.lesson.teacher, *room.lesson.co_teachers.all()]
    return sorted({person.email for person in people if person.email})


def _notify(recording: Recording) -> None:
    kind = "ready" if recording.status == RecordingStatus.READY else "failed"
    recipients = recording_recipients(room=recording.room)
    if not recipients:
        return
    base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
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
    except OSError:  # a mail outage must not undo the ingest
        logger.exception("recording email failed recording=%s", recording.pk)


# --- Development helpers (DEBUG only; the API checks) ---------------------------------------


def dummy_mp4_bytes(*, duration_secs: int = 5, payload_bytes: int = 64 * 1024) -> bytes:
    """A tiny MP4-shaped file (ftyp, moov/mvhd with a duration, mdat) for demos and tests."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    mvhd_body = struct.pack(">B3sIIII", 0, b"\0\0\0", 0, 0, 1000, duration_secs * 1000)
    mvhd_body += b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    mdat = struct.pack(">I4s", 8 + payload_bytes, b"mdat") + os.urandom(payload_bytes)
    return ftyp + moov + mdat


def _dev_drop(*, room: Room, chunks, ext: str) -> Path:
    directory = Path(settings.RECORDING_LOCAL_DIR) / "dev" / f"room{room.pk}-{random_token(4)}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{room.jitsi_room}-{int(time.time())}.{ext}"
    with open(path, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return path


def recording_make_dummy(*, room: Room, duration_secs: int = 5) -> Recording:
    """Write a dummy file into Jibri's directory and ingest it the way Jibri's would be."""
    path = _dev_drop(room=room, chunks=[dummy_mp4_bytes(duration_secs=duration_secs)], ext="mp4")
    return recording_accept_jibri_file(room=room, file_path=str(path), file_ext="mp4")


def recording_store_upload(*, room: Room, upload) -> Recording:
    """Put an uploaded file into Jibri's directory and ingest it like a Jibri file."""
    ext = _extension(file_ext="", path=Path(upload.name or "upload.mp4"))
    path = _dev_drop(room=room, chunks=upload.chunks(), ext=ext)
    return recording_accept_jibri_file(room=room, file_path=str(path), file_ext=ext)
