"""Recording ingest services (webinars/recordings.py): Jibri moves, JaaS downloads, who watches."""

import hashlib
import os
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import storages
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import (
    enroll,
    make_guardian,
    make_lesson,
    make_recording,
    make_room,
    make_user,
)
from webinars.choices import RecordingStatus, RecordingStorage
from webinars.models import Recording
from webinars.recordings import (
    RecordingRejected,
    dummy_mp4_bytes,
    jibri_resolve_path,
    mp4_duration_secs,
    recording_accept_jibri_file,
    recording_accept_link,
    recording_download,
    recording_public_url,
    recording_retry,
    recording_visible_to,
    retry_delay,
)
from webinars.services.rooms import room_close, room_open

# --- A local HTTP server standing in for JaaS's file host ------------------------------------


class FileServer:
    """Serves scripted answers per path: each hit takes the next answer, the last one sticks.

    An answer is ``(status, headers, body)``; ``body`` is bytes or an int (that many bytes,
    streamed without a Content-Length when headers say so).
    """

    def __init__(self, tls_context=None):
        self.routes: dict[str, list] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                server.hits.append(path)
                answers = server.routes.get(path) or [(404, {}, b"not here")]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                streamed = isinstance(body, int)
                for name, value in headers.items():
                    self.send_header(name, value)
                if not streamed and "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if streamed:
                    block = b"\0" * 65536
                    left = body
                    try:
                        while left > 0:
                            self.wfile.write(block[: min(left, len(block))])
                            left -= len(block)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                else:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *answers) -> str:
        self.routes[path] = list(answers)
        return self.url(path) + "?token=secret-pre-authenticated"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


@pytest.fixture
def local_downloads():
    """DEBUG relaxes the download policy to http and loopback (never private networks)."""
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        yield


def stored_names() -> list[str]:
    root = Path(settings.RECORDING_MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def jibri_file(relative: str, content: bytes = b"video-bytes") -> Path:
    path = Path(settings.RECORDING_LOCAL_DIR) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# --- Jibri: the path must stay inside RECORDING_LOCAL_DIR ------------------------------------


@pytest.mark.django_db
def test_jibri_file_is_moved_into_storage_with_size_hash_and_duration():
    room = make_room()
    room_open(room=room, now=timezone.now() - timedelta(minutes=30))
    room_close(room=room, now=timezone.now())
    content = dummy_mp4_bytes(duration_secs=42)
    source = jibri_file("session_1/lesson.mp4", content)

    recording = recording_accept_jibri_file(room=room, file_path="session_1/lesson.mp4")

    assert recording.status == RecordingStatus.READY
    assert room.recordings.count() == 1  # the row made when the room opened was filled
    assert recording.size_bytes == len(content)
    assert recording.checksum_sha256 == hashlib.sha256(content).hexdigest()
    assert recording.duration_secs == 42  # from the MP4 header
    assert recording.storage == RecordingStorage.LOCAL
    assert not source.exists()
    with recording.file.open("rb") as fh:
        assert fh.read() == content


@pytest.mark.django_db
def test_jibri_duration_prefers_metadata_json_then_room_times():
    room = make_room()
    jibri_file("s2/metadata.json", b'{"meeting_url": "https://x/y", "duration": 125}')
    jibri_file("s2/a.mp4", b"not an mp4 header")
    assert recording_accept_jibri_file(room=room, file_path="s2/a.mp4").duration_secs == 125

    start = timezone.now() - timedelta(minutes=50)
    other = make_room()
    make_recording(
        other,
        status=RecordingStatus.PENDING,
        started_at=start,
        ended_at=start + timedelta(minutes=45),
    )
    jibri_file("s3/b.mp4", b"no header either")
    assert recording_accept_jibri_file(room=other, file_path="s3/b.mp4").duration_secs == 2700


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_path",
    ["../outside.mp4", "session/../../outside.mp4", "/etc/passwd", "missing.mp4", "adir"],
)
def test_jibri_paths_outside_the_directory_are_refused(bad_path, tmp_path):
    (Path(settings.RECORDING_LOCAL_DIR) / "adir").mkdir(parents=True, exist_ok=True)
    outside = Path(settings.RECORDING_LOCAL_DIR).parent / "outside.mp4"
    outside.write_bytes(b"secret")
    with pytest.raises(RecordingRejected) as exc:
        jibri_resolve_path(file_path=bad_path)
    assert exc.value.field == "file_path"
    assert outside.read_bytes() == b"secret"


@pytest.mark.django_db
def test_jibri_symlink_escaping_the_directory_is_refused_and_nothing_moves(tmp_path):
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not yours")
    link = Path(settings.RECORDING_LOCAL_DIR) / "evil" / "link.mp4"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    room = make_room()
    with pytest.raises(RecordingRejected):
        recording_accept_jibri_file(room=room, file_path=str(link))
    assert secret.read_bytes() == b"not yours"
    assert not room.recordings.exclude(meta={}).exists()


@pytest.mark.django_db
def test_jibri_symlink_inside_the_directory_is_followed():
    target = jibri_file("real/inside.mp4", b"inside")
    link = Path(settings.RECORDING_LOCAL_DIR) / "links" / "l.mp4"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    assert jibri_resolve_path(file_path="links/l.mp4") == target.resolve()


@pytest.mark.django_db
def test_each_jibri_file_of_a_room_gets_its_own_recording_in_order():
    room = make_room()
    jibri_file("p1/first.mp4", b"1")
    jibri_file("p2/second.mp4", b"22")
    first = recording_accept_jibri_file(room=room, file_path="p1/first.mp4")
    second = recording_accept_jibri_file(room=room, file_path="p2/second.mp4")
    assert list(room.recordings.values_list("pk", "size_bytes")) == [(first.pk, 1), (second.pk, 2)]


@pytest.mark.django_db
def test_unsupported_extension_is_refused():
    jibri_file("x/run.sh", b"#!/bin/sh")
    with pytest.raises(RecordingRejected) as exc:
        recording_accept_jibri_file(room=make_room(), file_path="x/run.sh")
    assert exc.value.field == "file_ext"


def test_mp4_duration_reads_the_movie_header(tmp_path):
    path = tmp_path / "a.mp4"
    path.write_bytes(dummy_mp4_bytes(duration_secs=3600))
    assert mp4_duration_secs(path) == 3600
    path.write_bytes(b"garbage")
    assert mp4_duration_secs(path) is None


# --- Downloads ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_download_success_streams_into_storage_and_mails_the_teacher_once(
    file_server, local_downloads, django_capture_on_commit_callbacks
):
    body = os.urandom(300_000)
    url = file_server.route("/video.mp4", (200, {}, body))
    room = make_room()

    with django_capture_on_commit_callbacks(execute=True):
        recording = recording_accept_link(room=room, url=url, file_ext="mp4")

    assert recording.status == RecordingStatus.READY
    assert recording.checksum_sha256 == hashlib.sha256(body).hexdigest()
    assert recording.size_bytes == len(body)
    assert "url" not in recording.meta  # the pre-authenticated link is dropped once used
    with recording.file.open("rb") as fh:
        assert fh.read() == body
    # One email for the teacher: the recording-ready notice (not also the old direct email).
    to_teacher = [m for m in mail.outbox if m.to == [room.lesson.teacher.email]]
    assert len(to_teacher) == 1
    assert "recording" in to_teacher[0].subject.lower()


@pytest.mark.django_db
def test_download_404_schedules_a_retry_then_succeeds(file_server, local_downloads):
    url = file_server.route("/late.mp4", (404, {}, b"not yet"), (200, {}, b"finally"))
    now = timezone.now()
    recording = recording_accept_link(room=make_room(), url=url)

    assert recording.status == RecordingStatus.PENDING
    assert recording.meta["attempts"] == 1
    assert "HTTP 404" in recording.meta["error"]
    retry = Schedule.objects.get(func="webinars.tasks.download_recording")
    assert retry.args == repr(recording.pk)
    assert retry.schedule_type == Schedule.ONCE
    assert retry.next_run > now

    # The scheduler would run the task at next_run; run it now.
    recording = recording_download(recording_id=recording.pk)
    assert recording.status == RecordingStatus.READY
    assert recording.meta["attempts"] == 2
    assert "error" not in recording.meta
    with recording.file.open("rb") as fh:
        assert fh.read() == b"finally"


@pytest.mark.django_db
def test_download_fails_after_the_last_attempt_keeping_the_error(file_server, local_downloads):
    url = file_server.route("/gone.mp4", (500, {}, b"boom"))
    with override_settings(RECORDING_DOWNLOAD_ATTEMPTS=2):
        recording = recording_accept_link(room=make_room(), url=url)
        recording = recording_download(recording_id=recording.pk)
    assert recording.status == RecordingStatus.FAILED
    assert recording.meta["attempts"] == 2
    assert "HTTP 500" in recording.meta["error"]
    assert len(recording.meta["errors"]) == 2
    assert "failed" in mail.outbox[-1].subject.lower()
    assert stored_names() == [] or all("gone" not in n for n in stored_names())


@pytest.mark.django_db
def test_too_large_download_fails_and_leaves_nothing_in_storage(file_server, local_downloads):
    before = stored_names()
    declared = file_server.route("/big.mp4", (200, {"Content-Length": "5000"}, b"x" * 5000))
    streamed = file_server.route("/stream.mp4", (200, {"Connection": "close"}, 3_000_000))
    with override_settings(RECORDING_MAX_BYTES=4096):
        first = recording_accept_link(room=make_room(), url=declared)
    with override_settings(RECORDING_MAX_BYTES=1_000_000):
        second = recording_accept_link(room=make_room(), url=streamed)
    for recording in (first, second):
        assert recording.status == RecordingStatus.FAILED  # no retry can fix it
        assert "larger than RECORDING_MAX_BYTES" in recording.meta["error"]
        assert not recording.file
    assert stored_names() == before
    assert not Schedule.objects.filter(func="webinars.tasks.download_recording").exists()


@pytest.mark.django_db
def test_redirect_to_a_private_address_is_refused(file_server):
    url = file_server.route(
        "/redirect.mp4", (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    )
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1", "169.254.169.254"]):
        recording = recording_accept_link(room=make_room(), url=url)
    assert recording.status == RecordingStatus.FAILED
    assert "non-public address (169.254.169.254)" in recording.meta["error"]
    assert file_server.hits == ["/redirect.mp4"]


@pytest.mark.django_db
def test_redirect_to_a_host_off_the_allow_list_is_refused(file_server, local_downloads):
    url = file_server.route("/hop.mp4", (301, {"Location": "http://localhost.evil.test/x"}, b""))
    recording = recording_accept_link(room=make_room(), url=url)
    assert recording.status == RecordingStatus.FAILED
    assert "not in RECORDING_DOWNLOAD_HOSTS" in recording.meta["error"]


@pytest.mark.django_db
def test_redirects_inside_the_policy_are_followed(file_server, local_downloads):
    file_server.route("/final.mp4", (200, {}, b"payload"))
    url = file_server.route("/start.mp4", (302, {"Location": "/final.mp4?sig=1"}, b""))
    recording = recording_accept_link(room=make_room(), url=url)
    assert recording.status == RecordingStatus.READY
    assert file_server.hits == ["/start.mp4", "/final.mp4"]


@pytest.mark.django_db
def test_without_debug_http_and_loopback_are_refused(file_server):
    room = make_room()
    with pytest.raises(RecordingRejected) as exc:
        recording_accept_link(room=room, url=file_server.route("/a.mp4", (200, {}, b"a")))
    assert exc.value.field == "preAuthenticatedLink"

    recording = make_recording(
        room, meta={"source": "jaas", "url": "https://127.0.0.1:1/a.mp4", "attempts": 0}
    )
    with override_settings(RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        recording = recording_download(recording_id=recording.pk)
    assert recording.status == RecordingStatus.FAILED
    assert "non-public address (127.0.0.1)" in recording.meta["error"]
    assert file_server.hits == []


@pytest.mark.django_db
def test_allow_list_entries_with_a_dot_match_subdomains():
    from webinars.recordings import download_url_allowed

    with override_settings(RECORDING_DOWNLOAD_HOSTS=["8x8.vc", ".jitsi.net"]):
        assert download_url_allowed(url="https://8x8.vc/a.mp4") is None
        assert download_url_allowed(url="https://rec.eu.jitsi.net/a.mp4") is None
        assert download_url_allowed(url="https://jitsi.net/a.mp4") is None
        assert download_url_allowed(url="https://evil8x8.vc/a.mp4")
        assert download_url_allowed(url="https://jitsi.net.evil.test/a.mp4")
        assert download_url_allowed(url="http://8x8.vc/a.mp4")


def test_retry_backoff_grows():
    delays = [retry_delay(attempt=n).total_seconds() for n in range(1, 6)]
    assert delays == sorted(delays)
    assert delays[0] >= 60


@pytest.mark.django_db
def test_admin_retry_starts_a_failed_download_over(file_server, local_downloads):
    url = file_server.route("/flaky.mp4", (503, {}, b"busy"), (200, {}, b"ok now"))
    with override_settings(RECORDING_DOWNLOAD_ATTEMPTS=1):
        recording = recording_accept_link(room=make_room(), url=url)
    assert recording.status == RecordingStatus.FAILED
    assert recording_download(recording_id=recording.pk).status == RecordingStatus.FAILED

    recording = recording_retry(recording=recording)

    assert recording.status == RecordingStatus.READY
    assert recording.meta["errors"][0]["error"].endswith("HTTP 503")


@pytest.mark.django_db
def test_retry_refuses_a_ready_recording():
    recording = make_recording(make_room(), status=RecordingStatus.READY)
    with pytest.raises(RecordingRejected):
        recording_retry(recording=recording)


# --- Who may watch --------------------------------------------------------------------------


@pytest.mark.django_db
def test_closed_lesson_recordings_are_visible_only_to_people_of_the_lesson():
    teacher, co_teacher, student, parent = (make_user() for _ in range(4))
    director, staff, stranger = (
        make_user(groups=["Director"]),
        make_user(is_staff=True),
        make_user(),
    )
    lesson = make_lesson(teacher=teacher)
    lesson.co_teachers.add(co_teacher)
    enroll(student, lesson.subject)
    make_guardian(parent, student)
    room = make_room(lesson)

    for user in (teacher, co_teacher, student, parent, director, staff):
        assert recording_visible_to(room=room, user=user), user
    assert not recording_visible_to(room=room, user=stranger)
    assert not recording_visible_to(room=room, user=None)


@pytest.mark.django_db
def test_open_lesson_recordings_are_public():
    room = make_room(make_lesson(is_open=True))
    assert recording_visible_to(room=room, user=None)
    assert recording_visible_to(room=room, user=make_user())


@pytest.mark.django_db
def test_public_url_is_signed_for_private_recordings_and_none_for_outsiders():
    storage = storages["recordings"]
    name = storage.save("lessons/test/a.mp4", __import__("io").BytesIO(b"x"))
    lesson = make_lesson()
    recording = make_recording(make_room(lesson), status=RecordingStatus.READY, file=name)

    teacher_url = recording_public_url(recording=recording, user=lesson.teacher)
    assert teacher_url.startswith("/media/recordings/lessons/test/a")
    assert "?t=" in teacher_url and "&s=" in teacher_url
    assert recording_public_url(recording=recording, user=make_user()) is None
    assert recording_public_url(recording=recording) is None

    lesson.is_open = True
    lesson.save()
    recording.refresh_from_db()
    assert recording_public_url(recording=recording) == storage.url(name)


@pytest.mark.django_db
def test_public_url_is_none_until_ready():
    recording = make_recording(make_room(make_lesson(is_open=True)))
    assert recording_public_url(recording=recording) is None


@pytest.mark.django_db
def test_meeting_hosts_get_the_emails():
    from webinars.recordings import recording_recipients

    lesson = make_lesson()
    co = make_user()
    lesson.co_teachers.add(co)
    assert recording_recipients(room=make_room(lesson)) == sorted([lesson.teacher.email, co.email])


@pytest.mark.django_db
def test_a_ready_recording_is_not_downloaded_again(file_server, local_downloads):
    url = file_server.route("/once.mp4", (200, {}, b"once"))
    recording = recording_accept_link(room=make_room(), url=url)
    assert recording.status == RecordingStatus.READY
    recording_download(recording_id=recording.pk)
    assert file_server.hits == ["/once.mp4"]
    assert Recording.objects.get(pk=recording.pk).file.name == recording.file.name


# --- TLS: verified unless DEBUG ---------------------------------------------------------------


def _self_signed_context(tmp_path):
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_with_an_untrusted_certificate_works_only_with_debug(tmp_path):
    from webinars.recordings.fetch import DownloadError, _open, _Target

    server = FileServer(tls_context=_self_signed_context(tmp_path))
    try:
        url = server.route("/tls.mp4", (200, {}, b"over tls"))
        with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
            recording = recording_accept_link(room=make_room(), url=url)
        assert recording.status == RecordingStatus.READY

        target = _Target("https", "127.0.0.1", server.port, "127.0.0.1", "/tls.mp4")
        with override_settings(DEBUG=False), pytest.raises(DownloadError) as exc:
            _open(target)
        assert "SSLError" in str(exc.value)
    finally:
        server.close()


# --- Never "processing" forever ----------------------------------------------------------------


@pytest.mark.django_db
def test_recordings_without_a_file_a_day_after_closing_fail_with_a_reason():
    from webinars.recordings import recording_expire_stale

    now = timezone.now()
    old_room = make_room()
    room_open(room=old_room, now=now - timedelta(hours=27))
    room_close(room=old_room, now=now - timedelta(hours=26))
    fresh_room = make_room()
    room_open(room=fresh_room, now=now - timedelta(hours=2))
    room_close(room=fresh_room, now=now - timedelta(hours=1))

    stuck = make_recording(fresh_room, meta={"source": "jaas", "url": "https://8x8.vc/a"})
    Recording.objects.filter(pk=stuck.pk).update(updated_at=now - timedelta(hours=25))

    assert recording_expire_stale(now=now) == 2

    stuck.refresh_from_db()
    assert stuck.status == RecordingStatus.FAILED
    assert "stopped without finishing" in stuck.meta["error"]
    stale = old_room.recordings.get()
    assert stale.status == RecordingStatus.FAILED
    assert "no recording file arrived" in stale.meta["error"]
    assert fresh_room.recordings.first().status == RecordingStatus.PENDING
    assert "failed" in mail.outbox[-1].subject.lower()


@pytest.mark.django_db
def test_an_unexpected_error_is_retried_not_left_hanging(monkeypatch):
    from django.core.files.storage import FileSystemStorage

    source = jibri_file("crash/a.mp4", b"data")

    def broken(*args, **kwargs):
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(FileSystemStorage, "_save", broken)
    recording = recording_accept_jibri_file(room=make_room(), file_path="crash/a.mp4")
    assert recording.status == RecordingStatus.PENDING
    assert recording.meta["error"] == "RuntimeError: storage exploded"
    assert Schedule.objects.filter(func="webinars.tasks.download_recording").count() == 1
    assert source.read_bytes() == b"data"
    destination = recording.meta["destination"]  # decided and saved before the move
    assert destination.startswith("lessons/")

    monkeypatch.undo()
    recording = recording_download(recording_id=recording.pk)
    assert recording.status == RecordingStatus.READY
    assert recording.file.name == destination
    assert not source.exists()
