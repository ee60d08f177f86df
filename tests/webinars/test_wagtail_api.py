"""Wagtail's API v2 (/api/v2/pages/): what a school's app reads about meetings and open lessons.

Links are made on the Wagtail Site's hostname and port, as ``meta.html_url`` is, never on
"localhost" or the caller's Host header.
"""

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from tests.factories import make_lesson, make_room, make_user
from tests.webinars.public.factories import open_room, ready_recording
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage

SITE = "https://webinars.cedar.example"


@pytest.fixture
def site(db):
    Site.objects.filter(is_default_site=True).update(hostname="webinars.cedar.example", port=443)
    return SITE


@pytest.fixture
def home(db):
    return Page.objects.get(depth=2, slug="home").specific


def make_cover(title="Cover"):
    buffer = BytesIO()
    PILImage.new("RGB", (1600, 900), (30, 120, 90)).save(buffer, "PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name=f"{title.lower()}.png")
    )


def publish_meeting(home, *, slug="assembly", is_open=True, hosts=(), cover=None) -> MeetingPage:
    index = MeetingIndexPage.objects.first() or home.add_child(
        instance=MeetingIndexPage(title="Meetings", slug="meetings")
    )
    start = timezone.now() + timedelta(days=1)
    page = index.add_child(
        instance=MeetingPage(
            title="Parents' assembly",
            slug=slug,
            intro="Autumn term",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            is_open=is_open,
            cover_image=cover,
        )
    )
    page.hosts.set(hosts)
    page.save_revision().publish()  # publishing gives the meeting its room
    page.refresh_from_db()
    return page


def page_json(api_client, page) -> dict:
    response = api_client.get(f"/api/v2/pages/{page.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_a_meeting_page_tells_its_times_hosts_cover_join_page_and_recordings(
    api_client, site, home
):
    hosts = [
        make_user("hanna", first_name="Hanna", last_name="Host"),
        make_user("ben", first_name="Ben", last_name="Aaronson"),
    ]
    page = publish_meeting(home, hosts=hosts, cover=make_cover())
    recording = ready_recording(page.room)

    data = page_json(api_client, page)

    assert data["meta"]["html_url"] == f"{SITE}/meetings/assembly/"
    assert datetime.fromisoformat(data["scheduled_start"]) == page.scheduled_start
    assert datetime.fromisoformat(data["scheduled_end"]) == page.scheduled_end
    assert (data["is_open"], data["intro"]) == (True, "Autumn term")
    assert data["hosts"] == ["Ben Aaronson", "Hanna Host"]
    assert data["cover"]["url"].startswith(f"{SITE}/media/images/")
    assert (data["cover"]["width"], data["cover"]["height"]) == (1200, 630)
    assert data["join_url"] == f"{SITE}/join/{page.room.public_slug}/"
    [listed] = data["recordings"]
    assert (listed["id"], listed["duration_secs"]) == (recording.pk, 125)
    assert listed["url"].startswith(f"{SITE}/media/recordings/")
    played = api_client.get(listed["url"].removeprefix(SITE))
    assert played.status_code == 200  # a public recording plays without signing in


@pytest.mark.django_db
def test_a_staff_only_meeting_gives_no_join_page_and_no_recordings(api_client, site, home):
    page = publish_meeting(home, is_open=False)
    ready_recording(page.room)
    data = page_json(api_client, page)
    assert (data["is_open"], data["join_url"], data["recordings"]) == (False, None, [])
    assert data["cover"] is None


@pytest.mark.django_db
def test_meetings_can_be_listed_with_the_chosen_fields(api_client, site, home):
    page = publish_meeting(home, hosts=[make_user("hanna", first_name="Hanna", last_name="H")])
    response = api_client.get(
        "/api/v2/pages/", {"type": "webinars.MeetingPage", "fields": "hosts,join_url"}
    )
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["hosts"] == ["Hanna H"]
    assert item["join_url"] == f"{SITE}/join/{page.room.public_slug}/"
    assert item["meta"]["html_url"] == f"{SITE}/meetings/assembly/"


def _open_lessons_page(home) -> OpenLessonsPage:
    page = home.add_child(instance=OpenLessonsPage(title="Open lessons", slug="open-lessons"))
    page.save_revision().publish()
    return page


@pytest.mark.django_db
def test_the_open_lessons_page_lists_live_and_upcoming_lessons_and_recent_recordings(
    api_client, site, home
):
    page = _open_lessons_page(home)
    teacher = make_user("tanya", first_name="Tanya", last_name="Teacher")
    live = open_room(start_in=-timedelta(minutes=10), teacher=teacher, title="Live algebra")
    live.lesson.co_teachers.add(make_user("carl", first_name="Carl", last_name="Co"))
    live.lesson.cover_image = make_cover()
    live.lesson.save()
    upcoming = open_room(start_in=timedelta(hours=3), title="Botany")
    make_room(make_lesson(start=timezone.now() + timedelta(hours=1), title="Closed class"))
    past = open_room(start_in=-timedelta(days=2), title="Last week")
    recording = ready_recording(past)

    data = page_json(api_client, page)

    assert data["meta"]["html_url"] == f"{SITE}/open-lessons/"
    [now_on] = data["live"]
    assert (now_on["title"], now_on["hosts"]) == ("Live algebra", ["Tanya Teacher", "Carl Co"])
    assert now_on["join_url"] == f"{SITE}/join/{live.public_slug}/"
    assert now_on["cover"]["url"].startswith(f"{SITE}/media/images/")
    assert datetime.fromisoformat(now_on["scheduled_start"]) == live.scheduled_start
    assert [item["title"] for item in data["upcoming"]] == ["Botany"]
    assert data["upcoming"][0]["join_url"] == f"{SITE}/join/{upcoming.public_slug}/"
    [recent] = data["recordings"]
    assert (recent["title"], recent["recording"]["id"]) == ("Last week", recording.pk)
    assert recent["recording"]["url"].startswith(f"{SITE}/media/recordings/")


@pytest.mark.django_db
def test_the_open_lessons_page_costs_the_same_queries_for_more_lessons(api_client, site, home):
    page = _open_lessons_page(home)

    def queries_with(n: int) -> int:
        for hour in range(n):
            room = open_room(start_in=timedelta(hours=hour + 1))
            room.lesson.cover_image = make_cover(f"Cover {room.pk}")
            room.lesson.co_teachers.add(make_user())
            room.lesson.save()
        page_json(api_client, page)  # the covers' renditions are made once, on first use
        with CaptureQueriesContext(connection) as captured:
            page_json(api_client, page)
        return len(captured)

    assert queries_with(2) == queries_with(4)
