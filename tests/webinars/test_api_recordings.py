"""Recording endpoints (docs/recordings.md): Jibri finalize, JaaS webhooks, status, playback."""

import base64
import hashlib
import hmac
import json
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import enroll, make_lesson, make_recording, make_room, make_user
from tests.webinars.test_recordings import FileServer, jibri_file, stored_names
from webinars.choices import AttendanceSource, JoinRole, RecordingStatus
from webinars.models import Attendance, Recording, WebhookEvent
from webinars.recordings import dummy_mp4_bytes

SECRET = {"HTTP_X_RECORDING_SECRET": "test-recording-secret"}


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


def uploaded(client, room, body, **headers):
    return client.post(f"/api/rooms/{room.pk}/recording/uploaded/", body, format="json", **headers)


def sign(body: bytes, *, secret="test-jaas-secret", at=None) -> str:
    stamp = str(int(at if at is not None else time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).digest()
    return f"t={stamp},v1={base64.b64encode(digest).decode()}"


def jaas(client, payload: dict, signature: str | None = "auto"):
    body = json.dumps(payload).encode()
    headers = {}
    if signature == "auto":
        signature = sign(body)
    if signature is not None:
        headers["HTTP_X_JAAS_SIGNATURE"] = signature
    return client.post("/api/webhooks/jaas/", body, content_type="application/json", **headers)


def event(room, event_type: str, key: str, **data) -> dict:
    return {
        "idempotencyKey": key,
        "customerId": "c1",
        "appId": "vpaas-magic-cookie-1",
        "eventType": event_type,
        "sessionId": "session-1",
        "timestamp": int(time.time() * 1000),
        "fqn": f"vpaas-magic-cookie-1/{room.jitsi_room}",
        "data": data,
    }


# --- Jibri finalize -------------------------------------------------------------------------


@pytest.mark.django_db
def test_uploaded_moves_the_file_and_the_status_shows_ready(api_client):
    room = make_room()
    content = dummy_mp4_bytes(duration_secs=30)
    source = jibri_file("sess/lesson.mp4", content)

    response = uploaded(api_client, room, {"file_path": str(source), "file_ext": "mp4"}, **SECRET)

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == RecordingStatus.READY
    assert not source.exists()
    teacher = APIClient()
    teacher.force_authenticate(room.lesson.teacher)
    data = teacher.get(f"/api/rooms/{room.pk}/recording/").json()
    assert data["status"] == "READY"
    assert data["duration_secs"] == 30
    assert data["file_url"].startswith("http://testserver/media/recordings/lessons/")
    assert [item["size_bytes"] for item in data["recordings"]] == [len(content)]
    assert teacher.get(data["file_url"]).getvalue() == content


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, {"HTTP_X_RECORDING_SECRET": "wrong"}])
def test_uploaded_without_the_secret_is_401_and_moves_nothing(api_client, headers):
    room = make_room()
    source = jibri_file("s401/a.mp4")
    response = uploaded(api_client, room, {"file_path": str(source)}, **headers)
    assert response.status_code == 401
    assert source.exists()
    assert not Recording.objects.exclude(meta={}).exists()


@pytest.mark.django_db
def test_uploaded_path_traversal_is_400_naming_the_field_and_moves_nothing(api_client, tmp_path):
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"keep me")
    link = Path(settings.RECORDING_LOCAL_DIR) / "t" / "link.mp4"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    room = make_room()
    before = stored_names()
    for bad in ("../outside.mp4", f"t/../../{outside.name}", str(outside), "t/link.mp4"):
        response = uploaded(api_client, room, {"file_path": bad}, **SECRET)
        assert response.status_code == 400, bad
        assert response.json()["detail"] == "Invalid input: file_path."
    assert outside.read_bytes() == b"keep me"
    assert stored_names() == before
    assert not room.recordings.exclude(meta={}).exists()


@pytest.mark.django_db
def test_finalize_endpoint_finds_the_room_from_jibri_metadata(api_client):
    room = make_room()
    jibri_file(
        "abc_123/metadata.json",
        json.dumps({"meeting_url": f"https://jitsi.school.edu/{room.jitsi_room.upper()}"}).encode(),
    )
    jibri_file("abc_123/rec.mp4", b"jibri")
    response = api_client.post(
        "/api/recordings/jibri/", {"file_path": "abc_123/rec.mp4"}, format="json", **SECRET
    )
    assert response.status_code == 202, response.json()
    assert response.json()["room_id"] == room.pk
    assert room.recordings.get().status == RecordingStatus.READY

    jibri_file("nometa/rec.mp4", b"x")
    response = api_client.post(
        "/api/recordings/jibri/", {"file_path": "nometa/rec.mp4"}, format="json", **SECRET
    )
    assert response.status_code == 400
    assert "jitsi_room" in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_finalize_script_posts_each_mp4_of_the_jibri_directory(live_server):
    room = make_room()
    directory = Path(settings.RECORDING_LOCAL_DIR) / "script_session"
    jibri_file(
        "script_session/metadata.json",
        json.dumps({"meeting_url": f"https://jitsi.school.edu/{room.jitsi_room}"}).encode(),
    )
    jibri_file("script_session/one.mp4", b"first file")
    result = subprocess.run(
        ["sh", "deploy/jibri/finalize.sh", str(directory)],
        env={
            "PATH": "/usr/bin:/bin",
            "CEDAR_PORTAL_URL": live_server.url,
            "RECORDING_WEBHOOK_SECRET": "test-recording-secret",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.READY
    assert recording.size_bytes == len(b"first file")
    assert not (directory / "one.mp4").exists()


# --- JaaS webhook ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        None,
        "garbage",
        "t=1,v1=AAAA",
        sign(b"{}", secret="other-secret"),
        "STALE",
    ],
)
def test_jaas_webhook_with_a_bad_signature_is_401(api_client, signature):
    room = make_room()
    payload = event(room, "ROOM_CREATED", "k-bad")
    if signature == "STALE":
        signature = sign(json.dumps(payload).encode(), at=time.time() - 3600)
    response = jaas(api_client, payload, signature=signature)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_jaas_signature_over_another_body_is_401(api_client):
    room = make_room()
    payload = event(room, "ROOM_CREATED", "k-other")
    response = jaas(api_client, payload, signature=sign(b'{"idempotencyKey": "x"}'))
    assert response.status_code == 401


@pytest.mark.django_db
def test_jaas_recording_uploaded_downloads_and_a_replay_changes_nothing(api_client, file_server):
    room = make_room()
    url = file_server.route("/jaas/video.mp4", (200, {}, b"jaas video"))
    payload = event(
        room,
        "RECORDING_UPLOADED",
        "key-uploaded-1",
        preAuthenticatedLink=url,
        durationSec=61,
        startTimestamp=1_700_000_000_000,
        endTimestamp=1_700_000_061_000,
        recordingSessionId="rs-1",
    )
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        first = jaas(api_client, payload)
        replay = jaas(api_client, payload)

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.READY
    assert recording.duration_secs == 61
    assert recording.meta["idempotency_key"] == "key-uploaded-1"
    assert file_server.hits == ["/jaas/video.mp4"]
    assert WebhookEvent.objects.get().room == room


@pytest.mark.django_db
def test_jaas_recording_started_and_ended_move_the_status(api_client):
    room = make_room()
    assert jaas(api_client, event(room, "RECORDING_STARTED", "k-s")).status_code == 200
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.IN_PROGRESS
    assert jaas(api_client, event(room, "RECORDING_ENDED", "k-e")).status_code == 200
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.PENDING
    assert recording.ended_at is not None


@pytest.mark.django_db
def test_jaas_upload_from_a_host_off_the_list_fails_the_recording(api_client):
    room = make_room()
    payload = event(
        room, "RECORDING_UPLOADED", "k-evil", preAuthenticatedLink="https://evil.test/a"
    )
    assert jaas(api_client, payload).status_code == 200
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.FAILED
    assert "RECORDING_DOWNLOAD_HOSTS" in recording.meta["error"]


@pytest.mark.django_db
def test_jaas_participants_make_attendance_rows_in_any_order(api_client):
    room = make_room()
    student = make_user()
    base = int(time.time() * 1000)
    left = event(
        room, "PARTICIPANT_LEFT", "p-left", id=str(student.pk), name="Ann", participantId="p1"
    )
    left["timestamp"] = base + 60_000
    joined = event(
        room,
        "PARTICIPANT_JOINED",
        "p-join",
        id=str(student.pk),
        name="Ann",
        participantId="p1",
        moderator=False,
    )
    joined["timestamp"] = base
    teacher = event(
        room, "PARTICIPANT_JOINED", "p-t", id="x", name="Teach", participantId="p2", moderator=True
    )
    for payload in (left, joined, teacher):
        assert jaas(api_client, payload).status_code == 200

    rows = Attendance.objects.filter(room=room, source=AttendanceSource.JAAS_WEBHOOK)
    ann = rows.get(participant_id="p1")
    assert ann.user == student
    assert ann.duration == timedelta(minutes=1)
    assert rows.get(participant_id="p2").role == JoinRole.MODERATOR


@pytest.mark.django_db
def test_jaas_event_for_an_unknown_room_is_recorded(api_client):
    payload = {
        "idempotencyKey": "k-u",
        "eventType": "ROOM_DESTROYED",
        "fqn": "app/nope",
        "data": {},
    }
    assert jaas(api_client, payload).status_code == 200
    assert WebhookEvent.objects.get().room is None


@pytest.mark.django_db
def test_jaas_without_idempotency_key_is_400(api_client):
    response = jaas(api_client, {"eventType": "ROOM_CREATED"})
    assert response.status_code == 400
    assert "idempotencyKey" in response.json()["errors"]


# --- Dev form of the JaaS hook --------------------------------------------------------------


@pytest.mark.django_db
def test_jaas_dev_form_downloads_the_link(api_client, file_server):
    room = make_room()
    url = file_server.route("/dev.mp4", (200, {}, b"dev video"))
    body = {"room_id": room.pk, "preAuthenticatedLink": url, "fileExt": "mp4"}
    assert api_client.post("/api/webhooks/jaas/recording/", body, format="json").status_code == 401
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        response = api_client.post("/api/webhooks/jaas/recording/", body, format="json", **SECRET)
    assert response.status_code == 202
    assert room.recordings.get().status == RecordingStatus.READY


@pytest.mark.django_db
def test_jaas_dev_form_refuses_http_without_debug(api_client, file_server):
    room = make_room()
    body = {"room_id": room.pk, "preAuthenticatedLink": file_server.url("/a.mp4")}
    response = api_client.post("/api/webhooks/jaas/recording/", body, format="json", **SECRET)
    assert response.status_code == 400
    assert "preAuthenticatedLink" in response.json()["errors"]
    assert file_server.hits == []


# --- Status and playback --------------------------------------------------------------------


@pytest.mark.django_db
def test_private_recording_status_is_refused_to_outsiders(api_client):
    room = make_room()
    make_recording(room)
    assert api_client.get(f"/api/rooms/{room.pk}/recording/").status_code in (401, 403)
    outsider = APIClient()
    outsider.force_authenticate(make_user())
    assert outsider.get(f"/api/rooms/{room.pk}/recording/").status_code == 403
    student = make_user()
    enroll(student, room.lesson.subject)
    member = APIClient()
    member.force_authenticate(student)
    assert member.get(f"/api/rooms/{room.pk}/recording/").json()["status"] == "PENDING"


@pytest.mark.django_db
def test_recording_list_is_in_order_and_latest_is_on_top(admin_api):
    room = make_room(make_lesson(is_open=True))
    start = timezone.now()
    first = make_recording(room, status=RecordingStatus.READY, duration_secs=10, started_at=start)
    second = make_recording(room, status=RecordingStatus.PENDING, started_at=start)
    data = admin_api.get(f"/api/rooms/{room.pk}/recording/?tz=Europe/Amsterdam").json()
    assert [item["id"] for item in data["recordings"]] == [first.pk, second.pk]
    assert data["status"] == "PENDING"
    assert data["started_at"].endswith(("+01:00", "+02:00"))


@pytest.mark.django_db
def test_open_lesson_recording_is_public(api_client, client):
    room = make_room(make_lesson(is_open=True))
    jibri_file("open/lesson.mp4", b"public video")
    uploaded(api_client, room, {"file_path": "open/lesson.mp4"}, **SECRET)
    data = api_client.get(f"/api/rooms/{room.pk}/recording/").json()
    assert data["status"] == "READY"
    assert "?t=" not in data["file_url"]
    assert client.get(data["file_url"]).getvalue() == b"public video"


@pytest.mark.django_db
def test_local_media_of_a_private_recording_needs_a_fresh_signature(api_client, client):
    room = make_room()
    jibri_file("priv/lesson.mp4", b"0123456789")
    uploaded(api_client, room, {"file_path": "priv/lesson.mp4"}, **SECRET)
    teacher = APIClient()
    teacher.force_authenticate(room.lesson.teacher)
    signed = teacher.get(f"/api/rooms/{room.pk}/recording/").json()["file_url"]
    plain = signed.split("?", 1)[0]

    assert client.get(plain).status_code == 403
    assert client.get(signed.replace("&s=", "&s=x")).status_code == 403
    response = client.get(signed, HTTP_RANGE="bytes=2-5")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"2345"
    assert response["Content-Range"] == "bytes 2-5/10"
    with override_settings(RECORDING_SIGNED_URL_TTL=-1):
        assert client.get(signed).status_code == 403
    client.force_login(room.lesson.teacher)
    assert client.get(plain).getvalue() == b"0123456789"


@pytest.mark.django_db
def test_unknown_media_name_is_404(client):
    assert client.get("/media/recordings/lessons/../../etc/passwd").status_code == 404


# --- DEBUG-only helpers ---------------------------------------------------------------------


@pytest.mark.django_db
def test_dev_endpoints_are_404_without_debug(admin_api):
    room = make_room()
    assert (
        admin_api.post("/api/dev/recordings/make-dummy/", {"room_id": room.pk}).status_code == 404
    )
    assert admin_api.post("/api/dev/recordings/upload/", {"room_id": room.pk}).status_code == 404


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_dev_make_dummy_and_upload_ingest_for_staff_only(admin_api):
    room = make_room()
    teacher = APIClient()
    teacher.force_authenticate(room.lesson.teacher)
    denied = teacher.post("/api/dev/recordings/make-dummy/", {"room_id": room.pk}, format="json")
    assert denied.status_code == 403

    dummy = admin_api.post(
        "/api/dev/recordings/make-dummy/", {"room_id": room.pk, "duration_secs": 7}, format="json"
    )
    assert dummy.status_code == 202
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("talk.webm", b"webm bytes", content_type="video/webm")
    response = admin_api.post(
        "/api/dev/recordings/upload/", {"room_id": room.pk, "file": upload}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    recordings = list(room.recordings.all())
    assert [r.status for r in recordings] == ["READY", "READY"]
    assert recordings[0].duration_secs == 7
    assert recordings[1].file.name.endswith(".webm")
    assert recordings[1].size_bytes == len(b"webm bytes")


@pytest.mark.django_db
def test_jaas_odd_values_are_ignored_not_a_500(api_client, file_server):
    room = make_room()
    url = file_server.route("/odd.mp4", (200, {}, b"odd"))
    payload = event(
        room,
        "RECORDING_UPLOADED",
        "k-odd",
        preAuthenticatedLink=url,
        durationSec=-5,
        startTimestamp=1e30,
        endTimestamp="yesterday",
    )
    payload["timestamp"] = 1e30
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        assert jaas(api_client, payload).status_code == 200
    recording = room.recordings.get()
    assert recording.status == RecordingStatus.READY
    assert recording.duration_secs is None
    assert recording.started_at is None
    odd = {"idempotencyKey": "k-list", "eventType": "PARTICIPANT_JOINED", "fqn": 5, "data": []}
    assert jaas(api_client, odd).status_code == 200
    assert jaas(api_client, [1, 2]).status_code == 400
