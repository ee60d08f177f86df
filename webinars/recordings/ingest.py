"""Bringing recording files into storage, once, whatever goes wrong (SPEC §8).

Jibri files are validated when announced and moved by a task; JaaS links are recorded and
downloaded by the same task (``recording_download``, the body of
``webinars.tasks.download_recording``). A transient failure schedules the next attempt with
backoff (a django-q2 ONCE Schedule); a refusal or the last attempt marks the recording FAILED
with the error in ``meta``. Files reach storage only complete (a temporary file first). The
teacher (or the meeting's hosts) is emailed when a recording becomes READY or FAILED.
"""

import copy
import logging
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from webinars.choices import RecordingStatus, RecordingStorage, RoomType
from webinars.models import Recording, Room, random_token
from webinars.recordings.access import is_s3_storage, recording_is_public
from webinars.recordings.errors import DownloadError, DownloadRefused, RecordingRejected
from webinars.recordings.fetch import download_url_allowed, fetch_to_file
from webinars.recordings.files import (
    ALLOWED_EXTENSIONS,
    MovableFile,
    dummy_mp4_bytes,
    hash_file,
    jibri_resolve_path,
    jibri_room_name,
    mp4_duration_secs,
    read_jibri_metadata,
    recording_extension,
)
from webinars.selectors.viewer import meeting_page_for

logger = logging.getLogger("webinars.recordings")

TASK = "webinars.tasks.download_recording"
RETRY_BASE_SECS = 60  # then ×4 per attempt: 1, 4, 16, 64 min… (JaaS links live 24 h)
WAITING = (RecordingStatus.PENDING, RecordingStatus.IN_PROGRESS)
S3_PART_BYTES = 5 * 1024 * 1024  # S3's minimum part; 10,000 parts = 50 GB
S3_UPLOAD_THREADS = 2  # bench_ingest.py --s3: +37 MB RSS for 500 MB (10 threads: +135 MB)
STALE_AFTER = timedelta(hours=24)  # JaaS keeps its copy 24 h; Jibri finalizes within minutes


def recording_claim(
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


def jibri_room_for_file(*, path: Path) -> Room | None:
    """The room named by ``meeting_url`` in the Jibri ``metadata.json`` beside the file."""
    name = jibri_room_name(meeting_url=str(read_jibri_metadata(path.parent).get("meeting_url")))
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
    ext = recording_extension(file_ext=file_ext, path=path)
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
    recording = recording_claim(
        room=room,
        meta={"source": "jibri", "local_path": str(path.relative_to(base)), "ext": ext},
    )
    logger.info("recording accepted recording=%s room=%s source=jibri", recording.pk, room.pk)
    _queue_download(recording)
    recording.refresh_from_db()
    return recording


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
    recording = recording_claim(
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


def _bounded_upload(storage):
    """The S3 storage with multipart uploads of bounded memory.

    boto3's default TransferConfig keeps up to 10 parts of 8 MB in memory and uploads them on
    10 threads: bench_ingest.py measured about 135 MB more RSS for a 500 MB file. A copy, so
    the shared storage object is left as configured.
    """
    from boto3.s3.transfer import TransferConfig

    bounded = copy.copy(storage)
    config = TransferConfig(
        multipart_threshold=S3_PART_BYTES,
        multipart_chunksize=S3_PART_BYTES,
        max_concurrency=S3_UPLOAD_THREADS,
        use_threads=S3_UPLOAD_THREADS > 1,
    )
    # Parts read from a file object wait in memory; s3transfer's knob, not in boto3's __init__.
    config.max_in_memory_upload_chunks = S3_UPLOAD_THREADS
    bounded.transfer_config = config
    return bounded


def _store(recording: Recording, path: Path, *, ext: str) -> str:
    """Put the complete file at ``path`` into recording storage (rename when local)."""
    filename = f"room{recording.room_id}-rec{recording.pk}-{random_token(5)}.{ext}"
    name = recording.file.field.generate_filename(recording, filename)
    storage = recording.file.storage
    if is_s3_storage(storage):
        storage = _bounded_upload(storage)
    content = MovableFile(path)
    try:
        return storage.save(name, content, max_length=500)
    finally:
        content.close()


def _finish(recording: Recording, *, saved_name: str, size: int, sha256: str, **fields) -> None:
    recording.file.name = saved_name
    recording.status = RecordingStatus.READY
    recording.size_bytes = size
    recording.checksum_sha256 = sha256
    recording.storage = (
        RecordingStorage.S3 if is_s3_storage(recording.file.storage) else RecordingStorage.LOCAL
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


def _ingest_jibri(recording: Recording) -> None:
    try:
        path = jibri_resolve_path(file_path=recording.meta.get("local_path", ""))
    except RecordingRejected as exc:
        raise DownloadRefused(exc.message)
    size, sha256 = hash_file(path)
    if size > settings.RECORDING_MAX_BYTES:
        raise DownloadRefused(f"the file is larger than RECORDING_MAX_BYTES ({size} bytes)")
    jibri = read_jibri_metadata(path.parent)
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
    _notify(recording)  # after the commit, not while holding the row lock


def _ingest_link(recording: Recording) -> None:
    url = recording.meta.get("url") or ""
    if not url:
        raise DownloadRefused("no download link is known for this recording")
    handle, tmp_name = tempfile.mkstemp(prefix="recording-", suffix=".part")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as fh:
            size, sha256 = fetch_to_file(url, fh)
        with transaction.atomic():
            locked = Recording.objects.select_for_update().get(pk=recording.pk)
            if locked.status == RecordingStatus.READY:
                return
            saved = _store(recording, tmp_path, ext=recording.meta.get("ext", "mp4"))
            _finish(recording, saved_name=saved, size=size, sha256=sha256)
        _notify(recording)
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
            recording_fail(recording, message)
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
            recording_fail(recording, recording.meta["error"])
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


def recording_fail(recording: Recording, message: str) -> None:
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
    """FAIL recordings stuck waiting; returns how many. Meant for an hourly schedule.

    Without this a lesson whose file never came (Jibri down, no upload webhook) would show
    "processing" forever, and so would an ingest whose worker was killed (django-q2's task
    timeout) before it could schedule its retry. Both are FAILED ``after`` (24 h) with the
    reason in ``meta``, and the teacher is told; editors can still retry the second kind.
    """
    now = now or timezone.now()
    cutoff = now - after
    hours = round(after.total_seconds() / 3600)
    waiting = Recording.objects.select_related("room").filter(status__in=WAITING, file="")
    no_file = waiting.filter(room__ended_at__lt=cutoff).exclude(meta__has_key="source")
    stuck = waiting.filter(meta__has_key="source", updated_at__lt=cutoff)
    count = 0
    for recording in no_file:
        recording_fail(recording, f"no recording file arrived within {hours} h of the room closing")
        count += 1
    for recording in stuck:
        recording_fail(recording, f"the ingest stopped without finishing for {hours} h")
        count += 1
    return count


def recording_recipients(*, room: Room) -> list[str]:
    """Who hears about a room's recordings: the teacher (and co-teachers), or meeting hosts."""
    if room.type == RoomType.MEETING:
        page = meeting_page_for(room=room)
        people = list(page.hosts.all()) if page is not None else []
    else:
        people = [room.lesson.teacher, *room.lesson.co_teachers.all()]
    return sorted({person.email for person in people if person.email})


def _notify(recording: Recording) -> None:
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
    except OSError:  # a mail outage must not undo the ingest
        logger.exception("recording email failed recording=%s", recording.pk)


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
    ext = recording_extension(file_ext="", path=Path(upload.name or "upload.mp4"))
    path = _dev_drop(room=room, chunks=upload.chunks(), ext=ext)
    return recording_accept_jibri_file(room=room, file_path=str(path), file_ext=ext)
