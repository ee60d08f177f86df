"""The admin's rooms, recordings, attendance and join decisions read in the school's words."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import at, make_lesson, make_recording, make_room, make_user
from webinars.choices import AttendanceSource, JoinRole, RoomStatus
from webinars.models import Attendance, JoinAudit, Room
from webinars.roles import Rule
from webinars.wording import RULE_WORDS, duration_in_words, rule_in_words, status_in_words

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def text_of(response) -> str:
    """The page's text without tags or repeated spaces (what a person reads)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def list_headings(response) -> list[str]:
    """The column headings of the page's listing table."""
    html = response.content.decode()
    thead = re.search(r'<table class="listing[^"]*".*?<thead>(.*?)</thead>', html, flags=re.S)
    cells = re.findall(r"<th\b[^>]*>(.*?)</th>", thead.group(1), flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def a_room_on_1_december(**fields) -> Room:
    teacher = make_user("ivanova", first_name="Anna", last_name="Ivanova")
    lesson = make_lesson(
        title="Fractions", teacher=teacher, start=at("2026-12-01", "20:25"), **fields
    )
    return make_room(lesson)


# --- Rooms --------------------------------------------------------------------------------


def test_room_inspect_shows_school_time_with_the_zone_and_the_public_link(admin_client):
    room = a_room_on_1_december(is_open=True)
    page = admin_client.get(reverse("rooms:inspect", args=[room.pk]))
    text = text_of(page)
    assert "2026-12-01 20:25 (Europe/Amsterdam)" in text  # 19:25 UTC, 24-hour clock
    assert "p.m." not in text and "19:25" not in text
    link = f"/join/{room.public_slug}/"
    assert f'href="{link}"' in page.content.decode()
    assert "Fractions" in text and reverse("lessons:edit", args=[room.lesson_id]) in (
        page.content.decode()
    )
    assert "Yes" in text and "True" not in text


def test_rooms_list_shows_the_public_page_not_a_second_open_column(admin_client):
    room = a_room_on_1_december(is_open=True)
    page = admin_client.get(reverse("rooms:index"))
    labels = list_headings(page)
    assert "Open" not in labels
    assert any(label.startswith("Public page") for label in labels)
    assert f'href="/join/{room.public_slug}/"' in page.content.decode()
    assert "True" not in text_of(page) and "False" not in text_of(page)


def test_close_now_is_offered_only_for_rooms_not_closed(admin_client):
    scheduled = a_room_on_1_december()
    closed = make_room(make_lesson(title="Decimals"))
    Room.objects.filter(pk=closed.pk).update(status=RoomStatus.CLOSED, closed_reason="ended")
    page = admin_client.get(reverse("rooms:index")).content.decode()
    assert reverse("rooms:close_now", args=[scheduled.pk]) in page
    assert reverse("rooms:close_now", args=[closed.pk]) not in page
    assert reverse("rooms:open_in_jitsi", args=[closed.pk]) not in page


def test_room_edit_page_shows_the_state_and_saves_the_editable_fields(admin_client):
    room = a_room_on_1_december(is_open=True)
    url = reverse("rooms:edit", args=[room.pk])
    page = admin_client.get(url)
    text = text_of(page)
    for shown in ("Scheduled", "2026-12-01 20:25 (Europe/Amsterdam)", f"/join/{room.public_slug}/"):
        assert shown in text
    form = page.context["form"]
    assert set(form.fields) == {"title", "is_open", "auto_manage"}

    response = admin_client.post(url, {"title": "Fractions, part 2", "is_open": "on"})
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.title == "Fractions, part 2" and room.is_open and not room.auto_manage
    assert room.status == RoomStatus.SCHEDULED  # read-only fields are not in the form


def test_room_export_is_in_words_school_time_and_a_dated_file_name(admin_client, settings):
    settings.PORTAL_BASE_URL = "https://webinars.school.test"
    room = a_room_on_1_december(is_open=True)
    response = admin_client.get(reverse("rooms:index"), {"export": "csv"})
    today = timezone.localdate().isoformat()
    assert f'filename="rooms-{today}.csv"' in response["Content-Disposition"]
    header, row = csv_rows(response)
    record = dict(zip(header, row, strict=True))
    assert record["Status"] == "Scheduled" and record["Type"] == "Lesson"
    assert record["Starts (Europe/Amsterdam)"] == "2026-12-01 20:25:00"
    assert record["Public page"] == f"https://webinars.school.test/join/{room.public_slug}/"
    assert record["Managed by the scheduler"] == "Yes"


# --- Recordings ---------------------------------------------------------------------------


def test_recording_inspect_says_its_details_in_words(admin_client, settings):
    settings.RECORDING_DOWNLOAD_ATTEMPTS = 5
    recording = make_recording(
        a_room_on_1_december(),
        status="FAILED",
        duration_secs=5,
        size_bytes=2_500_000,
        meta={
            "source": "jaas",
            "url": "https://8x8.vc/signed?token=secret",
            "url_host": "8x8.vc",
            "attempts": 3,
            "error": "HTTP 404",
            "jaas_session_id": "abc-123",
        },
    )
    page = admin_client.get(reverse("recordings:inspect", args=[recording.pk]))
    text = text_of(page)
    assert "{" not in text and "'source'" not in text
    for words in ("JaaS (8x8)", "3 of 5", "HTTP 404", "8x8.vc", "5 seconds", "2.4 MB"):
        assert words in text
    assert "token=secret" not in text  # the signed link stays out of sight
    assert "abc-123" in text  # platform ids are there for support, last


def test_retry_is_offered_only_for_recordings_not_ready(admin_client):
    room = a_room_on_1_december()
    ready = make_recording(room, status="READY")
    failed = make_recording(room, status="FAILED", meta={"error": "timeout"})
    page = admin_client.get(reverse("recordings:index")).content.decode()
    assert reverse("recordings:retry", args=[failed.pk]) in page
    assert reverse("recordings:retry", args=[ready.pk]) not in page


# --- Attendance ---------------------------------------------------------------------------


def test_attendance_list_says_where_a_join_came_from_and_the_role_in_words(admin_client):
    room = a_room_on_1_december()
    student = make_user("petrov", first_name="Ivan", last_name="Petrov")
    Attendance.objects.create(
        room=room,
        user=student,
        display_name="Ivan Petrov",
        role=JoinRole.PARTICIPANT,
        joined_at=at("2026-12-01", "20:27"),
        source=AttendanceSource.JOIN_API,
    )
    Attendance.objects.create(
        room=room,
        display_name="Guest",
        role=JoinRole.OBSERVER,
        joined_at=at("2026-12-01", "20:30"),
        source=AttendanceSource.JITSI_EVENT,
    )
    text = text_of(admin_client.get(reverse("attendance:index")))
    assert "Portal join" in text and "Jitsi (Prosody)" in text and "Join API" not in text
    assert "Participant" in text and "Observer" in text and "observer" not in text
    assert "Ivan Petrov (petrov)" in text
    assert "2026-12-01 20:27" in text


# --- Join decisions -----------------------------------------------------------------------


def a_decision(room, **fields) -> JoinAudit:
    return JoinAudit.objects.create(room=room, **fields)


def test_join_decisions_list_rules_and_outcomes_in_words_in_few_columns(admin_client):
    room = a_room_on_1_december(is_open=True)
    a_decision(
        room,
        display_name="Maria's mum",
        granted=True,
        role=JoinRole.OBSERVER,
        rule=Rule.OPEN_LESSON_PUBLIC_LINK,
    )
    a_decision(
        room, display_name="Early bird", granted=False, rule=Rule.BEFORE_WINDOW, status_code=409
    )
    page = admin_client.get(reverse("join_decisions:index"))
    text = text_of(page)
    assert "Open lesson, through its public link" in text
    assert "allowed as observer" in text
    assert "Too early: the room was not open yet" in text and "refused: too early" in text
    for code in ("open_lesson_public_link", "before_window", "409"):
        assert code not in text
    assert len(list_headings(page)) <= 6  # five and the row menu at most: it fits the screen


def test_join_decisions_filter_by_rule_in_words(admin_client):
    room = a_room_on_1_december()
    a_decision(room, display_name="A", granted=False, rule=Rule.BEFORE_WINDOW, status_code=409)
    a_decision(room, display_name="B", granted=False, rule=Rule.ROOM_CLOSED, status_code=410)
    page = admin_client.get(reverse("join_decisions:index"), {"rule": Rule.ROOM_CLOSED})
    text = text_of(page)
    assert "The room was already closed" in text and "refused: closed" in text
    assert page.context["object_list"].count() == 1


def test_join_decisions_export_in_words_school_time_whole_seconds(admin_client):
    room = a_room_on_1_december()
    decision = a_decision(
        room, display_name="Early bird", granted=False, rule=Rule.BEFORE_WINDOW, status_code=409
    )
    JoinAudit.objects.filter(pk=decision.pk).update(
        created_at=at("2026-12-01", "20:05", seconds=7) + timedelta(microseconds=123456)
    )
    response = admin_client.get(reverse("join_decisions:index"), {"export": "csv"})
    today = timezone.localdate().isoformat()
    assert f'filename="join-decisions-{today}.csv"' in response["Content-Disposition"]
    header, row = csv_rows(response)
    record = dict(zip(header, row, strict=True))
    assert record["At (Europe/Amsterdam)"] == "2026-12-01 20:05:07"
    assert record["Decision"] == "refused: too early"
    assert record["Why"] == "Too early: the room was not open yet"
    assert record["Room"] == "Fractions"

    xlsx = admin_client.get(reverse("join_decisions:index"), {"export": "xlsx"})
    assert f"join-decisions-{today}.xlsx" in xlsx["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    cells = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert cells[0].isoformat() == "2026-12-01T20:05:07"  # school time, no microseconds
    assert "refused: too early" in cells


def test_attendance_export_names_the_source_and_role_in_words(admin_client):
    room = a_room_on_1_december()
    Attendance.objects.create(
        room=room,
        display_name="Guest",
        role=JoinRole.OBSERVER,
        joined_at=at("2026-12-01", "20:30"),
        source=AttendanceSource.JAAS_WEBHOOK,
    )
    header, row = csv_rows(admin_client.get(reverse("attendance:index"), {"export": "csv"}))
    record = dict(zip(header, row, strict=True))
    assert record["Role"] == "Observer" and record["Source"] == "JaaS"
    assert record["Joined (Europe/Amsterdam)"] == "2026-12-01 20:30:00"


# --- The dashboard ------------------------------------------------------------------------


def test_dashboard_panel_names_the_teacher_and_counts_who_is_inside(admin_client):
    from webinars.services.rooms import room_open

    teacher = make_user("sidorov", first_name="Oleg", last_name="Sidorov")
    room = make_room(make_lesson(title="Live algebra", teacher=teacher, start=timezone.now()))
    room_open(room=room)
    for name in ("Ann", "Bob"):
        Attendance.objects.create(
            room=room, display_name=name, role=JoinRole.OBSERVER, joined_at=timezone.now()
        )
    Attendance.objects.create(
        room=room,
        display_name="Left early",
        role=JoinRole.OBSERVER,
        joined_at=timezone.now(),
        left_at=timezone.now(),
    )
    page = admin_client.get(reverse("wagtailadmin_home"))
    html = page.content.decode()
    panel = html[html.index("webinars-today-content") :]
    row = re.search(r"<tr>\s*<td class=\"title\">.*?Live algebra.*?</tr>", panel, flags=re.S)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), flags=re.S)
    ]
    assert cells[1] == "Oleg Sidorov (sidorov)" and cells[2] == "2"
    assert 'class="listing listing--dashboard"' in panel


def test_the_admin_calls_nothing_outside(admin_client, settings):
    page = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "gravatar" not in page and "releases.wagtail.org" not in page
    assert "data-w-upgrade" not in page


# --- The words ----------------------------------------------------------------------------


def test_every_rule_has_its_sentence():
    codes = {value for name, value in vars(Rule).items() if name.isupper()}
    assert codes == set(RULE_WORDS)
    assert rule_in_words("a_rule_from_the_past") == "a_rule_from_the_past"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "5 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (125, "2 minutes"),
        (3900, "1 h 05 min"),
    ],
)
def test_durations_read_as_a_person_would_say_them(seconds, words):
    assert duration_in_words(seconds) == words


def test_statuses_read_as_words():
    assert status_in_words(200) == "allowed"
    assert status_in_words(403) == "refused: not allowed"
    assert status_in_words(418) == "refused (HTTP 418)"
