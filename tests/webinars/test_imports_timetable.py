"""`manage.py timetable_import` and the admin's "Import timetable": as a school uses them."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import at, make_lesson, make_subject, make_user
from webinars.models import Lesson, LessonSeries, SchoolClass
from webinars.services.imports import timetable_import

HEADER = [
    "subject",
    "class",
    "teacher",
    "weekday",
    "start",
    "end",
    "first_date",
    "last_date",
    "open",
    "title",
    "ref",
]
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)  # before the term the files describe


def csv_bytes(rows, header=HEADER, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def school(db):
    """Two teachers, two classes, two subjects: what a timetable file refers to."""
    return {
        "anna": make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova"),
        "boris": make_user("boris", groups=("Teachers",), first_name="Boris", last_name="Petrov"),
        "student": make_user("kid", groups=("Students",)),
        "maths": make_subject("Mathematics", "MATH"),
        "bio": make_subject("Biology", "BIO"),
        "7a": SchoolClass.objects.create(name="7A"),
        "7b": SchoolClass.objects.create(name="7B"),
    }


def term_rows():
    return [
        [
            "MATH",
            "7A",
            "anna",
            "Mon",
            "08:30",
            "09:15",
            "2026-09-07",
            "2026-10-26",
            "no",
            "Algebra",
            "",
        ],
        ["BIO", "7A", "boris", "Ср", "09:25", "10:10", "09.09.2026", "28.10.2026", "да", "", ""],
        [
            "MATH",
            "7B",
            "anna@school.test",
            "2",
            "08:30",
            "09:15",
            "2026-09-08",
            "2026-10-27",
            "",
            "",
            "R-7B",
        ],
    ]


def run(content, filename="timetable.csv", **kwargs):
    kwargs.setdefault("now", NOW)
    return timetable_import(content=content, filename=filename, **kwargs)


@pytest.mark.django_db
def test_a_term_is_imported_once_and_again_changes_nothing(school):
    first = run(csv_bytes(term_rows()))
    assert first.ok and first.written, first.text()
    assert first.lines[:2] == [
        "series: 3 created, 0 updated, 0 unchanged",
        "lessons: 24 created, 0 updated, 0 cancelled",
    ]
    assert Lesson.objects.count() == 24
    biology = LessonSeries.objects.get(subject=school["bio"])
    assert biology.is_open and biology.weekday == 3 and biology.title == ""
    assert set(biology.lessons.values_list("title", flat=True)) == {"Biology"}
    # Wall-clock 09:25 in Amsterdam: summer time until 25 October, winter time after it.
    starts = list(
        biology.lessons.order_by("scheduled_start").values_list("scheduled_start", flat=True)
    )
    assert starts[0] == at("2026-09-09", "09:25") == datetime(2026, 9, 9, 7, 25, tzinfo=UTC)
    assert starts[-1] == at("2026-10-28", "09:25") == datetime(2026, 10, 28, 8, 25, tzinfo=UTC)

    before = {(lesson.pk, lesson.updated_at) for lesson in Lesson.objects.all()}
    again = run(csv_bytes(term_rows()))
    assert again.lines[:2] == [
        "series: 0 created, 0 updated, 3 unchanged",
        "lessons: 0 created, 0 updated, 0 cancelled",
    ]
    assert {(lesson.pk, lesson.updated_at) for lesson in Lesson.objects.all()} == before


@pytest.mark.django_db
def test_the_same_term_from_xlsx_with_native_cells(school):
    rows = [
        [
            "MATH",
            "7A",
            "anna",
            1,
            "08:30",
            "09:15",
            date(2026, 9, 7),
            date(2026, 9, 28),
            False,
            "Algebra",
            17,
        ],
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(rows[0])
    sheet["E2"].value = datetime(2026, 1, 1, 8, 30).time()  # a real time cell
    out = io.BytesIO()
    book.save(out)
    report = run(out.getvalue(), filename="Timetable.XLSX")
    assert report.ok, report.text()
    series = LessonSeries.objects.get()
    assert series.ref == "17" and series.start_time.hour == 8 and series.lessons.count() == 4


@pytest.mark.django_db
def test_a_changed_row_updates_the_series_and_its_future_lessons_only(school):
    run(csv_bytes(term_rows()))
    algebra = LessonSeries.objects.get(title="Algebra")
    past = algebra.lessons.order_by("scheduled_start").first()
    rows = term_rows()
    rows[0][2] = "boris"  # another teacher
    rows[0][5] = "09:20"  # a longer lesson
    rows[0][7] = "2026-10-12"  # a shorter term: the last two Mondays go
    report = run(csv_bytes(rows), now=past.scheduled_end + timedelta(minutes=1))
    assert report.ok, report.text()
    assert report.lines[:2] == [
        "series: 0 created, 1 updated, 2 unchanged",
        "lessons: 0 created, 5 updated, 2 cancelled",
    ]
    past.refresh_from_db()
    assert past.teacher == school["anna"]  # lessons that have happened never change
    future = algebra.lessons.exclude(pk=past.pk).filter(is_cancelled=False)
    assert {lesson.teacher_id for lesson in future} == {school["boris"].pk}
    assert all(
        (lesson.scheduled_end - lesson.scheduled_start).seconds == 50 * 60 for lesson in future
    )
    cancelled = algebra.lessons.filter(is_cancelled=True)
    assert [lesson.scheduled_start.date() for lesson in cancelled] == [
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]


@pytest.mark.django_db
def test_with_a_ref_the_start_and_weekday_may_change_and_lessons_move(school):
    run(csv_bytes(term_rows()))
    series = LessonSeries.objects.get(ref="R-7B")
    ids = set(series.lessons.values_list("pk", flat=True))
    rows = term_rows()
    rows[2][3], rows[2][4], rows[2][5], rows[2][7] = "Thu", "11:00", "11:45", "2026-10-29"
    report = run(csv_bytes(rows))
    assert report.ok and "lessons: 0 created, 8 updated, 0 cancelled" in report.lines, report.text()
    series.refresh_from_db()
    assert series.weekday == 4 and LessonSeries.objects.count() == 3
    assert set(series.lessons.values_list("pk", flat=True)) == ids  # moved, not replaced
    first = series.lessons.order_by("scheduled_start").first()
    assert first.scheduled_start == at("2026-09-10", "11:00")


@pytest.mark.django_db
def test_without_a_ref_a_new_start_is_a_new_series(school):
    run(csv_bytes(term_rows()))
    rows = term_rows()
    rows[0][4], rows[0][5] = "12:00", "12:45"
    report = run(csv_bytes(rows))
    assert report.ok
    assert report.lines[0] == "series: 1 created, 0 updated, 2 unchanged"


@pytest.mark.django_db
def test_bad_rows_are_all_reported_by_row_and_column_and_nothing_is_written(school):
    rows = term_rows() + [
        ["MATH", "7A", "x", "Mon", "12:00", "12:45", "2026-09-07", "2026-10-26", "", "", ""],
        [
            "GEO",
            "9Z",
            "anna",
            "Someday",
            "25:00",
            "09:00",
            "2026-31-12",
            "tomorrow",
            "maybe",
            "",
            "",
        ],
        ["MATH", "7A", "kid", "Mon", "14:00", "13:00", "2026-09-07", "2026-10-26", "", "", ""],
    ]
    report = run(csv_bytes(rows))
    assert not report.ok and not report.written
    assert [str(error) for error in report.errors] == [
        'row 5, teacher: no teacher "x"',
        'row 6, subject: no subject "GEO"',
        'row 6, class: no class "9Z"',
        'row 6, weekday: "Someday" is not a weekday (Mon…Sun, Пн…Вс or 1–7)',
        'row 6, start: "25:00" is not a time (HH:MM)',
        'row 6, first_date: "2026-31-12" is not a date (YYYY-MM-DD or DD.MM.YYYY)',
        'row 6, last_date: "tomorrow" is not a date (YYYY-MM-DD or DD.MM.YYYY)',
        'row 6, open: "maybe" is not yes or no',
        "row 7, teacher: kid is not a teacher (add them to the Teachers group first).",
    ]
    assert report.text().endswith("3 bad rows: nothing was written.")
    assert not LessonSeries.objects.exists() and not Lesson.objects.exists()


@pytest.mark.django_db
def test_the_model_rules_apply_to_rows_too(school):
    rows = [["MATH", "7A", "anna", "Mon", "10:00", "09:00", "2026-09-07", "2026-10-26", "", "", ""]]
    report = run(csv_bytes(rows))
    assert [str(error) for error in report.errors] == [
        "row 2, end: The end must be after the start."
    ]


@pytest.mark.django_db
def test_a_missing_or_unknown_column_is_named(school):
    report = run(csv_bytes([["MATH"]], header=["subject", "teachr"]))
    messages = [str(error) for error in report.errors]
    assert "row 1, teacher: missing column" in messages
    assert "row 1, teachr: unknown column" in messages


@pytest.mark.django_db
def test_two_rows_for_one_series_are_refused(school):
    rows = [term_rows()[0], term_rows()[0]]
    report = run(csv_bytes(rows))
    assert [str(error) for error in report.errors] == ["row 3, start: same series as row 2"]


@pytest.mark.django_db
def test_a_teacher_or_class_in_two_rows_at_once_is_refused_naming_both(school):
    rows = term_rows() + [
        # Anna again on Mondays at 08:45, with class 7B: overlaps her 7A Algebra.
        ["BIO", "7B", "anna", "Mon", "08:45", "09:30", "2026-09-07", "2026-10-26", "", "", ""],
        # Class 7A at 09:40 on Wednesdays with Anna: overlaps 7A's Biology with Boris.
        ["MATH", "7A", "anna", "Wed", "09:40", "10:25", "2026-09-09", "2026-09-16", "", "", ""],
    ]
    report = run(csv_bytes(rows))
    messages = [str(error) for error in report.errors]
    assert len(messages) == 2, messages
    assert messages[0].startswith(
        "row 5, teacher: “Biology” (BIO, 2026-09-07 08:45–09:30) overlaps"
    )
    assert "“Algebra” (MATH, 2026-09-07 08:30–09:15)" in messages[0]
    assert "Anna Ivanova (anna) cannot be in both" in messages[0] and "(row 2)" in messages[0]
    assert messages[1].startswith("row 6, class: “Mathematics” (MATH, 2026-09-09 09:40–10:25)")
    assert "class 7A cannot be in both" in messages[1] and "(row 3)" in messages[1]
    assert not Lesson.objects.exists()


@pytest.mark.django_db
def test_a_clash_with_a_lesson_already_in_the_timetable_is_refused(school):
    make_lesson(
        title="Staff meeting",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2026-09-21", "09:00"),
    )
    report = run(csv_bytes(term_rows()))
    assert [error.row for error in report.errors] == [2]
    assert "overlaps “Staff meeting” (MATH, 2026-09-21 09:00–09:45)" in str(report.errors[0])


@pytest.mark.django_db
def test_lessons_in_the_past_need_allow_past(school):
    now = at("2026-09-16", "12:00")
    report = run(csv_bytes(term_rows()[:1]), now=now)
    assert "lessons: 6 created, 0 updated, 0 cancelled" in report.lines
    assert any(line.startswith("lessons in the past not created: 2") for line in report.lines)
    again = run(csv_bytes(term_rows()[:1]), now=now, allow_past=True)
    assert "lessons: 2 created, 0 updated, 0 cancelled" in again.lines
    assert Lesson.objects.count() == 8


@pytest.mark.django_db
def test_semicolon_separated_csv_as_russian_excel_saves_it(school):
    report = run(csv_bytes(term_rows(), delimiter=";"))
    assert report.ok and Lesson.objects.count() == 24


@pytest.mark.django_db
def test_an_unreadable_file_is_refused_as_a_whole(school):
    from webinars.services.imports import ImportFileError

    with pytest.raises(ImportFileError, match="UTF-8"):
        run("subject\nМатематика".encode("cp1251"))
    with pytest.raises(ImportFileError, match=".csv or .xlsx"):
        run(b"x", filename="timetable.pdf")
    with pytest.raises(ImportFileError, match="cannot be read"):
        run(b"not a zip", filename="timetable.xlsx")


# --- The command ---------------------------------------------------------------------------


def future_rows():
    """A term starting next week, so the command (which uses the real clock) creates it all."""
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    last = monday + timedelta(weeks=3, days=6)
    return [
        [
            "MATH",
            "7A",
            "anna",
            "Mon",
            "08:30",
            "09:15",
            monday.isoformat(),
            last.isoformat(),
            "no",
            "Algebra",
            "",
        ],
        [
            "BIO",
            "7B",
            "boris",
            "Tue",
            "08:30",
            "09:15",
            monday.isoformat(),
            last.isoformat(),
            "",
            "",
            "B1",
        ],
    ]


@pytest.mark.django_db
def test_command_dry_run_reports_and_writes_nothing(school, tmp_path, capsys):
    path = tmp_path / "timetable.csv"
    path.write_bytes(csv_bytes(future_rows()))
    call_command("timetable_import", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "series: 2 created, 0 updated, 0 unchanged" in out
    assert "lessons: 8 created, 0 updated, 0 cancelled" in out
    assert "Dry run: nothing was written." in out
    assert not LessonSeries.objects.exists()

    call_command("timetable_import", str(path))
    assert Lesson.objects.count() == 8
    call_command("timetable_import", str(path))
    assert "series: 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_command_exits_1_on_a_bad_row_and_prints_it(school, tmp_path, capsys):
    rows = future_rows()
    rows[1][2] = "nobody"
    path = tmp_path / "timetable.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    with pytest.raises(CommandError, match="1 bad rows: nothing was written.") as raised:
        call_command("timetable_import", str(path))
    assert raised.value.returncode == 1
    assert 'row 3, teacher: no teacher "nobody"' in capsys.readouterr().err
    assert not Lesson.objects.exists()


@pytest.mark.django_db
def test_command_allow_past_and_a_missing_file(school, tmp_path, capsys):
    rows = [["MATH", "7A", "anna", "Mon", "08:30", "09:15", "2025-09-01", "2025-09-29", "", "", ""]]
    path = tmp_path / "old.csv"
    path.write_bytes(csv_bytes(rows))
    call_command("timetable_import", str(path))
    assert "lessons in the past not created: 5" in capsys.readouterr().out
    call_command("timetable_import", str(path), "--allow-past")
    assert Lesson.objects.count() == 5
    with pytest.raises(CommandError, match="No such file"):
        call_command("timetable_import", str(tmp_path / "missing.csv"))


@pytest.mark.django_db
def test_the_example_file_in_docs_imports_into_the_demo_school(tmp_path, capsys):
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "examples"
    call_command("seed_demo")
    call_command("people_import", str(docs / "people.csv"))
    call_command("timetable_import", str(docs / "timetable.csv"), "--dry-run", "--allow-past")
    out = capsys.readouterr().out
    assert "series: 7 created, 0 updated, 0 unchanged" in out


# --- The admin page -------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_uploads_previews_and_confirms_a_timetable(school, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = reverse("lessons:import_timetable")
    index = client.get(reverse("lessons:index")).content.decode()
    assert url in index  # the lesson list offers the import

    page = client.get(url)
    csrf = page.cookies["csrftoken"].value
    upload = io.BytesIO(csv_bytes(future_rows()))
    upload.name = "timetable.csv"
    preview = client.post(url, {"file": upload, "csrfmiddlewaretoken": csrf})
    text = preview.content.decode()
    assert preview.status_code == 200
    assert "series: 2 created, 0 updated, 0 unchanged" in text and "Import timetable.csv" in text
    assert not LessonSeries.objects.exists()  # the preview writes nothing

    token = preview.context["token"]
    refused = client.post(url, {"confirm": "1", "token": token})  # no CSRF token: refused
    assert refused.status_code == 403 and not LessonSeries.objects.exists()

    done = client.post(
        url, {"confirm": "1", "token": token, "csrfmiddlewaretoken": csrf}, follow=True
    )
    assert LessonSeries.objects.count() == 2 and Lesson.objects.count() == 8
    assert "lessons: 8 created" in done.content.decode()
    again = client.post(
        url, {"confirm": "1", "token": token, "csrfmiddlewaretoken": csrf}, follow=True
    )
    assert "expired" in again.content.decode() and Lesson.objects.count() == 8


@pytest.mark.django_db
def test_admin_preview_of_a_bad_file_lists_the_rows_and_offers_no_confirm(
    school, client, admin_user
):
    client.force_login(admin_user)
    rows = future_rows()
    rows[0][3] = "Funday"
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "timetable.csv"
    response = client.post(reverse("lessons:import_timetable"), {"file": upload})
    text = response.content.decode()
    assert "row 2, weekday: &quot;Funday&quot; is not a weekday" in text
    assert "1 bad rows: nothing was written." in text and 'name="confirm"' not in text


@pytest.mark.django_db
def test_import_page_needs_the_right_permissions(school, client):
    client.force_login(make_user("clerk", is_staff=True))
    assert client.get(reverse("lessons:import_timetable")).status_code in (302, 403)
