"""The database locked during an ingest (SQLite's "database is locked"; a table lock on
PostgreSQL): the attempt fails cleanly, and once the lock clears the retry makes it READY with
the very same bytes, one file in storage and nothing orphaned."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import DatabaseError
from django.utils import timezone

from tests.factories import make_room
from tests.faults.conftest import database_locked, new_stored_files
from tests.webinars.test_recordings import jibri_file
from webinars.choices import RecordingStatus
from webinars.models import Recording
from webinars.recordings import dummy_mp4_bytes, recording_accept_jibri_file, recording_check
from webinars.recordings.accept import recording_claim
from webinars.recordings.recovery import stalled_after
from webinars.tasks import download_recording


def _later():
    """The hourly check, once django-q2's task timeout has passed (the clock is the edge)."""
    return timezone.now() + stalled_after() + timedelta(minutes=1)


def _assert_recovered(recording: Recording, content: bytes, before: dict) -> None:
    """READY with the very bytes Jibri wrote, one file in storage, nothing orphaned."""
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    assert recording.checksum_sha256 == hashlib.sha256(content).hexdigest()
    with recording.file.open("rb") as fh:
        assert fh.read() == content
    assert new_stored_files(before) == {recording.file.name: len(content)}
    issues = recording_check().issues
    assert not [issue for issue in issues if issue.name == recording.file.name]


@pytest.mark.django_db(transaction=True)
def test_locked_after_the_move_the_retry_finishes_from_the_stored_file(monkeypatch, storage_before):
    """The reported bug: the lock hit after the file was moved, the row rolled back, the retry
    found no Jibri file and the recording ended FAILED with its file orphaned in storage."""
    content = dummy_mp4_bytes(duration_secs=12)
    source = jibri_file("locked_after/lesson.mp4", content)
    real_save = FileSystemStorage._save
    lock = database_locked()

    def save_then_lock(self, name, file):
        saved = real_save(self, name, file)
        lock.__enter__()  # another process starts writing just as our file lands
        return saved

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_lock)
    try:
        recording = recording_accept_jibri_file(room=make_room(), file_path=str(source))
    finally:
        monkeypatch.undo()
        lock.__exit__(None, None, None)

    recording.refresh_from_db()
    assert recording.status == RecordingStatus.PENDING  # failed cleanly: not READY, not FAILED
    assert not recording.file
    destination = recording.meta["destination"]  # saved before the move, so it survived
    assert new_stored_files(storage_before) == {destination: len(content)}
    assert not source.exists()

    report = recording_check(now=_later())  # nothing was scheduled: the database was locked
    assert report.requeued == [recording.pk]
    _assert_recovered(recording, content, storage_before)
    assert recording.file.name == destination
    assert recording.duration_secs == 12


@pytest.mark.django_db(transaction=True)
def test_locked_when_the_worker_starts_nothing_moves_and_the_retry_finishes(storage_before):
    content = dummy_mp4_bytes(duration_secs=3)
    source = jibri_file("locked_before/lesson.mp4", content)
    queued = recording_claim(
        room=make_room(),
        meta={"source": "jibri", "local_path": "locked_before/lesson.mp4", "ext": "mp4"},
    )

    with database_locked(), pytest.raises(DatabaseError):
        download_recording(queued.pk)  # the worker picks the queued task up

    queued.refresh_from_db()
    assert queued.status == RecordingStatus.PENDING and "destination" not in queued.meta
    assert source.read_bytes() == content
    assert new_stored_files(storage_before) == {}

    download_recording(queued.pk)  # django-q2 delivers it again, or the hourly check does
    _assert_recovered(queued, content, storage_before)
    assert not source.exists()
