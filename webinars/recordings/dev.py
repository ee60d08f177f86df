"""DEBUG helpers: a dummy file or an uploaded one, ingested the way Jibri's would be."""

import time
from pathlib import Path

from django.conf import settings

from webinars.models import Recording, Room, random_token
from webinars.recordings.accept import recording_accept_jibri_file
from webinars.recordings.files import dummy_mp4_bytes, recording_extension


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
