"""Bringing recording files into storage, once, whatever goes wrong (docs/recordings.md).

Jibri files are validated when announced and moved by a task; JaaS links are recorded and
downloaded by the same task (``recording_download``, the body of
``webinars.tasks.download_recording``). An attempt may be cut anywhere (worker killed, database
locked or down, storage down) and the next one finishes the job:

1. a file already complete at the row's ``meta["destination"]`` finishes the row;
2. otherwise the source becomes a complete local file (Jibri's, or a download into a temporary
   file), hashed;
3. its destination name, size and sha256 are saved on the row before anything is written;
4. the file is put at exactly that name (a rename when local);
5. one transaction makes the row READY (``recording_finish``).

A transient failure schedules the next attempt with backoff (a django-q2 ONCE Schedule); a
refusal or the last attempt makes it FAILED (``recording_fail``) with the error in ``meta``.
Writes are conditional on the row still waiting, so a late or duplicate attempt never undoes a
READY row. An attempt that could not even record its failure is re-queued by the hourly check.
"""

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from webinars import events
from webinars.choices import RecordingStatus, RecordingStorage
from webinars.models import Recording
from webinars.recordings.access import is_s3_storage
from webinars.recordings.emails import recording_failed_notify
from webinars.recordings.errors import DownloadError, DownloadRefused, RecordingRejected
from webinars.recordings.fetch import fetch_to_file
from webinars.recordings.files import (
    hash_file,
    jibri_resolve_path,
    mp4_duration_secs,
    read_jibri_metadata,
)
from webinars.recordings.storage import destination_name, stored_put, stored_sha256, stored_size

logger = logging.getLogger("webinars.recordings")

TASK = "webinars.tasks.download_recording"
RETRY_BASE_SECS = 60  # then ×4 per attempt: 1, 4, 16, 64 min… (JaaS links live 24 h)
WAITING = (RecordingStatus.PENDING, RecordingStatus.IN_PROGRESS)
# Meta keys of an ingest under way, dropped once the file is in place.
INGEST_META = (
    "url",
    "error",
    "next_attempt_at",
    "attempt_at",
    "destination",
    "expected_size",
    "expected_sha256",
)


def _queue_download(recording: Recording) -> None:
    async_task(TASK, recording.pk, task_name=f"recording-{recording.pk}-ingest")


# --- The two status transitions -------------------------------------------------------------


def recording_finish(*, recording: Recording, name: str, size: int, sha256: str) -> bool:
    """The one way a recording becomes READY: its file is complete at ``name`` in storage.

    One transaction on the freshly read row, so a row is READY only with its file, size and
    checksum; False (nothing written) when it was READY already. Mails after the commit.
    """
    with transaction.atomic():
        row = Recording.objects.select_for_update().filter(pk=recording.pk).first()
        if row is None or row.status == RecordingStatus.READY:
            return False
        previous = row.status
        row.file.name = name
        row.status = RecordingStatus.READY
        row.size_bytes = size
        row.checksum_sha256 = sha256
        row.storage = (
            RecordingStorage.S3 if is_s3_storage(row.file.storage) else RecordingStorage.LOCAL
        )
        if row.duration_secs is None and row.started_at and row.ended_at:
            row.duration_secs = max(0, int((row.ended_at - row.started_at).total_seconds()))
        for key in INGEST_META:
            row.meta.pop(key, None)
        row.meta["verified_at"] = timezone.now().isoformat()
        row.save()
        _state_changed(row, previous=previous)
    logger.info("recording ready recording=%s room=%s size=%s", row.pk, row.room_id, size)
    recording.refresh_from_db()  # the recording-ready notice tells people (services/notices.py)
    return True


def recording_fail(*, recording: Recording, message: str) -> bool:
    """The one way a recording becomes FAILED, with ``message`` kept; never a READY one."""
    meta = {**recording.meta, "error": message}
    meta.pop("next_attempt_at", None)
    meta.pop("attempt_at", None)
    previous = recording.status
    with transaction.atomic():
        failed = (
            Recording.objects.filter(pk=recording.pk)
            .exclude(status=RecordingStatus.READY)
            .update(status=RecordingStatus.FAILED, meta=meta, updated_at=timezone.now())
        )
        if not failed:
            return False
        recording.status, recording.meta = RecordingStatus.FAILED, meta
        _state_changed(recording, previous=previous)
    logger.warning("recording failed recording=%s room=%s", recording.pk, recording.room_id)
    recording_failed_notify(recording=recording)
    return True


def _state_changed(recording: Recording, *, previous: str) -> None:
    """Tell subscribers (notices, outbound webhooks) once the new state is committed."""
    events.emit(
        events.RecordingStateChanged(
            recording_id=recording.pk,
            room_id=recording.room_id,
            previous=previous,
            status=recording.status,
            at=timezone.now(),
        )
    )


# --- One attempt ------------------------------------------------------------------------------


def _save_waiting(recording: Recording, **fields) -> bool:
    """Write ``fields`` only while the row still waits for its file; False once it does not.

    A duplicate or late attempt (a retry racing the admin's, a re-queued one) can then never
    turn a READY recording back into PENDING or overwrite what a finished attempt wrote.
    """
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(recording, name, value)
    return bool(Recording.objects.filter(pk=recording.pk, status__in=WAITING).update(**fields))


@dataclass
class _Source:
    """A complete local copy of the recording, about to be put into storage."""

    path: Path
    size: int
    sha256: str
    duration_secs: int | None = None
    jibri: bool = False


def _jibri_duration(recording: Recording, path: Path, jibri: dict) -> int | None:
    for key in ("duration", "duration_secs", "durationSec"):
        if isinstance(jibri.get(key), int | float):
            return int(jibri[key])
    duration = mp4_duration_secs(path)
    if duration is None and not (recording.started_at and recording.ended_at):
        room = recording.room
        if room.started_at and room.ended_at:
            duration = max(0, int((room.ended_at - room.started_at).total_seconds()))
    return duration


def _jibri_source(recording: Recording) -> _Source:
    try:
        path = jibri_resolve_path(file_path=recording.meta.get("local_path", ""))
    except RecordingRejected as exc:
        raise DownloadRefused(exc.message)
    size, sha256 = hash_file(path)
    if size > settings.RECORDING_MAX_BYTES:
        raise DownloadRefused(f"the file is larger than RECORDING_MAX_BYTES ({size} bytes)")
    jibri = read_jibri_metadata(path.parent)
    if jibri:
        recording.meta["jibri_metadata"] = {
            "meeting_url": jibri.get("meeting_url"),
            "participants": len(jibri.get("participants") or []),
        }
    return _Source(path, size, sha256, _jibri_duration(recording, path, jibri), jibri=True)


@contextmanager
def _local_source(recording: Recording) -> Iterator[_Source]:
    """Jibri's file as it lies, or the link downloaded into a temporary file (removed after)."""
    if recording.meta.get("source") == "jibri":
        yield _jibri_source(recording)
        return
    url = recording.meta.get("url") or ""
    if not url:
        raise DownloadRefused("no download link is known for this recording")
    handle, tmp_name = tempfile.mkstemp(prefix="recording-", suffix=".part")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as fh:
            size, sha256 = fetch_to_file(url, fh)
        yield _Source(tmp_path, size, sha256)
    finally:
        tmp_path.unlink(missing_ok=True)


def _drop_jibri_leftover(recording: Recording, *, sha256: str) -> None:
    """An upload completed but Jibri's file was not yet removed: remove it, proven the same."""
    if recording.meta.get("source") != "jibri":
        return
    try:
        path = jibri_resolve_path(file_path=recording.meta.get("local_path", ""))
    except RecordingRejected:
        return
    if hash_file(path)[1] == sha256:
        path.unlink(missing_ok=True)


def _adopt_stored(recording: Recording) -> bool:
    """Finish from a file already complete at the destination; False when there is none.

    That is where an attempt cut after writing the file (before or while saving the row) left
    it. Complete means the size and sha256 saved before the write, read back from storage; a
    short file is written again from the source.
    """
    name = recording.meta.get("destination")
    storage = recording.file.storage
    size = stored_size(storage=storage, name=name) if name else None
    if size is None:
        return False
    expected_size = recording.meta.get("expected_size")
    if expected_size is not None and size != expected_size:
        logger.warning(
            "recording destination incomplete recording=%s size=%s expected=%s",
            recording.pk,
            size,
            expected_size,
        )
        return False
    size, sha256 = stored_sha256(storage=storage, name=name)
    expected_sha256 = recording.meta.get("expected_sha256")
    if expected_sha256 and sha256 != expected_sha256:
        logger.warning("recording destination differs recording=%s name=%s", recording.pk, name)
        return False
    _drop_jibri_leftover(recording, sha256=sha256)
    recording_finish(recording=recording, name=name, size=size, sha256=sha256)
    return True


def _ingest(recording: Recording) -> None:
    if _adopt_stored(recording):
        return
    with _local_source(recording) as source:
        name = recording.meta.get("destination") or destination_name(
            recording=recording, ext=recording.meta.get("ext", "mp4")
        )
        recording.meta.update(
            destination=name, expected_size=source.size, expected_sha256=source.sha256
        )
        fields = {"meta": recording.meta}
        if recording.duration_secs is None and source.duration_secs is not None:
            fields["duration_secs"] = source.duration_secs
        if not _save_waiting(recording, **fields):
            return  # another attempt finished (or the admin failed) it meanwhile
        stored_put(storage=recording.file.storage, name=name, path=source.path)
        if source.jibri:  # S3 copied it; a local rename has already moved it
            source.path.unlink(missing_ok=True)
        recording_finish(recording=recording, name=name, size=source.size, sha256=source.sha256)


def recording_download(*, recording_id: int, now: datetime | None = None) -> Recording | None:
    """Bring one recording's file into storage (task body of ``download_recording``).

    Jibri files are moved, JaaS links downloaded. A transient failure schedules the next try
    (a django-q2 ONCE Schedule with backoff) until RECORDING_DOWNLOAD_ATTEMPTS; a refusal or
    the last failure marks the recording FAILED, keeps the error in ``meta`` and tells the
    teacher. Safe to run twice, or after an attempt cut anywhere: see the module docstring.
    """
    now = now or timezone.now()
    recording = Recording.objects.select_related("room").filter(pk=recording_id).first()
    if recording is None or recording.status not in WAITING:
        return recording  # FAILED starts again only through recording_retry
    attempt = int(recording.meta.get("attempts") or 0) + 1
    recording.meta.update(attempts=attempt, attempt_at=now.isoformat())
    recording.meta.pop("next_attempt_at", None)
    if _save_waiting(recording, meta=recording.meta):
        try:
            _ingest(recording)
        except Exception as exc:  # noqa: BLE001 - network, storage, disk or database: retry
            _attempt_failed(recording, exc=exc, attempt=attempt, now=now)
    recording.refresh_from_db()
    return recording


def _attempt_failed(recording: Recording, *, exc: Exception, attempt: int, now: datetime) -> None:
    if isinstance(exc, DownloadError):
        message = str(exc)
        logger.warning(
            "recording ingest failed recording=%s attempt=%s error=%s", recording.pk, attempt, exc
        )
    else:
        message = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
        logger.exception("recording ingest crashed recording=%s attempt=%s", recording.pk, attempt)
    history = [*recording.meta.get("errors", []), {"at": now.isoformat(), "attempt": attempt}]
    history[-1]["error"] = message
    recording.meta.update(error=message, errors=history[-10:])
    try:
        if isinstance(exc, DownloadRefused) or attempt >= settings.RECORDING_DOWNLOAD_ATTEMPTS:
            recording_fail(recording=recording, message=message)
        else:
            _schedule_retry(recording, attempt=attempt, now=now)
    except DatabaseError:
        logger.exception(
            "recording failure not recorded recording=%s: the hourly check re-queues it",
            recording.pk,
        )


def retry_delay(*, attempt: int) -> timedelta:
    """Backoff after failed attempt ``attempt`` (1-based): 1, 4, 16, 64 minutes, at most 6 h."""
    return timedelta(seconds=min(RETRY_BASE_SECS * 4 ** (attempt - 1), 6 * 3600))


def _schedule_retry(recording: Recording, *, attempt: int, now: datetime) -> None:
    next_run = now + retry_delay(attempt=attempt)
    recording.meta["next_attempt_at"] = next_run.isoformat()
    recording.meta.pop("attempt_at", None)
    with transaction.atomic():
        if not _save_waiting(recording, meta=recording.meta, status=RecordingStatus.PENDING):
            return
        Schedule.objects.create(
            name=f"recording {recording.pk} retry {attempt + 1}"[:100],
            func=TASK,
            args=repr(recording.pk),
            schedule_type=Schedule.ONCE,
            repeats=-1,  # a ONCE schedule with negative repeats is deleted once it has run
            next_run=next_run,
        )


def pending_retries(*, recording_ids=None) -> set[int]:
    """Recordings with a retry still to run (django-q2 keeps run ONCE rows with repeats 0)."""
    rows = Schedule.objects.filter(func=TASK).exclude(repeats=0).values_list("args", flat=True)
    found = {int(args) for args in rows if str(args).isdigit()}
    return found if recording_ids is None else found & set(recording_ids)
