"""People: the school's groups, names first, and pickers that offer only the right people."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import make_lesson, make_subject, make_user
from webinars.models import Enrollment, Guardianship, Lesson, SchoolClass
from webinars.people import person_label


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def people(db):
    return {
        "anna": make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova"),
        "boris": make_user("boris", groups=("Teachers",), first_name="Boris", last_name="Petrov"),
        "kid": make_user("kid", groups=("Students",), first_name="Dima", last_name="Kuznetsov"),
        "mum": make_user("mum", groups=("Parents",), first_name="Irina", last_name="Kuznetsova"),
        "nobody": make_user("nobody", first_name="No", last_name="Group"),
    }


@pytest.mark.django_db
def test_the_school_groups_exist_beside_the_staff_groups():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Teachers", "Students", "Parents", "Director", "Auditor"} <= names


@pytest.mark.django_db
def test_a_person_is_named_first_and_told_apart_by_username(people):
    assert person_label(people["anna"]) == "Anna Ivanova (anna)"
    assert person_label(make_user("x9")) == "x9"
    assert str(Enrollment(student=people["kid"], subject=make_subject("Maths", "MA"))) == (
        "Dima Kuznetsov (kid) → Maths (MA)"
    )
    assert str(Guardianship(parent=people["mum"], child=people["kid"])) == (
        "Irina Kuznetsova (mum) → Dima Kuznetsov (kid)"
    )


@pytest.mark.django_db
def test_models_refuse_a_person_from_the_wrong_group(people):
    subject = make_subject()
    lesson = make_lesson(teacher=people["anna"], subject=subject)
    lesson.teacher = people["kid"]
    with pytest.raises(ValidationError) as raised:
        lesson.full_clean()
    assert raised.value.message_dict["teacher"] == [
        "Dima Kuznetsov (kid) is not a teacher (add them to the Teachers group first)."
    ]
    lesson.teacher = people["anna"]
    lesson.planned_co_teacher_ids = {people["mum"].pk}
    with pytest.raises(ValidationError) as raised:
        lesson.full_clean()
    assert "Irina Kuznetsova (mum) is not a teacher" in raised.value.message_dict["co_teachers"][0]

    with pytest.raises(ValidationError, match="is not a student"):
        Enrollment(student=people["anna"], subject=subject).full_clean()
    with pytest.raises(ValidationError, match="is not a parent"):
        Guardianship(parent=people["nobody"], child=people["kid"]).full_clean()
    with pytest.raises(ValidationError, match="is not a student"):
        Guardianship(parent=people["mum"], child=people["anna"]).full_clean()
    Enrollment(student=people["kid"], subject=subject).full_clean()
    Guardianship(parent=people["mum"], child=people["kid"]).full_clean()


@pytest.mark.django_db
def test_teacher_chooser_offers_only_teachers_and_searches_names(people, admin_client):
    page = admin_client.get(reverse("choose_teacher:choose")).json()["html"]
    assert "Anna Ivanova (anna)" in page and "Boris Petrov (boris)" in page
    assert "kid" not in page and "nobody" not in page
    found = admin_client.get(reverse("choose_teacher:choose_results"), {"q": "ivan ann"})
    text = found.content.decode()
    assert "Anna Ivanova (anna)" in text and "Boris" not in text
    chosen = admin_client.get(reverse("choose_teacher:chosen", args=[people["anna"].pk])).json()
    assert chosen["result"]["title"] == "Anna Ivanova (anna)"


@pytest.mark.django_db
def test_student_and_parent_choosers_offer_their_group(people, admin_client):
    students = admin_client.get(reverse("choose_student:choose")).json()["html"]
    assert "Dima Kuznetsov (kid)" in students and "anna" not in students
    parents = admin_client.get(reverse("choose_parent:choose")).json()["html"]
    assert "Irina Kuznetsova (mum)" in parents and "kid)" not in parents


@pytest.mark.django_db
def test_lesson_form_uses_the_teacher_chooser_and_lists_only_teachers_as_co_teachers(
    people, admin_client
):
    page = admin_client.get(reverse("lessons:add")).content.decode()
    assert reverse("choose_teacher:choose") in page
    options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page)
    co_teacher_block = page[page.index('name="co_teachers"') :]
    co_teachers = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', co_teacher_block)
    assert "Anna Ivanova (anna)" in co_teachers and "Boris Petrov (boris)" in co_teachers
    assert not any("kid" in option or "nobody" in option for option in co_teachers)
    assert options  # the subject and class selects are there too


@pytest.mark.django_db
def test_admin_refuses_a_student_as_teacher_in_words(people, admin_client):
    subject = make_subject()
    response = admin_client.post(
        reverse("lessons:add"),
        {
            "subject": subject.pk,
            "title": "Fractions",
            "scheduled_start": "2027-09-01 08:30",
            "scheduled_end": "2027-09-01 09:15",
            "teacher": people["kid"].pk,
            "co_teachers": [people["kid"].pk],
        },
    )
    errors = response.context["form"].errors
    assert "not a teacher" in " ".join(errors["teacher"])
    assert "co_teachers" in errors  # not one of the offered choices
    assert not Lesson.objects.exists()


@pytest.mark.django_db
def test_enrolment_and_guardianship_forms_pick_from_their_groups(people, admin_client):
    subject = make_subject("Maths", "MA")
    refused = admin_client.post(
        reverse("enrollments:add"), {"student": people["anna"].pk, "subject": subject.pk}
    )
    assert "not a student" in " ".join(refused.context["form"].errors["student"])
    admin_client.post(
        reverse("enrollments:add"), {"student": people["kid"].pk, "subject": subject.pk}
    )
    assert Enrollment.objects.get().student == people["kid"]
    listing = admin_client.get(reverse("enrollments:index")).content.decode()
    assert "Dima Kuznetsov (kid)" in listing

    page = admin_client.get(reverse("guardianships:add")).content.decode()
    assert reverse("choose_parent:choose") in page and reverse("choose_student:choose") in page
    refused = admin_client.post(
        reverse("guardianships:add"), {"parent": people["kid"].pk, "child": people["kid"].pk}
    )
    assert "child" in refused.context["form"].errors
    admin_client.post(
        reverse("guardianships:add"), {"parent": people["mum"].pk, "child": people["kid"].pk}
    )
    listing = admin_client.get(reverse("guardianships:index")).content.decode()
    assert "Irina Kuznetsova (mum)" in listing and "Dima Kuznetsov (kid)" in listing


@pytest.mark.django_db
def test_each_group_has_its_own_list_with_classes_and_children(people, admin_client):
    seven_b = SchoolClass.objects.create(name="7B")
    seven_b.students.add(people["kid"])
    Guardianship.objects.create(parent=people["mum"], child=people["kid"])
    teachers = admin_client.get(reverse("teachers:index")).content.decode()
    assert "Anna Ivanova (anna)" in teachers and "Dima" not in teachers
    students = admin_client.get(reverse("students:index")).content.decode()
    assert "Dima Kuznetsov (kid)" in students and "7B" in students and "Anna" not in students
    parents = admin_client.get(reverse("parents:index")).content.decode()
    assert "Irina Kuznetsova (mum)" in parents and "Dima Kuznetsov (kid)" in parents
    searched = admin_client.get(reverse("teachers:index"), {"q": "petrov"}).content.decode()
    assert "Boris Petrov" in searched and "Anna Ivanova" not in searched
    menu = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    for label in ("Teachers", "Students", "Parents", "Classes", "Weekly series", "Closures"):
        assert label in menu
    assert "Choose a teacher" not in menu  # choosers have no menu entry


@pytest.mark.django_db
def test_admin_emails_a_person_a_link_to_set_their_password(people, admin_client):
    url = reverse("teachers:password_link", args=[people["anna"].pk])
    assert url in admin_client.get(reverse("teachers:index")).content.decode()
    assert "Anna Ivanova (anna)" in admin_client.get(url).content.decode()
    response = admin_client.post(url, follow=True)
    assert [m.to for m in mail.outbox] == [["anna@school.test"]]
    assert "/admin/password_reset/confirm/" in mail.outbox[0].body
    assert "Link sent to anna@school.test." in response.content.decode()

    people["boris"].email = ""
    people["boris"].save()
    response = admin_client.post(
        reverse("teachers:password_link", args=[people["boris"].pk]), follow=True
    )
    assert "Boris Petrov (boris) has no email address." in response.content.decode()


@pytest.mark.django_db
def test_seed_demo_puts_its_people_in_groups_and_classes(capsys):
    from django.core.management import call_command

    from webinars.models import LessonSeries

    call_command("seed_demo")
    assert Group.objects.get(name="Teachers").user_set.filter(username="teacher1").exists()
    assert Group.objects.get(name="Students").user_set.count() == 20
    assert Group.objects.get(name="Parents").user_set.count() == 10
    assert SchoolClass.objects.get(name="7A").students.count() == 10
    assert LessonSeries.objects.count() == 2
    assert all(series.lessons.count() >= 8 for series in LessonSeries.objects.all())
    assert "classes 7A" in capsys.readouterr().out
