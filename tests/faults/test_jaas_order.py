"""JaaS delivers webhooks late, twice, and out of order (its ``timestamp`` is the truth): every
order of one lesson's events, each delivered twice, ends in the same recording and attendance."""

import random
import time

import pytest
from django.test import override_settings

from tests.factories import enroll, make_lesson, make_room, make_user
from tests.webinars.test_api_recordings import jaas
from tests.webinars.test_recordings import FileServer
from webinars.choices import AttendanceSource
from webinars.models import Attendance, WebhookEvent

T0 = int(time.time() * 1000) - 3_600_000  # the lesson's recording started an hour ago (ms)
MINUTE = 60_000


def lesson_events(room, url: str) -> list[dict]:
    """A lesson as JaaS reports it: two people, one recording, one upload."""
    student = room.lesson.teacher.__class__.objects.get(username=f"pupil-{room.pk}")
    teacher = room.lesson.teacher

    def envelope(key, event_type, at, **data):
        return {
            "idempotencyKey": f"{room.pk}-{key}",
            "customerId": "c1",
            "appId": "vpaas-magic-cookie-1",
            "eventType": event_type,
            "sessionId": f"session-{room.pk}",
            "timestamp": at,
            "fqn": f"vpaas-magic-cookie-1/{room.jitsi_room}",
            "data": data,
        }

    person = {"participantJid": "", "email": ""}
    return [
        envelope("t-in", "PARTICIPANT_JOINED", T0 - MINUTE, id=str(teacher.pk), name="Ms T",
                 moderator=True, participantId="pt", **person),
        envelope("rec-start", "RECORDING_STARTED", T0),
        envelope("s-in", "PARTICIPANT_JOINED", T0 + MINUTE, id=str(student.pk), name="Pupil",
                 moderator=False, participantId="ps", **person),
        envelope("s-out", "PARTICIPANT_LEFT", T0 + 20 * MINUTE, id=str(student.pk),
                 name="Pupil", moderator=False, participantId="ps", disconnectReason="left",
                 **person),
        envelope("rec-end", "RECORDING_ENDED", T0 + 45 * MINUTE),
        envelope("t-out", "PARTICIPANT_LEFT", T0 + 46 * MINUTE, id=str(teacher.pk),
                 name="Ms T", moderator=True, participantId="pt", disconnectReason="left",
                 **person),
        envelope("rec-up", "RECORDING_UPLOADED", T0 + 47 * MINUTE, preAuthenticatedLink=url,
                 durationSec=45 * 60, startTimestamp=T0, endTimestamp=T0 + 45 * MINUTE,
                 recordingSessionId=f"rs-{room.pk}", initiatorId="pt", participants=[]),
    ]  # fmt: skip


def final_state(room) -> dict:
    """What users see afterwards: the recordings and the attendance, minus ids and the room."""
    recordings = [
        (
            r.status,
            r.started_at,
            r.ended_at,
            r.duration_secs,
            r.size_bytes,
            r.checksum_sha256,
            r.meta.get("jaas_recording_session_id", "").replace(f"-{room.pk}", ""),
            r.meta.get("error"),
        )
        for r in room.recordings.order_by("created_at", "id")
    ]
    who = {room.lesson.teacher_id: "teacher"}
    attendance = sorted(
        (a.participant_id, who.get(a.user_id, a.user and "pupil"), a.role, a.display_name)
        + (a.joined_at, a.left_at)
        for a in Attendance.objects.filter(room=room, source=AttendanceSource.JAAS_WEBHOOK)
    )
    return {
        "recordings": recordings,
        "attendance": attendance,
        "events": WebhookEvent.objects.filter(room=room).count(),
    }


def orders(count: int) -> list[tuple[str, list[int]]]:
    natural = list(range(count))
    rng = random.Random(20240901)  # fixed: a failure names a reproducible order
    shuffled = [rng.sample(natural, count) for _ in range(4)]
    upload_first = [count - 1, *natural[:-1]]
    return [
        ("natural", natural),
        ("reversed", natural[::-1]),
        ("upload first", upload_first),
        *[(f"shuffle {n}", order) for n, order in enumerate(shuffled)],
    ]


def deliver(api_client, events: list[dict], order: list[int], *, replays: str) -> None:
    """Each event twice: at once (a retry after a lost answer) or after all the others."""
    sequence = [i for i in order for _ in (0, 1)] if replays == "at once" else order + order[::-1]
    with override_settings(DEBUG=True, RECORDING_DOWNLOAD_HOSTS=["127.0.0.1"]):
        for index in sequence:
            response = jaas(api_client, events[index])
            assert response.status_code == 200, response.content


@pytest.fixture
def file_server():
    server = FileServer()
    yield server
    server.close()


def lesson_room(file_server):
    lesson = make_lesson()
    room = make_room(lesson)
    enroll(make_user(f"pupil-{room.pk}"), lesson.subject)
    url = file_server.route(f"/rec-{room.pk}.mp4", (200, {}, b"the lesson on video"))
    return room, url


@pytest.mark.django_db
@pytest.mark.parametrize("replays", ["at once", "at the end"])
def test_every_order_with_duplicates_ends_in_the_same_state(api_client, file_server, replays):
    states = {}
    for label, order in orders(7):
        room, url = lesson_room(file_server)
        deliver(api_client, lesson_events(room, url), order, replays=replays)
        states[label] = final_state(room)
        assert file_server.hits.count(f"/rec-{room.pk}.mp4") == 1, label  # downloaded once

    expected = states["natural"]
    assert [r[0] for r in expected["recordings"]] == ["READY"]
    assert expected["events"] == 7
    people = {row[0]: row[1:4] for row in expected["attendance"]}
    assert people["pt"] == ("teacher", "moderator", "Ms T")
    assert people["ps"][0] == "pupil"
    for label, state in states.items():
        assert state == expected, label


@pytest.mark.django_db
def test_recording_started_and_ended_in_either_order_wait_for_the_upload(api_client, file_server):
    states = []
    for order in ([1, 4], [4, 1], [4, 4, 1, 1]):
        room, url = lesson_room(file_server)
        deliver(api_client, lesson_events(room, url), order, replays="at once")
        states.append(final_state(room))
    assert [r[:3] for r in states[0]["recordings"]][0][0] == "PENDING"
    assert states[0]["recordings"][0][1] is not None and states[0]["recordings"][0][2] is not None
    assert states[1] == states[0] and states[2] == states[0]
