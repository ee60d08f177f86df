"""What "My lessons" shows of the register: teachers' registers, parents' children and their
statuses, and the notice settings (docs/register.md, docs/notices.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_lesson
from tests.webinars.register_factories import make_class
from webinars.models import Attendance, PersonPreferences


@pytest.fixture
def past_lesson(db):
    school = make_class(start=timezone.now() - timedelta(hours=3), is_open=False)
    start = school.lesson.scheduled_start
    alice = school.students["ALICE"]
    Attendance.objects.create(
        room=school.room,
        user=alice,
        display_name="Alice Brown",
        role="participant",
        joined_at=start + timedelta(minutes=12),
        left_at=start + timedelta(minutes=45),
    )
    return school


def card_of(body: str, title: str) -> str:
    return body[body.index(title) :].split("</li>\n")[0]


def test_the_teacher_sees_each_past_lessons_register(client, past_lesson):
    client.force_login(past_lesson.teacher)
    body = client.get("/my/").content.decode()
    card = card_of(body, "Fractions")
    assert "Register: 0 present, 1 late, 0 left early, 5 absent" in card
    assert '<th scope="row">Alice Brown</th>' in card and ">Late<" in card
    assert f"/api/rooms/{past_lesson.room.pk}/register.csv" in card


def test_a_student_sees_no_register(client, past_lesson):
    client.force_login(past_lesson.students["BORIS"])
    assert "Register:" not in client.get("/my/").content.decode()


def test_a_parent_sees_which_child_a_lesson_is_for_and_after_it_the_childs_status(
    client, past_lesson
):
    tomorrow = make_lesson(
        start=timezone.now() + timedelta(days=1),
        subject=past_lesson.lesson.subject,
        teacher=past_lesson.teacher,
        title="Decimals",
    )
    client.force_login(past_lesson.parent)
    body = client.get("/my/").content.decode()
    past_card = card_of(body, 'class="card-title">Fractions')
    assert "For Alice Brown" in past_card and ">Late</strong>" in past_card
    assert "Register:" not in past_card  # the class's register is the teacher's
    upcoming = card_of(body, f'id="lesson-{tomorrow.pk}"')
    assert "For Alice Brown" in upcoming and "register-status" not in upcoming


def test_the_page_in_russian_names_statuses_in_russian(client, past_lesson):
    client.force_login(past_lesson.parent)
    body = client.get("/my/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Для: Alice Brown" in body and "Опоздал(а)" in body


def test_everyone_can_turn_off_reminders_and_choose_the_language_of_emails(client, past_lesson):
    student = past_lesson.students["EVA"]
    client.force_login(student)
    assert "No reminders before lessons" in client.get("/my/").content.decode()
    response = client.post("/my/preferences/", {"language": "ru", "reminders_opt_out": "on"})
    assert response.status_code == 302
    chosen = PersonPreferences.objects.get(user=student)
    assert (chosen.language, chosen.reminders_opt_out) == ("ru", True)
    client.post("/my/preferences/", {"language": ""})
    chosen.refresh_from_db()
    assert (chosen.language, chosen.reminders_opt_out, chosen.email_language) == ("", False, "en")
    assert client.post("/my/preferences/", {"language": "xx"}).status_code == 302
    chosen.refresh_from_db()
    assert chosen.language == ""  # refused, with a message


def test_the_page_costs_a_constant_number_of_queries(
    client, past_lesson, django_assert_max_num_queries
):
    client.force_login(past_lesson.teacher)
    with django_assert_max_num_queries(30):
        assert client.get("/my/").status_code == 200
