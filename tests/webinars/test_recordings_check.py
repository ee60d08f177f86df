"""The hourly recording check, its admin list, and the admin's retry recovering what it found."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import make_recording, make_room
from tests.webinars.test_recordings import jibri_file
from webinars.choices import RecordingIssueKind, RecordingStatus
from webinars.models import RecordingCheckIssue
from webinars.recordings import dummy_mp4_bytes, recording_accept_jibri_file, recording_check
from webinars.schedules import CHECK_RECORDINGS
from webinars.tasks import check_recordings


def store(name: str, content: bytes) -> str:
    return storages["recordings"].save(name, io.BytesIO(content))


def issues_about(*, names=(), recordings=()) -> list[tuple]:
    ids = {r.pk for r in recordings}
    return sorted(
        (issue.kind, issue.name, issue.recording_id)
        for issue in RecordingCheckIssue.objects.all()
        if issue.name in names or issue.recording_id in ids
    )


@pytest.mark.django_db
def test_migrate_installs_the_hourly_check_and_the_task_returns_counts():
    schedule = Schedule.objects.get(name=CHECK_RECORDINGS)
    assert schedule.func == "webinars.tasks.check_recordings"
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.HOURLY, -1)
    assert set(check_recordings()) == {"files", "ready", "hashed_bytes", "requeued", "issues"}


@pytest.mark.django_db
def test_check_lists_orphans_and_ready_rows_whose_file_is_missing_or_differs():
    room = make_room()
    jibri_file("check/good.mp4", b"good bytes")
    good = recording_accept_jibri_file(room=room, file_path="check/good.mp4")
    jibri_file("check/short.mp4", b"0123456789")
    short = recording_accept_jibri_file(room=room, file_path="check/short.mp4")
    jibri_file("check/altered.mp4", b"original!!")
    altered = recording_accept_jibri_file(room=room, file_path="check/altered.mp4")
    missing = make_recording(room, status=RecordingStatus.READY, file="lessons/gone.mp4")
    stray = store("lessons/2020/01/stray.mp4", b"nobody's")
    storage = storages["recordings"]
    storage.delete(short.file.name)
    storage.save(short.file.name, io.BytesIO(b"01234"))  # truncated by hand
    storage.delete(altered.file.name)
    storage.save(altered.file.name, io.BytesIO(b"tampered!!"))  # same size, other bytes

    report = recording_check()

    assert issues_about(names=[stray], recordings=[good, short, altered, missing]) == sorted(
        [
            (RecordingIssueKind.ORPHAN, stray, None),
            (RecordingIssueKind.SIZE, short.file.name, short.pk),
            (RecordingIssueKind.CHECKSUM, altered.file.name, altered.pk),
            (RecordingIssueKind.MISSING, "lessons/gone.mp4", missing.pk),
        ]
    )
    assert report.as_dict()["issues"][RecordingIssueKind.ORPHAN] >= 1
    good.refresh_from_db()
    assert good.meta["verified_at"]  # its sha256 was read back and matched

    storage.delete(stray)
    recording_check()
    assert issues_about(names=[stray]) == []  # each run replaces the list


@pytest.mark.django_db
def test_check_reads_sha256_back_within_its_budget_least_recently_verified_first():
    room = make_room()
    rows = []
    for n in range(3):
        jibri_file(f"budget/{n}.mp4", b"x" * 100)
        rows.append(recording_accept_jibri_file(room=room, file_path=f"budget/{n}.mp4"))
    for row, when in zip(rows, ["2020-01-03", "2020-01-01", "2020-01-02"], strict=True):
        row.meta["verified_at"] = when
        row.save(update_fields=["meta"])

    report = recording_check(hash_budget_bytes=150)  # two files of 100 bytes: 1 then 2

    assert report.hashed_bytes >= 200
    for row in rows:
        row.refresh_from_db()
    assert rows[0].meta["verified_at"] == "2020-01-03"  # the most recently verified waits
    assert rows[1].meta["verified_at"] > "2020-01-03" and rows[2].meta["verified_at"] > "2020-01"


@pytest.mark.django_db
def test_the_reported_bug_a_failed_recording_gets_its_orphaned_file_back(admin_client):
    """Before destinations were saved: file moved, row rolled back, retry found no Jibri file,
    FAILED, file in storage referenced by nothing. The check and one retry recover it."""
    room = make_room()
    content = dummy_mp4_bytes(duration_secs=9)
    failed = make_recording(
        room,
        status=RecordingStatus.FAILED,
        meta={
            "source": "jibri",
            "local_path": "moved/lesson.mp4",
            "ext": "mp4",
            "attempts": 2,
            "error": "No such file in the recordings directory.",
        },
    )
    orphan = store(f"lessons/2026/03/room{room.pk}-rec{failed.pk}-k3y9a.mp4", content)

    recording_check()
    assert issues_about(names=[orphan]) == [(RecordingIssueKind.ORPHAN, orphan, failed.pk)]
    page = admin_client.get(reverse("recording_check:index"), {"q": "k3y9a"}).content.decode()
    assert orphan in page and reverse("recordings:retry", args=[failed.pk]) in page

    response = admin_client.post(reverse("recordings:retry", args=[failed.pk]), follow=True)

    failed.refresh_from_db()
    assert failed.status == RecordingStatus.READY, failed.meta
    assert failed.file.name == orphan
    assert failed.checksum_sha256 == hashlib.sha256(content).hexdigest()
    assert failed.size_bytes == len(content)
    messages = [str(m).strip() for m in response.context["messages"]]
    assert messages == [f"The recording of “{room}” is ready."]
    recording_check()
    assert issues_about(names=[orphan], recordings=[failed]) == []


@pytest.mark.django_db
def test_retry_of_a_failed_recording_whose_file_is_at_its_destination_makes_it_ready():
    from webinars.recordings import recording_retry

    content = b"already stored"
    room = make_room()
    failed = make_recording(room, status=RecordingStatus.FAILED, meta={"source": "jaas"})
    name = store(f"lessons/2026/04/room{room.pk}-rec{failed.pk}-zzzzz.mp4", content)
    failed.meta.update(
        destination=name,
        expected_size=len(content),
        expected_sha256=hashlib.sha256(content).hexdigest(),
        error="the ingest stopped without finishing for 24 h",
    )
    failed.save()

    recovered = recording_retry(recording=failed)

    assert recovered.status == RecordingStatus.READY
    assert recovered.file.name == name
    assert "destination" not in recovered.meta and "error" not in recovered.meta


@pytest.mark.django_db
def test_a_stored_file_that_differs_from_the_saved_checksum_is_never_adopted():
    from webinars.recordings import recording_retry

    room = make_room()
    source = jibri_file("differs/lesson.mp4", b"the real lesson")
    failed = make_recording(room, status=RecordingStatus.FAILED)
    name = store(f"lessons/2026/04/room{room.pk}-rec{failed.pk}-bad00.mp4", b"half a lesso")
    failed.meta = {
        "source": "jibri",
        "local_path": "differs/lesson.mp4",
        "ext": "mp4",
        "destination": name,
        "expected_size": len(b"the real lesson"),
        "expected_sha256": hashlib.sha256(b"the real lesson").hexdigest(),
    }
    failed.save()

    recovered = recording_retry(recording=failed)

    assert recovered.status == RecordingStatus.READY
    with recovered.file.open("rb") as fh:
        assert fh.read() == b"the real lesson"  # moved again over the short copy
    assert recovered.file.name == name and not source.exists()


@pytest.mark.django_db
def test_check_list_is_read_only_and_recordings_cannot_be_edited_by_hand(admin_client):
    recording = make_recording(make_room(), status=RecordingStatus.PENDING)
    store("lessons/2020/02/stray-admin.mp4", b"x")
    recording_check()
    issue = RecordingCheckIssue.objects.filter(name__endswith="stray-admin.mp4").get()

    index = admin_client.get(reverse("recording_check:index"), {"q": "stray-admin"})
    assert index.status_code == 200
    assert "stray-admin.mp4" in index.content.decode()
    assert admin_client.get(reverse("recording_check:inspect", args=[issue.pk])).status_code == 200
    for url in (
        reverse("recording_check:edit", args=[issue.pk]),
        reverse("recording_check:delete", args=[issue.pk]),
        reverse("recordings:edit", args=[recording.pk]),
    ):
        assert admin_client.get(url).status_code in (302, 403), url
    assert admin_client.get(reverse("recordings:index")).status_code == 200


@pytest.mark.django_db
def test_management_command_prints_the_findings(capsys):
    name = store("lessons/2020/03/stray-cli.mp4", b"cli")
    call_command("recordings_check", "--all")
    out = capsys.readouterr().out
    assert "file(s) in storage" in out
    assert f"orphan: {name}" in out


@pytest.mark.django_db
def test_stalled_ingest_is_queued_again_only_after_the_task_timeout(monkeypatch):
    from webinars.recordings.accept import recording_claim
    from webinars.recordings.recovery import stalled_after

    jibri_file("stalled/a.mp4", b"stalled")
    queued = []
    monkeypatch.setattr(
        "webinars.recordings.ingest.async_task", lambda *args, **kwargs: queued.append(args)
    )
    recording = recording_claim(
        room=make_room(), meta={"source": "jibri", "local_path": "stalled/a.mp4", "ext": "mp4"}
    )
    assert recording_check(now=timezone.now() + timedelta(hours=1)).requeued == []
    later = timezone.now() + stalled_after() + timedelta(minutes=1)
    assert recording_check(now=later).requeued == [recording.pk]
    assert queued == [("webinars.tasks.download_recording", recording.pk)]
