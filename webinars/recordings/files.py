"""Local files: Jibri's paths (kept inside RECORDING_LOCAL_DIR), hashing, MP4 duration.

No database access here. ffprobe is not available, so the duration is read from the MP4
``moov/mvhd`` box when Jibri's metadata.json does not give one.
"""

import hashlib
import json
import os
import stat
import struct
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File

from webinars.recordings.errors import RecordingRejected
from webinars.recordings.fetch import CHUNK_SIZE

ALLOWED_EXTENSIONS = {"mp4", "webm", "mkv", "m4a", "mp3", "ogg"}


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
        resolved = candidate.resolve()  # follows every symlink that exists
    except (OSError, RuntimeError):  # a symlink loop
        raise RecordingRejected("file_path", "The path cannot be resolved.")
    if not resolved.is_relative_to(base) or resolved == base:
        raise RecordingRejected("file_path", "The file must lie inside the recordings directory.")
    try:
        mode = resolved.stat().st_mode
    except OSError:
        raise RecordingRejected("file_path", "No such file in the recordings directory.")
    if not stat.S_ISREG(mode):
        raise RecordingRejected("file_path", "The path is not a regular file.")
    return resolved


def recording_extension(*, file_ext: str, path: Path) -> str:
    ext = (file_ext or path.suffix).lstrip(".").lower()
    if ext not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise RecordingRejected("file_ext", f"Unsupported extension; use one of {allowed}.")
    return ext


def read_jibri_metadata(directory: Path) -> dict:
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


class MovableFile(File):
    """A local file FileSystemStorage may rename into place (``temporary_file_path``)."""

    def __init__(self, path: Path):
        super().__init__(open(path, "rb"), name=path.name)  # noqa: SIM115 - closed by caller
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def hash_file(path: Path) -> tuple[int, str]:
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


def dummy_mp4_bytes(*, duration_secs: int = 5, payload_bytes: int = 64 * 1024) -> bytes:
    """A tiny MP4-shaped file (ftyp, moov/mvhd with a duration, mdat) for demos and tests."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
    mvhd_body = struct.pack(">B3sIIII", 0, b"\0\0\0", 0, 0, 1000, duration_secs * 1000)
    mvhd_body += b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    mdat = struct.pack(">I4s", 8 + payload_bytes, b"mdat") + os.urandom(payload_bytes)
    return ftyp + moov + mdat
