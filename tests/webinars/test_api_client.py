"""A client generated from /api/schema/ works: what a school's developer does (docs/api-schema.md).

The schema is downloaded from /api/schema/, openapi-python-client (requirements-dev.txt)
generates a client from it (``--fail-on-warning``: every operation and model generated), and
every operation is driven against a live server through the client's ``sync_detailed``
functions. Every answer, errors included, must be a status the schema documents
(``raise_on_unexpected_status``) and parse into the generated model the table names; a model
may not be handed fields the schema does not declare (``additional_properties`` of a model with
declared properties stays empty).

Adding an operation is one line of ``CALLS``: (who, operation, arguments, status, parsed type;
"None" for a 204).
"""

import importlib
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from types import SimpleNamespace

import attrs
import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.factories import (
    enroll,
    home_page,
    make_api_token,
    make_lesson,
    make_recording,
    make_room,
    make_subject,
    make_user,
)
from tests.webinars.api_tools import executable, write_schema
from webinars.choices import RecordingStatus
from webinars.models import CalendarToken, Room
from webinars.services.tokens import api_token_issue

PACKAGE = "cedar_client"
PASSWORD = "pass-1234"


@pytest.fixture(scope="module")
def api(tmp_path_factory, django_db_blocker):
    """The generated client package, imported."""
    directory = tmp_path_factory.mktemp("client")
    with django_db_blocker.unblock():
        schema = write_schema(directory)
    config = directory / "config.yaml"
    config.write_text("post_hooks: []\n")  # no ruff pass over the generated code
    done = subprocess.run(
        [
            executable("openapi-python-client"),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(directory / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@dataclass
class World:
    users: dict[str, User]
    tokens: dict[str, str]
    lesson: object
    room: Room
    open_room: Room
    closing_room: Room
    future_lesson: object
    cancelled_lesson: object
    calendar_token: str
    spare_token_id: int
    meeting_id: int | None = None


@pytest.fixture
def world(live_server) -> World:
    home_page()  # the site, also when an earlier transactional test flushed the tables
    subject = make_subject()
    users = {
        "staff": make_user("staff", is_staff=True, is_superuser=True, password=PASSWORD),
        "teacher": make_user("teacher", first_name="Tanya", last_name="Teacher"),
        "student": make_user("student"),
        "outsider": make_user("outsider"),
        "leaver": make_user("leaver"),  # signs out: revokes a token, then the one it uses
    }
    enroll(users["student"], subject)
    soon = timezone.now() + timedelta(minutes=5)
    lesson = make_lesson(subject=subject, teacher=users["teacher"], start=soon)
    room = make_room(lesson)
    open_room = make_room(make_lesson(subject=subject, teacher=users["teacher"], start=soon))
    open_room.lesson.is_open = True
    open_room.lesson.save()
    Room.objects.filter(pk=open_room.pk).update(is_open=True)
    open_room.refresh_from_db()
    closing_room = make_room(make_lesson(subject=subject, teacher=users["teacher"], start=soon))
    make_recording(room)  # pending: no times, no size yet
    make_recording(
        room, status=RecordingStatus.READY, started_at=soon, ended_at=soon + timedelta(minutes=9)
    )
    later = timezone.now() + timedelta(days=3)
    return World(
        users=users,
        tokens={who: make_api_token(user) for who, user in users.items()},
        lesson=lesson,
        room=room,
        open_room=open_room,
        closing_room=closing_room,
        future_lesson=make_lesson(subject=subject, teacher=users["teacher"], start=later),
        cancelled_lesson=make_lesson(
            subject=subject, teacher=users["teacher"], start=later, is_cancelled=True
        ),
        calendar_token=CalendarToken.objects.create(user=users["student"]).token,
        spare_token_id=api_token_issue(user=users["leaver"], name="Old phone")[0].pk,
    )


def a_meeting(w, m):
    start = timezone.now() + timedelta(days=1)
    return {
        "body": m.MeetingCreateRequest(
            title="Parents' evening",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
        )
    }


def backwards_meeting(w, m):
    start = timezone.now() + timedelta(days=1)
    return {
        "body": m.MeetingCreateRequest(
            title="Backwards", scheduled_start=start, scheduled_end=start - timedelta(hours=1)
        )
    }


def upload(w, m):
    from cedar_client.types import File

    body = m.DevUploadRequest(room_id=w.room.pk, file=File(payload=BytesIO(b"x"), file_name="x"))
    return {"body": body}


def unknown_zone(name: str):
    """A zone the server's tz database lacks (a client generated against another server's):
    the enum member such a client would send."""
    return SimpleNamespace(value=name)


def prosody_event(w, m):
    return {"body": m.ProsodyEventRequest(event_name="x", room_name="y")}


PROSODY = "webhooks.webhooks_prosody_events_{}_create"
NOBODY = "anonymous"

# (who, "tag.operation", lambda world, models: arguments, status, parsed type)
# fmt: off
CALLS = [
    # auth and me
    (NOBODY, "auth.auth_token_create", lambda w, m: {"body": m.TokenRequestRequest(username="staff", password=PASSWORD, name="Diary", expires_in_days=30), "tz": m.TimeZone("Asia/Tokyo")}, 200, "IssuedToken"),  # noqa: E501
    (NOBODY, "auth.auth_token_create", lambda w, m: {"body": m.TokenRequestRequest(username="staff", password=PASSWORD)}, 200, "IssuedToken"),  # noqa: E501
    (NOBODY, "auth.auth_token_create", lambda w, m: {"body": m.TokenRequestRequest(username="staff", password="wrong")}, 400, "Error"),  # noqa: E501
    ("leaver", "auth.auth_tokens_list", lambda w, m: {"tz": m.TimeZone("Asia/Tokyo")}, 200, "PaginatedApiTokenList"),  # noqa: E501
    ("leaver", "auth.auth_tokens_list", lambda w, m: {"page": 9}, 404, "Error"),
    (NOBODY, "auth.auth_tokens_list", lambda w, m: {}, 401, "Error"),
    ("leaver", "auth.auth_tokens_destroy", lambda w, m: {"token_id": w.spare_token_id}, 204, "None"),  # noqa: E501
    ("leaver", "auth.auth_tokens_destroy", lambda w, m: {"token_id": w.spare_token_id}, 404, "Error"),  # noqa: E501
    ("leaver", "auth.auth_tokens_current_destroy", lambda w, m: {}, 204, "None"),
    ("leaver", "auth.auth_tokens_current_destroy", lambda w, m: {}, 401, "Error"),
    ("leaver", "auth.auth_tokens_list", lambda w, m: {}, 401, "Error"),
    ("staff", "me.me_retrieve", lambda w, m: {}, 200, "Me"),
    (NOBODY, "me.me_retrieve", lambda w, m: {}, 401, "Error"),
    ("wrong token", "me.me_retrieve", lambda w, m: {}, 401, "Error"),
    (NOBODY, "health.health_retrieve", lambda w, m: {}, 200, "Health"),
    # lists (lessons, subjects, classes, rooms, the timetable)
    ("staff", "lessons.lessons_list", lambda w, m: {"tz": m.TimeZone("Asia/Tokyo")}, 200, "PaginatedLessonRowList"),  # noqa: E501
    ("student", "lessons.lessons_list", lambda w, m: {"mine": True, "ordering": m.LessonsListOrdering("-scheduled_start")}, 200, "PaginatedLessonRowList"),  # noqa: E501
    ("staff", "lessons.lessons_list", lambda w, m: {"teacher": 0}, 400, "Error"),
    ("staff", "lessons.lessons_list", lambda w, m: {"page": 99}, 404, "Error"),
    (NOBODY, "lessons.lessons_list", lambda w, m: {}, 401, "Error"),
    ("staff", "lessons.lessons_retrieve", lambda w, m: {"lesson_id": w.lesson.pk, "tz": m.TimeZone("Europe/Amsterdam")}, 200, "LessonRow"),  # noqa: E501
    ("staff", "lessons.lessons_retrieve", lambda w, m: {"lesson_id": 999_999}, 404, "Error"),
    ("staff", "lessons.lessons_retrieve", lambda w, m: {"lesson_id": w.lesson.pk, "tz": unknown_zone("Mars/Olympus")}, 400, "Error"),  # noqa: E501
    ("student", "subjects.subjects_list", lambda w, m: {}, 200, "PaginatedSubjectList"),
    (NOBODY, "subjects.subjects_list", lambda w, m: {}, 401, "Error"),
    ("staff", "classes.classes_list", lambda w, m: {"page_size": 5}, 200, "PaginatedSchoolClassRowList"),  # noqa: E501
    ("staff", "rooms.rooms_list", lambda w, m: {"status": m.RoomsListStatus("SCHEDULED"), "tz": m.TimeZone("Asia/Tokyo")}, 200, "PaginatedRoomList"),  # noqa: E501
    ("staff", "rooms.rooms_list", lambda w, m: {"from_": "not a time"}, 400, "Error"),
    ("student", "me.me_lessons_list", lambda w, m: {"tz": m.TimeZone("Europe/Moscow")}, 200, "PaginatedTimetableRowList"),  # noqa: E501
    ("student", "me.me_lessons_list", lambda w, m: {"from_": "2026-13-40"}, 400, "Error"),
    ("student", "me.me_retrieve", lambda w, m: {}, 200, "Me"),
    ("teacher", "me.me_calendar_token_create", lambda w, m: {}, 200, "CalendarToken"),
    (NOBODY, "me.me_calendar_token_create", lambda w, m: {}, 401, "Error"),
    # rooms
    ("teacher", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": w.lesson.pk, "tz": m.TimeZone("Europe/Amsterdam")}, 200, "Room"),  # noqa: E501
    ("teacher", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": w.future_lesson.pk}, 409, "TooEarly"),  # noqa: E501
    ("teacher", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": w.cancelled_lesson.pk}, 410, "Error"),  # noqa: E501
    ("outsider", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": w.lesson.pk}, 403, "Error"),  # noqa: E501
    ("teacher", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": 999_999}, 404, "Error"),  # noqa: E501
    ("teacher", "rooms.rooms_by_lesson_retrieve", lambda w, m: {"lesson_id": w.lesson.pk, "tz": unknown_zone("Mars/Olympus")}, 400, "Error"),  # noqa: E501
    ("staff", "rooms.rooms_retrieve", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Asia/Tokyo")}, 200, "Room"),  # noqa: E501
    ("outsider", "rooms.rooms_retrieve", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),
    ("staff", "rooms.rooms_retrieve", lambda w, m: {"room_id": 999_999}, 404, "Error"),
    (NOBODY, "rooms.rooms_retrieve", lambda w, m: {"room_id": w.room.pk}, 401, "Error"),
    ("staff", "rooms.rooms_meeting_create", a_meeting, 201, "Room"),
    ("staff", "rooms.rooms_meeting_create", backwards_meeting, 400, "Error"),
    ("student", "rooms.rooms_meeting_create", a_meeting, 403, "Error"),
    ("staff", "rooms.rooms_retrieve", lambda w, m: {"room_id": w.meeting_id}, 200, "Room"),
    # joins
    ("teacher", "rooms.rooms_join", lambda w, m: {"room_id": w.room.pk}, 200, "JoinResult"),
    ("student", "rooms.rooms_join", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Europe/Moscow")}, 200, "JoinResult"),  # noqa: E501
    ("outsider", "rooms.rooms_join", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),
    ("outsider", "rooms.rooms_join", lambda w, m: {"room_id": 999_999}, 404, "Error"),
    (NOBODY, "rooms.rooms_join", lambda w, m: {"room_id": w.room.pk}, 401, "Error"),
    ("student", "rooms.rooms_permissions", lambda w, m: {"room_id": w.room.pk}, 200, "RoomPermissions"),  # noqa: E501
    ("outsider", "rooms.rooms_permissions", lambda w, m: {"room_id": w.room.pk}, 200, "RoomPermissions"),  # noqa: E501
    ("staff", "rooms.rooms_permissions", lambda w, m: {"room_id": 999_999}, 404, "Error"),
    (NOBODY, "rooms.rooms_public_join", lambda w, m: {"slug": w.open_room.public_slug, "body": m.PublicJoinRequest(display_name="Ann")}, 200, "JoinResult"),  # noqa: E501
    (NOBODY, "rooms.rooms_public_join", lambda w, m: {"slug": w.open_room.public_slug, "body": m.PublicJoinRequest(display_name="x" * 65)}, 400, "Error"),  # noqa: E501
    (NOBODY, "rooms.rooms_public_join", lambda w, m: {"slug": "no-such-link", "body": m.PublicJoinRequest()}, 404, "Error"),  # noqa: E501
    ("teacher", "rooms.rooms_left_create", lambda w, m: {"room_id": w.room.pk}, 200, "RoomLeft"),
    # feed, recordings, calendars
    (NOBODY, "rooms.rooms_open_lessons_list", lambda w, m: {"tz": m.TimeZone("Europe/Amsterdam"), "hours": 48}, 200, "list[OpenLessonItem]"),  # noqa: E501
    (NOBODY, "rooms.rooms_open_lessons_list", lambda w, m: {"hours": -1}, 400, "Error"),
    ("staff", "rooms.rooms_recording_retrieve", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Asia/Tokyo")}, 200, "RoomRecording"),  # noqa: E501
    (NOBODY, "rooms.rooms_recording_retrieve", lambda w, m: {"room_id": w.room.pk}, 401, "Error"),
    ("outsider", "rooms.rooms_recording_retrieve", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),  # noqa: E501
    (NOBODY, "rooms.rooms_recording_retrieve", lambda w, m: {"room_id": 999_999}, 404, "Error"),
    (NOBODY, "calendar.calendar_personal_ics", lambda w, m: {"token": w.calendar_token}, 200, "str"),  # noqa: E501
    (NOBODY, "calendar.calendar_personal_ics", lambda w, m: {"token": "revoked"}, 404, "Error"),
    (NOBODY, "calendar.calendar_open_lessons_ics", lambda w, m: {}, 200, "str"),
    ("student", "rooms.rooms_calendar_ics", lambda w, m: {"room_id": w.room.pk}, 200, "str"),
    ("outsider", "rooms.rooms_calendar_ics", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),
    # register and attendance
    ("teacher", "rooms.rooms_register_retrieve", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Europe/Amsterdam")}, 200, "Register"),  # noqa: E501
    ("student", "rooms.rooms_register_retrieve", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),
    ("staff", "rooms.rooms_register_retrieve", lambda w, m: {"room_id": w.meeting_id}, 404, "Error"),  # noqa: E501
    ("teacher", "rooms.rooms_register_csv", lambda w, m: {"room_id": w.room.pk}, 200, "str"),
    ("staff", "rooms.rooms_attendance_list", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Asia/Tokyo")}, 200, "list[Attendance]"),  # noqa: E501
    ("student", "rooms.rooms_attendance_list", lambda w, m: {"room_id": w.room.pk}, 403, "Error"),
    ("staff", "rooms.rooms_attendance_csv", lambda w, m: {"room_id": w.room.pk, "tz": m.TimeZone("Asia/Tokyo")}, 200, "str"),  # noqa: E501
    ("staff", "rooms.rooms_attendance_csv", lambda w, m: {"room_id": w.room.pk, "tz": unknown_zone("Nowhere")}, 400, "Error"),  # noqa: E501
    ("staff", "attendance.attendance_list", lambda w, m: {"student": w.users["student"].pk}, 200, "PaginatedStudentLineList"),  # noqa: E501
    ("staff", "attendance.attendance_list", lambda w, m: {"student": w.users["student"].pk, "from_": date(2026, 5, 2), "to": date(2026, 5, 1)}, 400, "Error"),  # noqa: E501
    ("staff", "attendance.attendance_list", lambda w, m: {"student": w.users["student"].pk, "page": 99}, 404, "Error"),  # noqa: E501
    ("outsider", "attendance.attendance_list", lambda w, m: {"student": w.users["student"].pk}, 403, "Error"),  # noqa: E501
    # close (last: the room stays closed)
    ("outsider", "rooms.rooms_close_create", lambda w, m: {"room_id": w.closing_room.pk}, 403, "Error"),  # noqa: E501
    ("staff", "rooms.rooms_close_create", lambda w, m: {"room_id": w.closing_room.pk}, 200, "Room"),
    ("staff", "rooms.rooms_close_create", lambda w, m: {"room_id": w.closing_room.pk}, 200, "Room"),
    ("staff", "rooms.rooms_close_create", lambda w, m: {"room_id": 999_999}, 404, "Error"),
    # machines: without their secret, refused in the error shape
    (NOBODY, "recordings.recordings_jibri_create", lambda w, m: {"body": m.JibriLookupRequest(file_path="a.mp4")}, 401, "Error"),  # noqa: E501
    (NOBODY, "rooms.rooms_recording_uploaded_create", lambda w, m: {"room_id": w.room.pk, "body": m.JibriFileRequest(file_path="a.mp4")}, 401, "Error"),  # noqa: E501
    (NOBODY, "webhooks.webhooks_jaas_create", lambda w, m: {"body": m.JaasEventRequest(idempotency_key="k")}, 401, "Error"),  # noqa: E501
    (NOBODY, "webhooks.webhooks_jaas_recording_create", lambda w, m: {"body": m.JaasRecordingFormRequest(room_id=w.room.pk, pre_authenticated_link="https://x.test/a.mp4")}, 401, "Error"),  # noqa: E501
    (NOBODY, PROSODY.format("occupant_joined"), prosody_event, 401, "Error"),
    (NOBODY, PROSODY.format("occupant_left"), prosody_event, 401, "Error"),
    (NOBODY, PROSODY.format("room_created"), prosody_event, 401, "Error"),
    (NOBODY, PROSODY.format("room_destroyed"), prosody_event, 401, "Error"),
    # DEBUG-only tools are not there in production
    ("staff", "dev.dev_recordings_make_dummy_create", lambda w, m: {"body": m.DevRoomRequest(room_id=w.room.pk)}, 404, "Error"),  # noqa: E501
    ("staff", "dev.dev_recordings_upload_create", upload, 404, "Error"),
]
# fmt: on


def client_for(api, live_server, world, who: str):
    if who == NOBODY:
        return api.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = world.tokens.get(who, "not-a-token")
    return api.AuthenticatedClient(
        base_url=live_server.url, token=token, raise_on_unexpected_status=True
    )


def type_name(value) -> str:
    if isinstance(value, list):
        inner = {type_name(item) for item in value}
        return f"list[{inner.pop()}]" if len(inner) == 1 else f"list[{'|'.join(sorted(inner))}]"
    return type(value).__name__


def undocumented_fields(value, where: str = "") -> list[str]:
    """Fields the server sent that the schema does not declare, anywhere in a parsed answer."""
    if isinstance(value, list):
        return [
            f for i, item in enumerate(value) for f in undocumented_fields(item, f"{where}[{i}]")
        ]
    if not attrs.has(type(value)):
        return []
    declared = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
    found = []
    if declared:  # a model with properties; a free-form map has only additional_properties
        found += [f"{where}.{key}" for key in value.additional_properties]
    for name in declared:
        found += undocumented_fields(getattr(value, name), f"{where}.{name}")
    return found


def call(api, live_server, world, who, operation, arguments):
    tag, name = operation.split(".")
    module = importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
    kwargs = arguments(world, api.models)
    return module.sync_detailed(client=client_for(api, live_server, world, who), **kwargs)


def test_every_operation_answers_what_the_schema_promises(api, live_server, world):
    problems = []
    tested = set()
    for who, operation, arguments, status, expected in CALLS:
        tested.add(operation.split(".")[1])
        label = f"{operation} as {who} -> {status}"
        try:
            response = call(api, live_server, world, who, operation, arguments)
        except Exception as exc:  # noqa: BLE001 - unexpected status, or a body that did not parse
            problems.append(f"{label}: {type(exc).__name__}: {exc}"[:600])
            continue
        if response.status_code != status:
            problems.append(f"{label}: got {response.status_code} {response.content[:200]!r}")
            continue
        if expected == "None":  # 204: nothing to parse
            if response.parsed is not None or response.content:
                problems.append(f"{label}: a body {response.content[:200]!r}")
            continue
        if response.parsed is None or type_name(response.parsed) != expected:
            problems.append(f"{label}: parsed {type_name(response.parsed)}, not {expected}")
            continue
        extra = undocumented_fields(response.parsed)
        if extra:
            problems.append(f"{label}: fields not in the schema: {extra}")
        if operation == "rooms.rooms_meeting_create" and status == 201:
            world.meeting_id = response.parsed.id
    assert not problems, "\n".join(problems)
    operations = importlib.import_module(f"{PACKAGE}.api")
    generated = {
        module.name.rsplit(".", 1)[1]
        for module in pkgutil.walk_packages(operations.__path__, prefix=f"{PACKAGE}.api.")
        if not module.ispkg
    }
    assert generated - tested == set(), "operations the table does not drive"


def test_the_parsed_answers_carry_what_a_client_needs(api, live_server, world):
    """Nulls where nothing happened yet, null rather than "" for an unset reason, no lesson for
    a meeting, times in the zone asked for."""
    m = api.models
    staff = client_for(api, live_server, world, "staff")
    rooms = importlib.import_module(f"{PACKAGE}.api.rooms.rooms_retrieve")
    tokyo = m.TimeZone("Asia/Tokyo")
    fresh = rooms.sync_detailed(client=staff, room_id=world.room.pk, tz=tokyo).parsed
    assert (fresh.started_at, fresh.ended_at, fresh.closed_reason) == (None, None, None)
    assert fresh.lesson.id == world.lesson.pk
    assert fresh.scheduled_start.utcoffset() == timedelta(hours=9)
    create = importlib.import_module(f"{PACKAGE}.api.rooms.rooms_meeting_create")
    meeting = create.sync_detailed(client=staff, **a_meeting(world, m)).parsed
    assert meeting.lesson is None
    close = importlib.import_module(f"{PACKAGE}.api.rooms.rooms_close_create")
    closed = close.sync_detailed(client=staff, room_id=world.closing_room.pk).parsed
    assert closed.closed_reason == m.ClosedReasonEnum.FORCED and closed.ended_at is not None
    recording = importlib.import_module(f"{PACKAGE}.api.rooms.rooms_recording_retrieve")
    recordings = recording.sync_detailed(client=staff, room_id=world.room.pk).parsed
    assert [item.started_at is None for item in recordings.recordings] == [True, False]


def test_throttled_calls_parse_too(api, live_server, world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public_join_ip": "1/min",
        },
    }
    m = api.models
    arguments = {"slug": world.open_room.public_slug, "body": m.PublicJoinRequest()}
    join = importlib.import_module(f"{PACKAGE}.api.rooms.rooms_public_join")
    guest = client_for(api, live_server, world, NOBODY)
    assert join.sync_detailed(client=guest, **arguments).status_code == 200
    throttled = join.sync_detailed(client=guest, **arguments)
    assert throttled.status_code == 429
    assert isinstance(throttled.parsed, m.Error) and throttled.parsed.detail
    assert int(throttled.headers["Retry-After"]) > 0
