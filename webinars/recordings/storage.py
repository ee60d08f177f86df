"""Recording storage (local files or S3), seen as names, sizes and checksums.

No database access here. A recording's storage name is decided before anything is written and
kept on its row (docs/recordings.md), so writing is always "put this complete local file at
exactly this name": a repeat overwrites with the same bytes, never picks a second name. Sizes
and checksums are read back from storage, so an interrupted ingest can be judged afterwards.
"""

import copy
import hashlib
import os
from pathlib import Path

from django.core.files.storage import FileSystemStorage

from webinars.models import Recording, random_token
from webinars.recordings.access import is_s3_storage
from webinars.recordings.fetch import CHUNK_SIZE
from webinars.recordings.files import MovableFile

S3_PART_BYTES = 5 * 1024 * 1024  # S3's minimum part; 10,000 parts = 50 GB
S3_UPLOAD_THREADS = 2  # bench_ingest.py --s3: +37 MB RSS for 500 MB (10 threads: +135 MB)


def recording_storage():
    return Recording._meta.get_field("file").storage


def destination_name(*, recording: Recording, ext: str) -> str:
    """A fresh storage name for the recording's file: ``lessons/<yyyy>/<mm>/room…-rec…-….ext``.

    The room and recording ids in the name let the check attach a file back to its recording.
    """
    filename = f"room{recording.room_id}-rec{recording.pk}-{random_token(5)}.{ext}"
    return recording.file.field.generate_filename(recording, filename)


def _writer(storage):
    """A copy of ``storage`` that writes at exactly the name given, overwriting.

    The shared storage object keeps its configuration. S3 also gets multipart uploads of
    bounded memory: boto3's default keeps up to 10 parts of 8 MB in memory on 10 threads
    (bench_ingest.py measured about 135 MB more RSS for a 500 MB file).
    """
    if isinstance(storage, FileSystemStorage):
        _path, args, kwargs = storage.deconstruct()
        return type(storage)(*args, **{**kwargs, "allow_overwrite": True})
    if not is_s3_storage(storage):
        return storage
    from boto3.s3.transfer import TransferConfig

    writer = copy.copy(storage)
    writer.file_overwrite = True
    config = TransferConfig(
        multipart_threshold=S3_PART_BYTES,
        multipart_chunksize=S3_PART_BYTES,
        max_concurrency=S3_UPLOAD_THREADS,
        use_threads=S3_UPLOAD_THREADS > 1,
    )
    # Parts read from a file object wait in memory; s3transfer's knob, not in boto3's __init__.
    config.max_in_memory_upload_chunks = S3_UPLOAD_THREADS
    writer.transfer_config = config
    return writer


def stored_put(*, storage, name: str, path: Path) -> None:
    """Put the complete local file ``path`` at ``name`` (a rename when local and possible).

    S3 uploads are atomic (a broken multipart upload leaves no object); a local copy across
    filesystems can leave a short file, which the size check of the next attempt replaces.
    """
    writer = _writer(storage)
    if writer is storage and storage.exists(name):  # a storage that cannot overwrite
        storage.delete(name)
    content = MovableFile(path)
    try:
        saved = writer.save(name, content, max_length=500)
    finally:
        content.close()
    if saved != name:
        raise RuntimeError(f"storage stored {saved!r} instead of {name!r}")


def stored_size(*, storage, name: str) -> int | None:
    """The size of the file at ``name``, or None when there is none (storage errors raise)."""
    try:
        return storage.size(name)
    except FileNotFoundError:
        return None


def stored_sha256(*, storage, name: str) -> tuple[int, str]:
    """(size, sha256) of the stored file, read back in 1 MB chunks (S3: streamed, not spooled)."""
    digest, size = hashlib.sha256(), 0
    if is_s3_storage(storage):
        body = storage.open(name, "rb").obj.get()["Body"]
        chunks = body.iter_chunks(CHUNK_SIZE)
    else:
        body = storage.open(name, "rb")
        chunks = iter(lambda: body.read(CHUNK_SIZE), b"")
    try:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
    finally:
        body.close()
    return size, digest.hexdigest()


def stored_files(*, storage) -> dict[str, int]:
    """Every file in recording storage, name → size (one listing, no request per file)."""
    if is_s3_storage(storage):
        prefix = f"{storage.location.strip('/')}/" if storage.location.strip("/") else ""
        return {
            summary.key[len(prefix) :]: summary.size
            for summary in storage.bucket.objects.filter(Prefix=prefix)
            if not summary.key.endswith("/")
        }
    root = Path(storage.location)
    found = {}
    for directory, _dirs, files in os.walk(root):
        for filename in files:
            path = Path(directory) / filename
            try:
                found[path.relative_to(root).as_posix()] = path.stat().st_size
            except OSError:  # removed while we walked
                continue
    return found
