"""The home page shows what is on; the header names the visitor and signs them out; the sign-in
page carries the school's name; small words of the public pages read right."""

import re
from datetime import timedelta
from html import unescape as html_unescape

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page

from tests.factories import enroll, make_lesson, make_recording, make_room, make_subject, make_user
from webinars.choices import RecordingStatus, RoomStatus
from webinars.management.commands.seed_demo import ensure_site_sections
from webinars.pages import MeetingPage

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html_unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def section(response, heading_id: str) -> str:
    """The text of the page's ``<section aria-labelledby=heading_id>``."""
    html = response.content.decode()
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert found, f"no section {heading_id}"
    return html_unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))


def a_meeting(title: str, *, start, hours: float = 1, is_open: bool = True) -> MeetingPage:
    _feed, meetings = ensure_site_sections()
    page = meetings.add_child(
        instance=MeetingPage(
            title=title,
            slug=title.lower().replace(" ", "-").replace("'", ""),
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=hours),
            is_open=is_open,
        )
    )
    page.save_revision().publish()
    return page


@pytest.fixture
def timetable():
    now = timezone.now()
    live = make_lesson(title="Volcanoes", is_open=True, start=now - timedelta(minutes=10))
    make_room(live, status=RoomStatus.OPEN)
    make_room(make_lesson(title="Rivers", is_open=True, start=now + timedelta(hours=3)))
    make_room(make_lesson(title="Private algebra", start=now + timedelta(hours=1)))
    a_meeting("Parents' evening", start=now + timedelta(hours=5))
    a_meeting("Assembly", start=now - timedelta(minutes=20))
    a_meeting("Staff briefing", start=now + timedelta(hours=2), is_open=False)


def test_the_home_page_shows_what_is_live_and_what_is_next(client, timetable):
    response = client.get("/")
    assert response.status_code == 200
    live = section(response, "live-heading")
    assert "Volcanoes" in live and "Assembly" in live and "Live now" in live
    assert "Rivers" in section(response, "next-heading")
    meetings = section(response, "meetings-heading")
    assert "Parents' evening" in meetings and "Europe/Amsterdam" in meetings
    text = text_of(response)
    assert "Private algebra" not in text and "Staff briefing" not in text
    assert "Your next lessons" not in text  # only for a signed-in visitor


def test_a_signed_in_student_sees_their_next_lessons_with_their_role(client, timetable):
    student = make_user("masha", first_name="Masha", last_name="Orlova")
    chemistry = make_subject("Chemistry", "CHEM")
    enroll(student, chemistry)
    lesson = make_lesson(
        title="Acids", subject=chemistry, start=timezone.now() + timedelta(hours=4)
    )
    client.force_login(student)

    response = client.get("/")
    mine = section(response, "mine-heading")
    assert "Acids" in mine and "participant" in mine
    assert reverse("webinars:my-join", kwargs={"lesson_id": lesson.pk}) in response.content.decode()


def test_the_header_names_the_visitor_and_signs_them_out(client):
    client.force_login(make_user("anna", first_name="Anna", last_name="Ivanova"))
    response = client.get("/")
    html = response.content.decode()
    assert "Signed in as Anna Ivanova" in text_of(response)
    form = re.search(
        r'<form class="account" method="post" action="([^"]+)">(.*?)</form>', html, re.S
    )
    assert form and form.group(1) == reverse("webinars:sign-out")
    assert 'name="csrfmiddlewaretoken"' in form.group(2)

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user("boris"))
    page = csrf_client.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    out = csrf_client.post(reverse("webinars:sign-out"), {"csrfmiddlewaretoken": token})
    assert out.status_code == 302 and out.url == "/"
    after = csrf_client.get("/", follow=True)
    assert "Signed in as" not in text_of(after) and "Sign in" in text_of(after)


def test_the_sign_in_page_carries_the_school_name(client, settings):
    settings.WAGTAIL_SITE_NAME = "Lyceum No. 5"
    response = client.get(reverse("wagtailadmin_login"), {"next": "/my/"})
    text = text_of(response)
    assert "Sign in to Lyceum No. 5" in text and "Sign in to Wagtail" not in text
    assert "<title>Sign in - Lyceum No. 5</title>" in response.content.decode()


def test_a_five_second_recording_is_not_called_a_minute(client):
    lesson = make_lesson(title="Magnets", is_open=True, start=timezone.now() - timedelta(days=1))
    room = make_room(lesson)
    type(room).objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    recording = make_recording(room, status=RecordingStatus.READY, duration_secs=5)
    recording.file.save("magnets.webm", ContentFile(b"\x1a\x45\xdf\xa3" + b"\0" * 64), save=True)
    text = text_of(client.get(f"/join/{room.public_slug}/"))
    assert "5 seconds" in text and "1 minute" not in text


def test_the_meeting_join_form_does_not_speak_of_a_teacher(client):
    meeting = a_meeting("Assembly", start=timezone.now() + timedelta(minutes=5))
    meeting.refresh_from_db()
    page = Page.objects.get(pk=meeting.pk).specific
    text = text_of(client.get(page.url))
    assert "Shown to the other participants" in text and "teacher" not in text.lower()


def test_the_teachers_room_page_points_to_the_link_where_it_is(client, settings):
    settings.JITSI_JWT_ENABLED = True
    teacher = make_user("oleg", first_name="Oleg", last_name="Sidorov")
    lesson = make_lesson(teacher=teacher, start=timezone.now() + timedelta(minutes=5))
    client.force_login(teacher)
    response = client.post(reverse("webinars:my-join", kwargs={"lesson_id": lesson.pk}))
    html = response.content.decode()
    assert "Use the link above" in html and "link below" not in html
    assert html.index('class="room-fallback"') < html.index('id="room-status"')
