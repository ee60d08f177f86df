"""The worker dies between putting the file into storage and committing the row.

Simulated by the row's save raising once, inside the commit step: an error the attempt sees
(the database connection dropped), or ``ProcessKilled``, which nothing catches (a SIGKILL: no
failure recorded, no retry scheduled). Either way the file is already at the destination saved
on the row, and the retry, or the hourly check's re-queue, finishes from it: READY, one file,
no orphan.
"""

import hashlib
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from tests.factories import make_room
from tests.faults.conftest import ProcessKilled, new_stored_files
from tests.webinars.test_recordings import FileServer, jibri_file
from webinars.choices import RecordingStatus
from webinars.models import Recording
from webinars.recordings import (
    dummy_mp4_bytes,
    recording_accept_jibri_file,
    recording_accept_link,
    recording_check,
)
from webinars.recordings.recovery import stalled_after


def fail_commit_once(monkeypatch, error: BaseException) -> list:
    """The READY row's save raises ``error`` the first time (the commit never happens)."""
    real_save = Recording.save
    raised = []

    def save(self, *args, **kwargs):
        if self.status == RecordingStatus.READY and not raised:
            raised.append(self.pk)
            raise error
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Recording, "save", save)
    return raised


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


def _ingest(source_kind: str, content: bytes, file_server) -> Recording:
    room = make_room()
    if source_kind == "jibri":
        path = jibri_file(f"killed_{room.pk}/lesson.mp4", content)
        return recording_accept_jibri_file(room=room, file_path=str(path))
    url = file_server.route(f"/killed{room.pk}.mp4", (200, {}, content))
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        return recording_accept_link(room=room, url=url)


def _assert_ready_once(recording: Recording, content: bytes, before: dict) -> None:
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    assert recording.checksum_sha256 == hashlib.sha256(content).hexdigest()
    assert recording.size_bytes == len(content)
    with recording.file.open("rb") as fh:
        assert fh.read() == content
    assert new_stored_files(before) == {recording.file.name: len(content)}
    assert Recording.objects.filter(room=recording.room).count() == 1
    assert not [issue for issue in recording_check().issues if issue.recording_id == recording.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("source_kind", ["jibri", "link"])
def test_commit_fails_after_the_move_and_the_scheduled_retry_completes(
    monkeypatch, source_kind, file_server, storage_before
):
    content = dummy_mp4_bytes(duration_secs=4)
    fail_commit_once(monkeypatch, OperationalError("server closed the connection unexpectedly"))

    recording = _ingest(source_kind, content, file_server)

    assert recording.status == RecordingStatus.PENDING
    assert "OperationalError" in recording.meta["error"]
    assert new_stored_files(storage_before) == {recording.meta["destination"]: len(content)}
    retry = Schedule.objects.get(func="webinars.tasks.download_recording")
    import_string(retry.func)(int(retry.args))  # what django-q2 runs at retry.next_run
    _assert_ready_once(recording, content, storage_before)
    if source_kind == "link":
        assert file_server.hits == [f"/killed{recording.room_id}.mp4"]  # not downloaded again


@pytest.mark.django_db
@pytest.mark.parametrize("source_kind", ["jibri", "link"])
def test_killed_before_the_commit_the_hourly_check_finishes_the_ingest(
    monkeypatch, source_kind, file_server, storage_before
):
    content = dummy_mp4_bytes(duration_secs=5)
    fail_commit_once(monkeypatch, ProcessKilled())

    with pytest.raises(ProcessKilled):
        _ingest(source_kind, content, file_server)

    recording = Recording.objects.get(room__recordings__meta__has_key="destination")
    assert recording.status == RecordingStatus.PENDING
    assert new_stored_files(storage_before) == {recording.meta["destination"]: len(content)}
    assert not Schedule.objects.filter(func="webinars.tasks.download_recording").exists()

    soon = recording_check(now=timezone.now() + timedelta(minutes=30))
    assert soon.requeued == []  # a slow download may still be running: never started twice
    assert not [issue for issue in soon.issues if issue.recording_id == recording.pk]

    later = recording_check(now=timezone.now() + stalled_after() + timedelta(minutes=1))
    assert later.requeued == [recording.pk]
    _assert_ready_once(recording, content, storage_before)
