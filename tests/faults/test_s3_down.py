"""The S3 server stops in the middle of an upload (moto on 127.0.0.1 behind a TCP switch that
is cut after a few MB): the attempt fails and schedules its retry; once S3 is back, the
scheduled retry makes the recording READY, with exactly one object in the bucket and one row."""

import hashlib
import os
from urllib.parse import urlsplit

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string
from django_q.models import Schedule

from tests.factories import make_room
from tests.faults.conftest import TcpSwitch
from tests.webinars.test_recordings import FileServer, jibri_file
from tests.webinars.test_recordings_s3 import BUCKET, moto_server, recordings_on_s3, s3_client
from webinars.choices import RecordingStatus, RecordingStorage
from webinars.models import Recording
from webinars.recordings import recording_accept_jibri_file, recording_accept_link
from webinars.recordings.storage import S3_PART_BYTES

SIZE = 3 * S3_PART_BYTES + 12345  # a multipart upload: four parts


@pytest.fixture(scope="module")
def moto():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_switch(moto, monkeypatch):
    """Recording storage on moto, reached through a switch the test can cut."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")  # boto's own retries, kept short for the test
    switch = TcpSwitch(urlsplit(moto).port)
    try:
        with recordings_on_s3(switch.endpoint):
            yield switch
    finally:
        switch.cut()


def bucket_keys(endpoint: str) -> list[str]:
    listing = s3_client(endpoint).list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.mark.django_db
@pytest.mark.parametrize("source_kind", ["jibri", "link"])
def test_s3_stopped_during_an_upload_the_retry_ends_ready(s3_switch, moto, source_kind):
    content = os.urandom(SIZE)
    room = make_room()
    before = bucket_keys(moto)
    s3_switch.cut_after = S3_PART_BYTES + 1024 * 1024  # S3 goes down with the upload half done
    server = FileServer()
    try:
        url = server.route("/big.mp4", (200, {}, content))
        if source_kind == "jibri":
            source = jibri_file(f"s3down_{room.pk}/lesson.mp4", content)
            recording = recording_accept_jibri_file(room=room, file_path=str(source))
        else:
            with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
                recording = recording_accept_link(room=room, url=url)

        assert s3_switch.was_cut.is_set()
        assert recording.status == RecordingStatus.PENDING
        assert recording.meta["error"]
        assert bucket_keys(moto) == before  # a broken multipart upload leaves no object
        if source_kind == "jibri":
            assert source.read_bytes() == content  # still there to upload again
        retry = Schedule.objects.get(func="webinars.tasks.download_recording")
        assert retry.next_run > recording.updated_at

        s3_switch.restore()  # S3 is back
        with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
            import_string(retry.func)(int(retry.args))  # what django-q2 runs at next_run
    finally:
        server.close()

    recording = Recording.objects.get(room=room)  # one row
    assert recording.status == RecordingStatus.READY
    assert recording.storage == RecordingStorage.S3
    assert recording.checksum_sha256 == hashlib.sha256(content).hexdigest()
    assert bucket_keys(moto) == sorted([*before, recording.file.name])  # one file
    stored = s3_client(moto).get_object(Bucket=BUCKET, Key=recording.file.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == recording.checksum_sha256
    if source_kind == "jibri":
        assert not source.exists()
