"""schemathesis (requirements-dev.txt) over the whole schema finds nothing (docs/api-schema.md).

Its CLI runs every phase (examples, coverage, fuzzing; stateful has no links to follow) with
``--checks all`` against a live server holding a small school: once with a staff user's Bearer
token, once anonymous. Positive and negative data, a few examples per operation (bounded so the
run stays within a couple of minutes); hypothesis' deadline does not apply to the CLI.

Nothing is excluded. The one change to the schema it reads: the ``TimeZone`` enum (every zone of
the tz database, ~600) is cut to a few zones, since the coverage phase tries every value of an
enum on every operation that has ``tz`` (ten minutes of requests that all look alike); unknown
zones are still generated as negative data.

Some rules the portal keeps cannot be said in OpenAPI 3.0, so the configuration below tells
schemathesis about them (and nothing else):

- text may not contain NUL (PostgreSQL cannot store it; ``webinars.api.parsers``): no NUL is
  generated (``generation.allow-x00 = false``); test_api_malformed.py covers the refusal;
- wrong credentials to the token exchange are a 400 (DRF's ``obtain_auth_token``);
- rules across fields or over time: ``from`` before ``to`` (attendance, at most 400 days; the
  lessons and rooms lists; the timetable, whose ``from`` is today unless given), a
  meeting's end after its start and within 12 hours, a guest's name without control or
  unassigned characters (public join), a room that has closed or a cancelled lesson (410; the
  run itself closes rooms). There, schema-valid input may be refused with a 400 naming the field
  (or a 410), which ``positive_data_acceptance`` is told to accept.

Operations whose effects cannot be undone stay bounded by the example count: meetings created,
rooms closed, joins recorded in a throwaway database. The machine hooks (Jibri, JaaS, Prosody)
are called without their secrets or signatures: they must refuse in the error shape
(401/400/404), never answer 500, and answer only statuses they document.
"""

import json
import subprocess
from datetime import timedelta

import pytest
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
from webinars.models import CalendarToken

MAX_EXAMPLES = 10
ACCEPTED = '["2xx", "401", "403", "404", "409", "429"'
CONFIG = f"""
generation.allow-x00 = false

[[operations]]
include-operation-id = [
    "attendance_list", "lessons_list", "rooms_list", "me_lessons_list",
    "rooms_meeting_create", "auth_token_create",
]
checks.positive_data_acceptance.expected-statuses = {ACCEPTED}, "400"]

[[operations]]
include-operation-id = ["rooms_public_join"]
checks.positive_data_acceptance.expected-statuses = {ACCEPTED}, "400", "410"]

[[operations]]
include-operation-id = ["rooms_join", "rooms_by_lesson_retrieve"]
checks.positive_data_acceptance.expected-statuses = {ACCEPTED}, "410"]
"""


@pytest.fixture
def school(live_server) -> dict[str, str]:
    """Rooms with small ids (1, 2, …: what generated ids hit), a calendar token, a staff user."""
    home_page()  # the site, also when an earlier transactional test flushed the tables
    subject = make_subject()
    staff = make_user("staff", is_staff=True, is_superuser=True)
    student = make_user("student")
    enroll(student, subject)
    soon = timezone.now() + timedelta(minutes=5)
    for is_open in (False, True, True):
        room = make_room(make_lesson(subject=subject, start=soon, is_open=is_open))
    make_recording(room)
    make_lesson(subject=subject, start=soon + timedelta(days=3))
    CalendarToken.objects.create(user=student)
    return {"staff": make_api_token(staff)}


ZONES = ["UTC", "Europe/Amsterdam", "Asia/Tokyo", "Etc/GMT+1", "America/Argentina/Buenos_Aires"]


def schema_with_few_zones(directory) -> str:
    path = write_schema(directory)
    schema = json.loads(path.read_text())
    zone = schema["components"]["schemas"]["TimeZone"]
    kept = [zone["enum"].index(name) for name in ZONES]
    zone["x-enum-varnames"] = [zone["x-enum-varnames"][i] for i in kept]
    zone["enum"] = ZONES
    path.write_text(json.dumps(schema))
    return str(path)


@pytest.mark.parametrize("who", ["staff", "anonymous"])
def test_schemathesis_finds_nothing(live_server, school, who, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        executable("schemathesis"),
        "--config-file",
        str(config),
        "run",
        schema_with_few_zones(tmp_path),
        "--url",
        live_server.url,
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261202",
        "--workers",
        "1",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    if who == "staff":
        command += ["--header", f"Authorization: Bearer {school['staff']}"]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    assert "No issues found" in output or "passed" in output, output[-5000:]
