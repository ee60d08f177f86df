"""Single lessons the school's way: clashes refused, the past on purpose, lists that read well."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.factories import at, enroll, make_lesson, make_room, make_subject, make_user
from webinars.choices import JoinRole
from webinars.models import Attendance, Enrollment, Lesson, SchoolClass


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def school(db):
    return {
        "anna": make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova"),
        "boris": make_user("boris", groups=("Teachers",), first_name="Boris", last_name="Petrov"),
        "maths": make_subject("Mathematics", "MATH"),
        "7a": SchoolClass.objects.create(name="7A"),
    }


def new_lesson(school, start, minutes=45, **fields) -> Lesson:
    return Lesson(
        subject=school["maths"],
        title=fields.pop("title", "Fractions"),
        teacher=fields.pop("teacher", school["anna"]),
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=minutes),
        **fields,
    )


@pytest.mark.django_db
def test_a_teacher_in_two_lessons_at_once_is_refused_naming_both(school):
    make_lesson(
        title="Algebra",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2027-09-01", "08:30"),
    )
    lesson = new_lesson(school, at("2027-09-01", "09:00"))
    with pytest.raises(ValidationError) as raised:
        lesson.full_clean()
    assert raised.value.message_dict == {
        "teacher": [
            "“Fractions” (MATH, 2027-09-01 09:00–09:45) overlaps “Algebra” "
            "(MATH, 2027-09-01 08:30–09:15): Anna Ivanova (anna) cannot be in both."
        ]
    }
    new_lesson(school, at("2027-09-01", "09:15")).full_clean()  # back to back is fine


@pytest.mark.django_db
def test_a_class_or_co_teacher_in_two_lessons_at_once_is_refused(school):
    existing = make_lesson(
        title="Algebra",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2027-09-01", "08:30"),
        school_class=school["7a"],
    )
    lesson = new_lesson(
        school, at("2027-09-01", "08:45"), teacher=school["boris"], school_class=school["7a"]
    )
    with pytest.raises(ValidationError) as raised:
        lesson.full_clean()
    assert "class 7A cannot be in both" in raised.value.message_dict["school_class"][0]

    lesson = new_lesson(school, at("2027-09-01", "08:45"), teacher=school["boris"])
    lesson.planned_co_teacher_ids = {school["anna"].pk}
    with pytest.raises(ValidationError) as raised:
        lesson.full_clean()
    assert "Anna Ivanova (anna) cannot be in both" in raised.value.message_dict["co_teachers"][0]

    existing.is_cancelled = True
    existing.save()
    lesson.full_clean()  # a cancelled lesson is no obstacle


@pytest.mark.django_db
def test_editing_a_lesson_does_not_clash_with_itself(school):
    lesson = make_lesson(
        subject=school["maths"], teacher=school["anna"], start=at("2027-09-01", "08:30")
    )
    lesson.scheduled_end += timedelta(minutes=10)
    lesson.full_clean()


@pytest.mark.django_db
def test_a_lesson_in_the_past_needs_an_explicit_choice(school):
    past = new_lesson(school, timezone.now() - timedelta(days=30))
    with pytest.raises(ValidationError) as raised:
        past.full_clean()
    assert raised.value.message_dict["scheduled_start"] == [
        "This is in the past; confirm to create it anyway."
    ]
    past.allow_past = True
    past.full_clean()
    past.save()
    past.title = "Renamed"
    past.allow_past = False
    past.full_clean()  # editing an existing lesson is not creating one


def lesson_form(school, start, end, **extra) -> dict:
    return {
        "subject": school["maths"].pk,
        "title": "Fractions",
        "description": "",
        "scheduled_start": start,
        "scheduled_end": end,
        "teacher": school["anna"].pk,
        **extra,
    }


@pytest.mark.django_db
def test_admin_form_refuses_a_clash_and_a_past_lesson_and_accepts_the_tick(school, admin_client):
    make_lesson(
        title="Algebra",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2027-09-01", "08:30"),
    )
    response = admin_client.post(
        reverse("lessons:add"), lesson_form(school, "2027-09-01 09:00", "2027-09-01 09:45")
    )
    assert "overlaps “Algebra”" in " ".join(response.context["form"].errors["teacher"])

    response = admin_client.post(
        reverse("lessons:add"), lesson_form(school, "2020-09-01 09:00", "2020-09-01 09:45")
    )
    assert "in the past" in " ".join(response.context["form"].errors["scheduled_start"])
    assert "Create lessons in the past" in response.content.decode()
    response = admin_client.post(
        reverse("lessons:add"),
        lesson_form(school, "2020-09-01 09:00", "2020-09-01 09:45", allow_past="on"),
    )
    assert response.status_code == 302
    lesson = Lesson.objects.get(title="Fractions")
    edit = admin_client.get(reverse("lessons:edit", args=[lesson.pk])).content.decode()
    assert "Create lessons in the past" not in edit  # only creating needs it


@pytest.mark.django_db
def test_lesson_list_shows_upcoming_first_then_the_past_with_names_and_yes_no(school, admin_client):
    now = timezone.now()
    make_lesson(
        title="Long ago",
        subject=school["maths"],
        teacher=school["anna"],
        start=now - timedelta(days=30),
    )
    make_lesson(
        title="Yesterday",
        subject=school["maths"],
        teacher=school["anna"],
        start=now - timedelta(days=1),
    )
    make_lesson(
        title="Next week",
        subject=school["maths"],
        teacher=school["boris"],
        start=now + timedelta(days=7),
        is_open=True,
    )
    make_lesson(
        title="Tomorrow",
        subject=school["maths"],
        teacher=school["anna"],
        start=now + timedelta(days=1),
        school_class=school["7a"],
    )
    page = admin_client.get(reverse("lessons:index")).content.decode()
    positions = [page.index(title) for title in ("Tomorrow", "Next week", "Yesterday", "Long ago")]
    assert positions == sorted(positions)
    assert "Anna Ivanova (anna)" in page and "Boris Petrov (boris)" in page
    cells = re.findall(r"<td[^>]*>\s*(Yes|No)\s*</td>", page)
    assert cells.count("Yes") == 1 and cells.count("No") == 7  # open (1 of 4) and cancelled
    assert "True" not in page and "False" not in page
    assert "Starts (Europe/Amsterdam)" in page

    by_start = admin_client.get(
        reverse("lessons:index"), {"ordering": "scheduled_start"}
    ).content.decode()
    assert by_start.index("Long ago") < by_start.index("Tomorrow")

    teacher_filter = admin_client.get(
        reverse("lessons:index"), {"teacher": school["boris"].pk}
    ).content.decode()
    assert "Next week" in teacher_filter and "Tomorrow" not in teacher_filter
    class_filter = admin_client.get(
        reverse("lessons:index"), {"school_class": school["7a"].pk}
    ).content.decode()
    assert "Tomorrow" in class_filter and "Next week" not in class_filter
    by_teacher = admin_client.get(reverse("lessons:index"), {"q": "petrov"}).content.decode()
    assert "Next week" in by_teacher and "Tomorrow" not in by_teacher
    by_subject = admin_client.get(reverse("lessons:index"), {"q": "mathem"}).content.decode()
    assert all(title in by_subject for title in ("Tomorrow", "Next week", "Long ago"))
    by_title = admin_client.get(reverse("lessons:index"), {"q": "ago"}).content.decode()
    assert "Long ago" in by_title and "Tomorrow" not in by_title


@pytest.mark.django_db
def test_lesson_export_and_inspect_read_like_the_list(school, admin_client):
    lesson = make_lesson(
        title="Fractions",
        subject=school["maths"],
        teacher=school["anna"],
        start=at("2027-09-01", "08:30"),
        is_open=True,
    )
    lesson.co_teachers.add(school["boris"])
    export = admin_client.get(reverse("lessons:index"), {"export": "csv"})
    row = b"".join(export.streaming_content).decode().splitlines()[1]
    assert "Anna Ivanova (anna)" in row and "2027-09-01 08:30" in row and "Yes" in row
    assert "True" not in row

    inspect = admin_client.get(reverse("lessons:inspect", args=[lesson.pk])).content.decode()
    assert "2027-09-01 08:30 (Europe/Amsterdam)" in inspect
    assert "Boris Petrov (boris)" in inspect and "Anna Ivanova (anna)" in inspect
    assert "True" not in inspect


@pytest.mark.django_db
def test_lesson_edit_page_shows_its_room_and_attendance(school, admin_client):
    lesson = make_lesson(  # beyond the open lessons' horizon: no room until the tick makes it
        subject=school["maths"],
        teacher=school["anna"],
        is_open=True,
        start=timezone.now() + timedelta(days=5),
    )
    edit_url = reverse("lessons:edit", args=[lesson.pk])
    assert "No room yet" in admin_client.get(edit_url).content.decode()
    room = make_room(lesson)
    kid = make_user("kid", groups=("Students",))
    now = timezone.now()
    for user, role in (
        (kid, JoinRole.PARTICIPANT),
        (kid, JoinRole.PARTICIPANT),
        (school["anna"], JoinRole.MODERATOR),
    ):
        Attendance.objects.create(
            room=room, user=user, display_name=user.username, role=role, joined_at=now
        )
    Attendance.objects.create(
        room=room, display_name="Guest", role=JoinRole.OBSERVER, joined_at=now
    )
    page = admin_client.get(edit_url).content.decode()
    assert "Scheduled" in page
    assert f"/join/{room.public_slug}/" in page
    assert reverse("rooms:open_in_jitsi", args=[room.pk]) in page
    assert "2 signed-in people in 4 sessions; 1 guest sessions." in page
    assert "Moderators: 1, participants: 1, observers: 0." in page


@pytest.mark.django_db
def test_class_form_offers_only_students_and_the_class_is_enrolled_in_a_subject(
    school, admin_client
):
    kids = [
        make_user(f"kid{n}", groups=("Students",), first_name="Kid", last_name=f"No{n}")
        for n in range(3)
    ]
    page = admin_client.get(reverse("classes:add")).content.decode()
    assert "Kid No0 (kid0)" in page and "anna" not in page
    refused = admin_client.post(
        reverse("classes:add"), {"name": "7B", "students": [school["anna"].pk]}
    )
    assert "students" in refused.context["form"].errors
    admin_client.post(reverse("classes:add"), {"name": "7B", "students": [k.pk for k in kids]})
    seven_b = SchoolClass.objects.get(name="7B")
    assert seven_b.students.count() == 3
    listing = admin_client.get(reverse("classes:index")).content.decode()
    enrol_url = reverse("classes:enrol", args=[seven_b.pk])
    assert enrol_url in listing

    enroll(kids[0], school["maths"])
    response = admin_client.post(enrol_url, {"subject": school["maths"].pk}, follow=True)
    assert "2 students of 7B newly enrolled in Mathematics (MATH)." in response.content.decode()
    assert Enrollment.objects.filter(subject=school["maths"]).count() == 3


@pytest.mark.django_db
def test_the_second_page_continues_from_the_upcoming_into_the_past(school, admin_client):
    from webinars.admin.lessons import UpcomingThenPast

    now = timezone.now()
    for n in range(12):
        make_lesson(
            title=f"Coming {n:02d}",
            subject=school["maths"],
            teacher=school["anna"],
            start=now + timedelta(days=n + 1),
        )
        make_lesson(
            title=f"Past {n:02d}",
            subject=school["maths"],
            teacher=school["anna"],
            start=now - timedelta(days=n + 1),
        )
    make_lesson(
        title="Running now",
        subject=school["maths"],
        teacher=school["anna"],
        start=now - timedelta(minutes=10),
    )
    order = UpcomingThenPast(Lesson.objects.all(), now=now)
    titles = [lesson.title for lesson in order[0:25]]
    assert order.count() == 25
    assert titles == ["Running now"] + [f"Coming {n:02d}" for n in range(12)] + [
        f"Past {n:02d}" for n in range(12)
    ]
    assert [lesson.title for lesson in order[12:15]] == ["Coming 11", "Past 00", "Past 01"]

    second = admin_client.get(reverse("lessons:index"), {"p": 2}).content.decode()
    # 20 rows a page: the running lesson, 12 coming, then "Past 00" to "Past 06" on page 1.
    assert "Past 07" in second and "Past 11" in second
    assert "Past 06" not in second and "Coming 11" not in second
