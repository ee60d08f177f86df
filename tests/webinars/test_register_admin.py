"""The admin's register reports: filters, times in the zone, spreadsheet export."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import make_lesson, make_user
from tests.webinars.register_factories import make_class
from webinars.models import Attendance


@pytest.fixture
def week(db):
    """Two of Tatiana's lessons last week (Alice late in the first) and another teacher's."""
    start = (timezone.now() - timedelta(days=7)).replace(hour=7, minute=0, second=0, microsecond=0)
    school = make_class(start=start, is_open=False)
    second = make_lesson(
        start=start + timedelta(days=1), subject=school.lesson.subject, teacher=school.teacher
    )
    Attendance.objects.create(
        room=school.room,
        user=school.students["ALICE"],
        display_name="Alice Brown",
        role="participant",
        joined_at=start + timedelta(minutes=7),
        left_at=start + timedelta(minutes=45),
    )
    other_teacher = make_user("olga", first_name="Olga", last_name="Smirnova")
    make_lesson(start=start, subject=school.lesson.subject, teacher=other_teacher, title="Geometry")
    old = make_lesson(start=start - timedelta(days=60), subject=school.lesson.subject, title="Old")
    return school, second, other_teacher, old


def text_of(response) -> str:
    return " ".join(response.content.decode().split())


def test_the_register_report_lists_every_expected_participant_with_words_and_the_zone(
    admin_client, week
):
    page = admin_client.get("/admin/reports/register/")
    assert page.status_code == 200
    body = text_of(page)
    assert "Lesson starts (Europe/Amsterdam)" in body and "First join (Europe/Amsterdam)" in body
    assert body.count("Alice Brown") == 3  # three lessons in the last 30 days expect her
    assert "<td > Late </td>" in body and "<td > Absent </td>" in body
    assert "<td > Old </td>" not in body  # two months ago: outside the default span


def test_the_report_filters_by_teacher_and_dates(admin_client, week):
    school, _second, other_teacher, old = week
    body = text_of(admin_client.get(f"/admin/reports/register/?teacher={other_teacher.pk}"))
    assert "<td > Geometry </td>" in body and "<td > Fractions </td>" not in body
    day = old.scheduled_start.date()
    ranged = text_of(
        admin_client.get(
            f"/admin/reports/register/?scheduled_start_from={day}&scheduled_start_to={day}"
        )
    )
    assert "<td > Old </td>" in ranged and "<td > Fractions </td>" not in ranged


def test_the_register_exports_as_xlsx_and_csv(admin_client, week):
    xlsx = admin_client.get("/admin/reports/register/?export=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("Lesson starts (Europe/Amsterdam)", "Lesson", "Class")
    alice_late = [row for row in rows if row[5] == "Alice Brown" and row[7] == "late"]
    assert len(alice_late) == 1 and alice_late[0][6] == "Late" and alice_late[0][10] == 38
    assert len(rows) == 1 + 3 * 6
    text = b"".join(admin_client.get("/admin/reports/register/?export=csv").streaming_content)
    table = list(csv.reader(io.StringIO(text.decode())))
    assert table[0][6] == "Status" and len(table) == 19


def test_the_student_summary_counts_lessons_attendance_lateness_and_minutes(admin_client, week):
    page = admin_client.get("/admin/reports/students/?export=csv")
    table = list(csv.reader(io.StringIO(b"".join(page.streaming_content).decode())))
    assert table[0] == [
        "Student",
        "Lessons expected",
        "Attended",
        "Late",
        "Left early",
        "Absent",
        "Minutes",
    ]
    alice = next(row for row in table if row[0] == "Alice Brown")
    assert alice[1:] == ["3", "1", "1", "0", "2", "38"]
    assert admin_client.get("/admin/reports/students/").status_code == 200


def test_the_reports_are_for_people_who_may_see_attendance(client, week):
    editor = make_user("editor", is_staff=True)
    group = Group.objects.create(name="Register readers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(group)
    client.force_login(editor)
    assert client.get("/admin/reports/register/").status_code in (302, 403)
    group.permissions.add(Permission.objects.get(codename="view_attendance"))
    assert client.get("/admin/reports/register/").status_code == 200


def test_the_reports_menu_offers_them(admin_client, week):
    body = admin_client.get("/admin/").content.decode()
    assert "/admin/reports/register/" in body and "/admin/reports/students/" in body
    assert "/admin/notices/" in body


def test_a_class_lesson_expects_its_class_and_the_report_filters_by_class(admin_client, week):
    """A lesson held for a class expects that class's students, not the subject's enrolments."""
    from webinars.models import SchoolClass

    school, *_ = week
    klass = SchoolClass.objects.create(name="7B")
    zoe = make_user("zoe", first_name="Zoe", last_name="Quinn")  # in 7B, not enrolled
    klass.students.add(zoe, school.students["BORIS"])
    start = school.lesson.scheduled_start + timedelta(days=2)
    make_lesson(
        start=start,
        subject=school.lesson.subject,
        teacher=school.teacher,
        title="Class 7B hour",
        school_class=klass,
    )
    body = text_of(admin_client.get(f"/admin/reports/register/?school_class={klass.pk}"))
    assert "<td > Class 7B hour </td>" in body and "<td > Fractions </td>" not in body
    assert "Zoe Quinn" in body and "Boris Petrov" in body
    assert "Alice Brown" not in body  # enrolled in the subject, but not in 7B
    assert "<td > 7B </td>" in body
