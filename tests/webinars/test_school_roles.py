"""Who joins a class's lesson: the class's students take part, their parents observe.

The class rule lives in the viewer's facts (``selectors/viewer.py``): "enrolled" means "a
student this lesson expects", its class's students when it names a class (docs/roles.md).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import enroll, make_guardian, make_lesson, make_room, make_subject, make_user
from webinars.models import SchoolClass


@pytest.fixture
def school(db):
    teacher = make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova")
    subject = make_subject("Mathematics", "MATH")
    seven_a = SchoolClass.objects.create(name="7A")
    in_class = make_user("dima", groups=("Students",))
    seven_a.students.add(in_class)
    enrolled_elsewhere = make_user("lena", groups=("Students",))
    enroll(enrolled_elsewhere, subject)
    parent = make_user("irina", groups=("Parents",))
    make_guardian(parent, in_class)
    start = timezone.now() + timedelta(minutes=5)
    class_lesson = make_lesson(subject=subject, teacher=teacher, start=start, school_class=seven_a)
    other_teacher = make_user("boris", groups=("Teachers",))
    plain_lesson = make_lesson(subject=subject, teacher=other_teacher, start=start)
    return {
        "in_class": in_class,
        "enrolled_elsewhere": enrolled_elsewhere,
        "parent": parent,
        "class_room": make_room(class_lesson),
        "plain_room": make_room(plain_lesson),
        "class_lesson": class_lesson,
    }


def join(user, room):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(f"/api/rooms/{room.pk}/join/", format="json")


@pytest.mark.django_db
def test_without_a_class_the_subjects_enrolled_students_take_part(school):
    response = join(school["enrolled_elsewhere"], school["plain_room"])
    assert response.status_code == 200 and response.json()["you_are"] == "participant"
    assert join(school["in_class"], school["plain_room"]).status_code == 403


@pytest.mark.django_db
def test_a_class_lesson_admits_the_class_students_as_participants(school):
    response = join(school["in_class"], school["class_room"])
    assert response.status_code == 200 and response.json()["you_are"] == "participant"


@pytest.mark.django_db
def test_parents_of_the_class_students_observe_its_lessons(school):
    response = join(school["parent"], school["class_room"])
    assert response.status_code == 200 and response.json()["you_are"] == "observer"


@pytest.mark.django_db
def test_a_class_lesson_is_closed_to_students_of_the_subject_outside_the_class(school):
    assert join(school["enrolled_elsewhere"], school["class_room"]).status_code == 403


@pytest.mark.django_db
def test_my_lessons_lists_the_class_lesson_for_its_student_and_parent(school, client):
    for user in (school["in_class"], school["parent"]):
        client.force_login(user)
        page = client.get("/my/").content.decode()
        assert school["class_lesson"].title in page
