"""Recordings on S3, against moto's S3-compatible server started on 127.0.0.1 by the tests."""

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings
from django.core.files.storage import storages
from django.test import override_settings

from tests.factories import make_lesson, make_room, make_user
from tests.webinars.test_recordings import FileServer, jibri_file
from webinars.choices import RecordingStatus, RecordingStorage
from webinars.models import Recording
from webinars.recordings import (
    recording_accept_jibri_file,
    recording_accept_link,
    recording_public_url,
)

BUCKET = "cedar-recordings-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server():
    """moto's S3 server on 127.0.0.1 with the test bucket; stopped (by its pid) afterwards."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # moto's first answer is slow on a busy machine
    try:
        while True:
            try:
                requests.get(endpoint, timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@contextmanager
def recordings_on_s3(endpoint: str):
    """Point the ``recordings`` storage (and Recording.file, bound at import) at ``endpoint``."""
    stores = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_auth": True,
                "querystring_expire": 600,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    field = Recording._meta.get_field("file")
    original = field.storage
    with override_settings(STORAGES=stores):
        storages._storages = {}
        storages._backends = None
        field.storage = storages["recordings"]
        try:
            yield field.storage
        finally:
            field.storage = original
    storages._storages = {}
    storages._backends = None


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto S3 server for the whole session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_recordings(moto_endpoint):
    with recordings_on_s3(moto_endpoint) as storage:
        yield storage


@pytest.mark.django_db
def test_jibri_file_is_uploaded_and_served_through_a_signed_url(s3_recordings, moto_endpoint):
    lesson = make_lesson()
    room = make_room(lesson)
    source = jibri_file("s3sess/lesson.mp4", b"s3 video bytes")

    recording = recording_accept_jibri_file(room=room, file_path="s3sess/lesson.mp4")

    assert recording.status == RecordingStatus.READY
    assert recording.storage == RecordingStorage.S3
    assert not source.exists()
    signed = recording_public_url(recording=recording, user=lesson.teacher)
    assert "X-Amz-Signature=" in signed
    assert "X-Amz-Expires=600" in signed
    assert requests.get(signed, timeout=10).content == b"s3 video bytes"

    unsigned = f"{moto_endpoint}/{BUCKET}/{recording.file.name}"
    assert requests.get(unsigned, timeout=10).status_code == 403
    assert recording_public_url(recording=recording, user=make_user()) is None


@pytest.mark.django_db
def test_downloaded_recording_lands_in_the_bucket(s3_recordings):
    server = FileServer()
    try:
        url = server.route("/jaas.mp4", (200, {}, b"from jaas" * 1000))
        with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
            recording = recording_accept_link(room=make_room(), url=url)
    finally:
        server.close()
    assert recording.status == RecordingStatus.READY
    assert s3_recordings.exists(recording.file.name)
    assert s3_recordings.size(recording.file.name) == len(b"from jaas" * 1000)


@pytest.mark.django_db
def test_open_lesson_recording_url_works_for_anonymous_visitors(s3_recordings):
    room = make_room(make_lesson(is_open=True))
    jibri_file("s3open/a.mp4", b"open lesson")
    recording = recording_accept_jibri_file(room=room, file_path="s3open/a.mp4")
    url = recording_public_url(recording=recording)
    assert requests.get(url, timeout=10).content == b"open lesson"


@pytest.mark.django_db
def test_check_reads_the_bucket_back_and_lists_a_stray_object(s3_recordings, moto_endpoint):
    import io

    from webinars.choices import RecordingIssueKind
    from webinars.recordings import recording_check

    jibri_file("s3check/a.mp4", b"checked on s3")
    recording = recording_accept_jibri_file(room=make_room(), file_path="s3check/a.mp4")
    stray = s3_recordings.save("lessons/2020/05/stray-s3.mp4", io.BytesIO(b"stray"))

    report = recording_check(hash_budget_bytes=2**40)

    found = {(issue.kind, issue.name) for issue in report.issues}
    assert (RecordingIssueKind.ORPHAN, stray) in found
    assert not [issue for issue in report.issues if issue.recording_id == recording.pk]
    recording.refresh_from_db()
    assert recording.meta["verified_at"]  # its sha256 was read back from the bucket

    s3_client(moto_endpoint).put_object(Bucket=BUCKET, Key=recording.file.name, Body=b"x" * 13)
    kinds = {issue.kind for issue in recording_check().issues if issue.recording_id}
    assert RecordingIssueKind.CHECKSUM in kinds  # same size, other bytes
