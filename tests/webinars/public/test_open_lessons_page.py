"""The open-lessons page (OpenLessonsPage at /open-lessons/): lists, links, the filter form."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_lesson, make_room, make_subject
from tests.webinars.public.factories import open_room, ready_recording
from webinars.choices import RoomStatus
from webinars.models import Room

pytestmark = pytest.mark.django_db


def test_feed_page_shows_live_upcoming_and_recordings_linking_to_join_pages(client, feed_page):
    now = timezone.now()
    live = make_lesson(start=now - timedelta(minutes=10), is_open=True, title="Live algebra")
    make_room(live, status=RoomStatus.OPEN)
    soon = make_lesson(start=now + timedelta(hours=20), is_open=True, title="Tomorrow's poetry")
    make_lesson(start=now + timedelta(hours=3), is_open=False, title="Private chemistry")
    past_room = open_room(start_in=-timedelta(days=2), title="Recorded biology")
    ready_recording(past_room)

    response = client.get("/open-lessons/")

    assert response.status_code == 200
    html = response.content.decode()
    listing = response.context["ol"]["listing"]
    assert [r.lesson.title for r in listing.live] == ["Live algebra"]
    assert [r.lesson.title for r in listing.upcoming] == ["Tomorrow's poetry"]
    assert [r.lesson.title for r in listing.recordings] == ["Recorded biology"]
    assert "Private chemistry" not in html
    soon_room = Room.objects.get(lesson=soon)  # made when the open lesson was saved
    assert f'href="/join/{soon_room.public_slug}/"' in html
    assert f'href="/join/{past_room.public_slug}/"' in html
    assert "Europe/Amsterdam" in html


def test_feed_page_filters_by_subject_and_day_with_a_plain_get_form(client, feed_page):
    maths, art = make_subject("Maths", "MA"), make_subject("Art", "AR")
    now = timezone.now()
    make_lesson(start=now + timedelta(hours=1), is_open=True, subject=maths, title="Sums")
    make_lesson(start=now + timedelta(hours=26), is_open=True, subject=art, title="Drawing")
    tomorrow = timezone.localtime(now + timedelta(hours=26)).date()

    by_subject = client.get("/open-lessons/", {"subject": art.pk}).context["ol"]["listing"]
    by_day = client.get("/open-lessons/", {"day": tomorrow.isoformat()}).context["ol"]["listing"]
    page = client.get("/open-lessons/").content.decode()

    assert [r.lesson.title for r in by_subject.upcoming] == ["Drawing"]
    assert [r.lesson.title for r in by_day.upcoming] == ["Drawing"]
    assert '<form class="filters" method="get"' in page
    assert '<label for="id_subject">' in page and '<label for="id_day">' in page
    assert f'<option value="{art.pk}">Art</option>' in page


def test_feed_page_explains_a_bad_filter_instead_of_failing(client, feed_page):
    response = client.get("/open-lessons/", {"subject": "999", "day": "someday"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a subject from the list." in html
    assert "Enter a date like 2026-09-01." in html
    assert "Clear filters" not in html  # neither value filters


def test_feed_page_query_count_does_not_grow_with_lessons(client, feed_page, settings):
    settings.OPEN_LESSONS_CACHE_SECONDS = 0  # count the database path, not the cached lists

    def count_queries():
        client.get("/open-lessons/")  # the first call fills the caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/open-lessons/").status_code == 200
        return len(ctx.captured_queries)

    for hours in range(1, 4):
        open_room(start_in=timedelta(hours=hours))
    few = count_queries()
    for hours in range(4, 30):
        room = open_room(start_in=timedelta(hours=hours))
        ready_recording(room) if hours % 5 == 0 else None
        open_room(start_in=-timedelta(days=hours))
    many = count_queries()

    assert few == many
