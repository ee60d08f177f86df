import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from webinars.models import Enrollment, Guardianship, Lesson, Subject
from webinars.pages import MeetingPage


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (User, Subject, Lesson, Enrollment, Guardianship, MeetingPage)
    }


@pytest.mark.django_db
def test_seed_demo_builds_a_school_around_now_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = counts()
    output = capsys.readouterr().out
    assert "admin" in output and "teacher1" in output and "cedar-demo" in output
    assert first["Subject"] >= 3 and first["Lesson"] >= 30 and first["MeetingPage"] == 1
    assert User.objects.filter(username__startswith="student").count() >= 20
    assert User.objects.filter(username__startswith="parent").count() >= 10
    for group in ("Director", "Head teacher", "Methodist", "Auditor"):
        assert User.objects.filter(groups__name=group).exists()
    now = timezone.now()
    assert Lesson.objects.filter(scheduled_start__lte=now, scheduled_end__gt=now).exists()
    assert Lesson.objects.filter(scheduled_end__lt=now).exists()
    assert Lesson.objects.filter(is_open=True).count() >= 3

    call_command("seed_demo")
    assert counts() == first


@pytest.mark.django_db
def test_every_demo_login_signs_in_with_the_printed_password(client):
    """The demo accounts share one password hash (seed_demo hashes it once): each still signs in."""
    from io import StringIO

    from django.contrib.auth import authenticate

    call_command("seed_demo", stdout=StringIO())
    users = list(User.objects.all())
    assert len(users) > 20
    for user in users:
        assert authenticate(username=user.username, password="cedar-demo") == user
    assert authenticate(username=users[0].username, password="wrong") is None
