"""Accepting a recording: Jibri's finished file or JaaS's link, checked and queued for ingest.

Nothing is moved or downloaded here: the input is checked (RecordingRejected names the field at
fault), a Recording row is claimed for it, and ``webinars.tasks.download_recording`` is queued
(``webinars.recordings.ingest``), so Jibri's finalize script and JaaS's webhook return at once.
"""

import logging
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from webinars.choices import RecordingStatus
from webinars.models import Recording, Room
from webinars.recordings.errors import RecordingRejected
from webinars.recordings.fetch import download_url_allowed
from webinars.recordings.files import (
    ALLOWED_EXTENSIONS,
    jibri_resolve_path,
    jibri_room_name,
    read_jibri_metadata,
    recording_extension,
)
from webinars.recordings.ingest import WAITING, _queue_download

logger = logging.getLogger("webinars.recordings")


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
                "jitsi_room",
                _("Unknown room: send jitsi_room or keep metadata.json beside the file."),
            )
    base = Path(settings.RECORDING_LOCAL_DIR).resolve()
    if Recording.objects.filter(
        meta__local_path=str(path.relative_to(base)), status__in=WAITING
    ).exists():
        raise RecordingRejected("file_path", _("This file is already being ingested."))
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
        raise RecordingRejected("fileExt", _("Unsupported extension."))
    reason = download_url_allowed(url=url)
    if reason:
        raise RecordingRejected("preAuthenticatedLink", _("Refused: %s.") % reason)
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
