"""The lesson form's people pickers in a real browser: search, pick, save."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import screenshot
from tests.factories import make_subject, make_user
from webinars.models import Lesson

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_admin_picks_a_teacher_and_a_co_teacher_by_name(offline, live_server):
    page = offline
    make_user("admin", password="s3cret-pass", is_staff=True, is_superuser=True)
    make_user("anna", groups=("Teachers",), first_name="Anna", last_name="Ivanova")
    make_user("boris", groups=("Teachers",), first_name="Boris", last_name="Petrov")
    make_user("kid", groups=("Students",), first_name="Dima", last_name="Kuznetsov")
    subject = make_subject("Mathematics", "MATH")

    add_url = reverse("lessons:add")
    page.goto(f"{live_server.url}/admin/login/?next={add_url}")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "s3cret-pass")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}{add_url}")

    page.select_option("select[name=subject]", str(subject.pk))
    page.fill("input[name=title]", "Fractions")
    start = timezone.localtime(timezone.now() + timedelta(days=3)).replace(hour=10, minute=0)
    page.fill("input[name=scheduled_start]", f"{start:%Y-%m-%d %H:%M}")
    page.fill("input[name=scheduled_end]", f"{start + timedelta(minutes=45):%Y-%m-%d %H:%M}")

    # The teacher: Wagtail's chooser modal, searched by surname, offering only teachers.
    page.get_by_role("button", name="Choose a teacher").click()
    modal = page.locator(".modal-content")
    modal.get_by_placeholder("Search").fill("ivanova")
    modal.get_by_role("link", name="Anna Ivanova (anna)").click()
    page.wait_for_selector("text=Anna Ivanova (anna)")

    # The co-teachers: a filter box over the Teachers only; the student is not offered.
    options = page.locator("#id_co_teachers_from option").all_inner_texts()
    assert "Dima Kuznetsov (kid)" not in options and "Boris Petrov (boris)" in options
    page.locator("#id_co_teachers_input").press_sequentially("petr")
    assert page.locator("#id_co_teachers_from option").all_inner_texts() == ["Boris Petrov (boris)"]
    page.select_option("#id_co_teachers_from", label="Boris Petrov (boris)")
    page.locator("#id_co_teachers_add").click()
    screenshot(page, "admin-lesson-pickers")

    page.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/lessons/")
    lesson = Lesson.objects.get(title="Fractions")
    assert lesson.teacher.username == "anna"
    assert list(lesson.co_teachers.values_list("username", flat=True)) == ["boris"]
