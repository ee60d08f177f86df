"""The register through the API: a lesson's register (+ CSV), one student's attendance."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import at, make_lesson, make_room, make_user
from tests.webinars.register_factories import DAY, make_class
from webinars.choices import RoomType
from webinars.models import Attendance, Room


def attend(school, who: str, joined: str, left: str | None, role: str = "participant"):
    user = school.people[who]
    return Attendance.objects.create(
        room=school.room,
        user=user,
        person_id=str(user.pk),
        display_name=user.get_full_name(),
        role=role,
        joined_at=at(DAY, joined),
        left_at=at(DAY, left) if left else None,
    )


@pytest.fixture
def lesson_done(db):
    school = make_class()
    attend(school, "TEACHER", "08:55", "09:50", role="moderator")
    attend(school, "ALICE", "09:00", "09:45")
    attend(school, "BORIS", "09:12", "09:45")
    attend(school, "CHLOE", "09:00", "09:20")
    attend(school, "PARENT", "09:00", "09:40", role="observer")
    return school


def test_the_teacher_reads_the_register_in_words_and_numbers(api_client, lesson_done):
    api_client.force_authenticate(lesson_done.teacher)
    body = api_client.get(f"/api/rooms/{lesson_done.room.pk}/register/?tz=Europe/Amsterdam").json()
    assert body["counts"] == {"present": 1, "late": 1, "left_early": 1, "absent": 3}
    assert body["late_after_min"] == 5 and body["left_early_before_min"] == 10
    alice, chloe, eva = body["expected"][:3]
    assert alice == {
        "name": "Alice Brown",
        "user_id": lesson_done.students["ALICE"].pk,
        "role": "",
        "status": "present",
        "status_label": "Present",
        "late": False,
        "left_early": False,
        "first_join": "2026-10-12T09:00:00+02:00",
        "last_leave": "2026-10-12T09:45:00+02:00",
        "minutes": 45,
        "stays": 1,
    }
    assert (chloe["status_label"], eva["status_label"]) == ("Left early", "Absent")
    assert [(o["name"], o["role"], o["status"]) for o in body["others"]] == [
        ("Tatiana Ivanova", "moderator", None),
        ("Paula Brown", "observer", None),
    ]


def test_the_register_csv_has_words_and_the_zone_named(api_client, lesson_done):
    api_client.force_authenticate(lesson_done.teacher)
    response = api_client.get(f"/api/rooms/{lesson_done.room.pk}/register.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "register-2026-10-12-room-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-3:] == [
        "First join (Europe/Amsterdam)",
        "Last leave (Europe/Amsterdam)",
        "Minutes",
    ]
    boris = next(row for row in rows if row[1] == "Boris Petrov")
    assert boris[2:] == ["Student", "late", "Late", "2026-10-12 09:12", "2026-10-12 09:45", "33"]
    tatiana = next(row for row in rows if row[1] == "Tatiana Ivanova")
    assert tatiana[0] == "no" and tatiana[2] == "Moderator"


def test_the_register_in_russian(api_client, lesson_done):
    api_client.force_authenticate(lesson_done.teacher)
    body = api_client.get(
        f"/api/rooms/{lesson_done.room.pk}/register/", HTTP_ACCEPT_LANGUAGE="ru"
    ).json()
    assert [line["status_label"] for line in body["expected"][:3]] == [
        "Присутствовал(а)",
        "Ушёл(ушла) раньше",
        "Отсутствовал(а)",
    ]


@pytest.mark.parametrize(
    ("who", "code"),
    [("student", 403), ("parent", 403), ("outsider", 403), ("co_teacher", 200), ("director", 200)],
)
def test_only_the_lessons_teachers_and_staff_read_its_register(api_client, lesson_done, who, code):
    co_teacher = make_user("co")
    lesson_done.lesson.co_teachers.add(co_teacher)
    people = {
        "student": lesson_done.students["ALICE"],
        "parent": lesson_done.parent,
        "outsider": make_user("outsider"),
        "co_teacher": co_teacher,
        "director": make_user("director", groups=["Director"]),
    }
    api_client.force_authenticate(people[who])
    for suffix in ("register/", "register.csv"):
        assert api_client.get(f"/api/rooms/{lesson_done.room.pk}/{suffix}").status_code == code


def test_anonymous_callers_are_refused(api_client, lesson_done):
    assert api_client.get(f"/api/rooms/{lesson_done.room.pk}/register/").status_code in (401, 403)


def test_a_live_lesson_counts_open_stays_until_now(api_client, db):
    start = timezone.now() - timedelta(minutes=20)
    school = make_class(start=start)
    alice = school.students["ALICE"]
    Attendance.objects.create(
        room=school.room, user=alice, display_name="A", role="participant", joined_at=start
    )
    api_client.force_authenticate(school.teacher)
    body = api_client.get(f"/api/rooms/{school.room.pk}/register/").json()
    assert body["is_final"] is False
    line = body["expected"][0]
    assert line["status"] == "present" and line["last_leave"] is None and line["minutes"] == 20


def test_a_meeting_has_no_register(admin_api):
    start = timezone.now() + timedelta(days=1)
    meeting = Room.objects.create(
        type=RoomType.MEETING,
        title="Assembly",
        jitsi_domain="jitsi.school.edu",
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
    )
    assert admin_api.get(f"/api/rooms/{meeting.pk}/register/").status_code == 404


# --- One student ------------------------------------------------------------------------------


def attendance_of(api_client, user, whose, **params):
    api_client.force_authenticate(user)
    query = {"student": whose.pk, "from": "2026-10-01", "to": "2026-10-31", **params}
    return api_client.get("/api/attendance/", query)


def test_a_student_their_parent_and_staff_see_the_students_attendance(api_client, lesson_done):
    alice = lesson_done.students["ALICE"]
    for viewer in (alice, lesson_done.parent, make_user("auditor", groups=["Auditor"])):
        body = attendance_of(api_client, viewer, alice).json()
        assert body["count"] == 1 and body["next"] is None
        item = body["results"][0]
        assert (item["title"], item["status"], item["status_label"], item["minutes"]) == (
            "Fractions",
            "present",
            "Present",
            45,
        )
        assert item["room_id"] == lesson_done.room.pk and item["is_final"] is False


def test_a_teacher_sees_only_the_lessons_they_teach(api_client, lesson_done):
    alice = lesson_done.students["ALICE"]
    other_teacher = make_user("otto")
    other = make_lesson(
        start=at(DAY, "11:00"), subject=lesson_done.lesson.subject, teacher=other_teacher
    )
    make_room(other)
    assert attendance_of(api_client, lesson_done.parent, alice).json()["count"] == 2
    mine = attendance_of(api_client, other_teacher, alice).json()
    assert [item["lesson_id"] for item in mine["results"]] == [other.pk]


def test_others_may_not_read_a_students_attendance(api_client, lesson_done):
    alice = lesson_done.students["ALICE"]
    assert attendance_of(api_client, lesson_done.students["BORIS"], alice).status_code == 403
    assert attendance_of(api_client, make_user("stranger"), alice).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"student": ""}, "student"),
        ({"student": "abc"}, "student"),
        ({"from": "12.10.2026"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-11-01", "to": "2026-10-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-10-01"}, "to"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(api_client, lesson_done, params, field):
    response = attendance_of(
        api_client, lesson_done.teacher, lesson_done.students["ALICE"], **params
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_cancelled_lessons_are_not_in_anyones_attendance(api_client, lesson_done):
    lesson_done.lesson.is_cancelled = True
    lesson_done.lesson.save()
    body = attendance_of(api_client, lesson_done.parent, lesson_done.students["ALICE"]).json()
    assert body["count"] == 0


@pytest.mark.django_db
def test_class_lessons_expect_the_class_in_the_selectors():
    """``expected_by_lesson`` and ``lessons_expecting`` follow the lesson's class, as joins do."""
    from webinars.models import Lesson, SchoolClass
    from webinars.selectors.register import expected_by_lesson, lessons_expecting, student_ties

    school = make_class()
    klass = SchoolClass.objects.create(name="7B")
    zoe = make_user("zoe", first_name="Zoe", last_name="Quinn")
    klass.students.add(zoe, school.students["BORIS"])
    class_lesson = make_lesson(
        subject=school.lesson.subject, teacher=make_user("ivan"), school_class=klass
    )
    expected = expected_by_lesson([school.lesson, class_lesson])
    assert [p.name for p in expected[class_lesson.pk]] == ["Boris Petrov", "Zoe Quinn"]
    assert len(expected[school.lesson.pk]) == 6  # the subject's enrolled students
    for_zoe = set(Lesson.objects.filter(lessons_expecting(student_id=zoe.pk)))
    alice = school.students["ALICE"]
    for_alice = set(Lesson.objects.filter(lessons_expecting(student_id=alice.pk)))
    assert for_zoe == {class_lesson}
    assert for_alice == {school.lesson}
    assert student_ties(viewer_id=class_lesson.teacher_id, student_id=zoe.pk)["teaches_student"]
    assert not student_ties(viewer_id=class_lesson.teacher_id, student_id=alice.pk)[
        "teaches_student"
    ]
