"""Page caching (webinars/public/caching.py): what guests share, their own CSRF tokens, and
when a change shows (docs/public-pages.md)."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache.backends import base as cache_base
from django.core.cache.backends import locmem
from django.test import Client
from django.utils import timezone

from tests.factories import make_lesson, make_user
from tests.webinars.public.factories import csrf_tokens, open_room
from tests.webinars.public.test_join_block import publish_meeting
from webinars.choices import RoomStatus
from webinars.models import Room
from webinars.pages import MeetingIndexPage
from webinars.public import caching

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock (the test settings' locmem cache and ``caching``'s periods), stopped
    at the start of an hour, so at the start of every period too; ``clock(seconds)`` moves it
    on (entries expire, periods end)."""
    stopped = SimpleNamespace(now=time.time() // 3600 * 3600)
    stopped.time = lambda: stopped.now
    for module in (cache_base, locmem, caching):
        monkeypatch.setattr(module, "time", stopped)

    def move(seconds: int) -> None:
        stopped.now += seconds

    return move


@pytest.fixture
def cached(settings, clock):
    settings.JOIN_PAGE_CACHE_SECONDS = 10
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    return settings


def without_tokens(html: str) -> str:
    for token in csrf_tokens(html):
        html = html.replace(token, "TOKEN")
    return html


# --- Shared pages: the same HTML as a fresh render, each guest's own working token ----------


def fresh_then_shared(settings, setting: str, seconds: int, url: str, query=None):
    """The page as rendered for a guest with ``setting`` 0 (no cache), then twice with it on:
    rendered for the shared cache, then served from it."""
    setattr(settings, setting, 0)
    fresh = Client().get(url, query).content.decode()
    setattr(settings, setting, seconds)
    return fresh, [Client().get(url, query).content.decode() for _ in range(2)]


def test_a_shared_join_page_is_the_page_rendered_for_the_visitor(settings, clock):
    room = open_room(start_in=timedelta(minutes=5), title="Fractions")

    fresh, shared = fresh_then_shared(
        settings, "JOIN_PAGE_CACHE_SECONDS", 10, f"/join/{room.public_slug}/"
    )

    assert "Fractions" in fresh and csrf_tokens(fresh)
    assert [without_tokens(html) for html in shared] == [without_tokens(fresh)] * 2


def test_a_shared_open_lessons_page_is_the_page_rendered_for_the_visitor(
    feed_page, settings, clock
):
    lesson = make_lesson(start=timezone.now() + timedelta(hours=2), is_open=True, title="Poetry")
    day = timezone.localtime(lesson.scheduled_start).date().isoformat()

    fresh, shared = fresh_then_shared(
        settings, "OPEN_LESSONS_CACHE_SECONDS", 30, "/open-lessons/", {"day": day}
    )

    assert "Poetry" in fresh and csrf_tokens(fresh)
    assert [without_tokens(html) for html in shared] == [without_tokens(fresh)] * 2


def test_a_cached_join_page_gives_each_guest_a_working_token_of_their_own(cached):
    room = open_room(start_in=timedelta(minutes=5))
    url = f"/join/{room.public_slug}/"
    ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ann_html, bob_html = ann.get(url).content.decode(), bob.get(url).content.decode()
    ann_tokens, bob_tokens = csrf_tokens(ann_html), csrf_tokens(bob_html)
    assert "csrf-token-" not in ann_html + bob_html
    assert ann_tokens and bob_tokens and ann_tokens[0] != bob_tokens[0]
    # Bob's page is Ann's cached page with his own token in it.
    assert ann_html.replace(ann_tokens[0], "T") == bob_html.replace(bob_tokens[0], "T")

    data = {"display_name": "Bob", "csrfmiddlewaretoken": bob_tokens[-1]}
    assert bob.post(url, data).status_code == 302
    assert ann.post(url, data).status_code == 403  # someone else's token is no good

    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get(url).content.decode()
    assert 'lang="ru"' in russian

    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    data = {"display_name": "Ann", "csrfmiddlewaretoken": ann_tokens[-1]}
    assert ann.post(url, data).status_code == 410  # the join itself always reads the room


def test_guests_share_the_rendered_feed_page_each_with_a_working_token(feed_page, cached):
    ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ann_html = ann.get("/open-lessons/").content.decode()
    bob_html = bob.get("/open-lessons/").content.decode()
    ann_token, bob_token = csrf_tokens(ann_html)[0], csrf_tokens(bob_html)[0]
    assert ann_token != bob_token and "csrf-token-" not in ann_html + bob_html
    assert ann_html.replace(ann_token, "T") == bob_html.replace(bob_token, "T")
    switch = {"language": "ru", "next": "/open-lessons/"}
    assert (
        bob.post("/i18n/setlang/", {**switch, "csrfmiddlewaretoken": bob_token}).status_code == 302
    )
    assert (
        ann.post("/i18n/setlang/", {**switch, "csrfmiddlewaretoken": bob_token}).status_code == 403
    )
    assert 'lang="ru"' in bob.get("/open-lessons/").content.decode()

    teacher = Client()
    teacher.force_login(make_user("teacher"))
    assert "My lessons" in teacher.get("/open-lessons/").content.decode()


def test_a_signed_in_visitor_gets_their_own_join_page_not_the_guests(client, cached):
    room = open_room(start_in=timedelta(minutes=5))
    url = f"/join/{room.public_slug}/"
    assert "Join as a guest" in Client().get(url).content.decode()  # shared from now on

    client.force_login(make_user("olga", first_name="Olga", last_name="Petrova"))
    html = client.get(url).content.decode()

    assert "Join as Olga Petrova" in html and "Join as a guest" not in html


def test_the_feed_page_lists_are_cached_per_filter_and_language(client, feed_page, cached):
    make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True, title="First")
    client.get("/open-lessons/")
    make_lesson(start=timezone.now() + timedelta(hours=2), is_open=True, title="Second")

    cached_page = client.get("/open-lessons/").content.decode()
    other_filter = client.get("/open-lessons/", {"day": "2030-01-01"}).content.decode()
    russian = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/open-lessons/").content.decode()

    assert "First" in cached_page and "Second" not in cached_page
    assert "No open lessons are planned" in other_filter
    assert "Second" in russian and "Идёт сейчас" in russian


# --- When a change shows ----------------------------------------------------------------------


def test_publishing_the_open_lessons_page_shows_on_the_next_guest_visit(feed_page, cached):
    guest = Client()
    assert "Open lessons" in guest.get("/open-lessons/").content.decode()

    feed_page.title = "This week's open lessons"
    feed_page.intro = "<p>Everyone is welcome.</p>"
    feed_page.save_revision().publish()
    html = guest.get("/open-lessons/").content.decode()

    assert "This week&#x27;s open lessons" in html and "Everyone is welcome." in html


def test_editing_a_meeting_page_shows_at_once_on_its_join_page(home, cached):
    page = publish_meeting(home, title="Parents' evening")
    url = f"/join/{page.room.public_slug}/"
    guest = Client()
    assert "Parents&#x27; evening" in guest.get(url).content.decode()

    page.title = "Spring parents' evening"
    page.scheduled_start += timedelta(hours=1)
    page.scheduled_end += timedelta(hours=1)
    page.save_revision().publish()
    join = guest.get(url).content.decode()
    meeting = guest.get(page.url).content.decode()

    start = timezone.localtime(page.scheduled_start)
    assert "Spring parents&#x27; evening" in join and f"{start:%H:%M}</time>" in join
    assert "Spring parents&#x27; evening" in meeting and f"{start:%H:%M}</time>" in meeting


def test_making_a_meeting_staff_only_closes_its_public_page_at_once(home, cached):
    page = publish_meeting(home)
    url = f"/join/{page.room.public_slug}/"
    assert Client().get(url).status_code == 200

    page.is_open = False
    page.save_revision().publish()

    assert Client().get(url).status_code == 404


def test_a_lesson_change_shows_within_the_cache_period(client, feed_page, cached, clock):
    room = open_room(start_in=timedelta(hours=3), title="Fractions")
    join_url = f"/join/{room.public_slug}/"
    assert "Fractions" in client.get("/open-lessons/").content.decode()
    assert "Fractions" in client.get(join_url).content.decode()

    room.lesson.title = "Decimals"
    room.lesson.save()
    assert "Fractions" in client.get("/open-lessons/").content.decode()  # cached: not yet
    assert "Fractions" in client.get(join_url).content.decode()

    clock(cached.JOIN_PAGE_CACHE_SECONDS + 1)
    assert "Decimals" in client.get(join_url).content.decode()
    assert "Fractions" in client.get("/open-lessons/").content.decode()

    clock(cached.OPEN_LESSONS_CACHE_SECONDS)
    html = client.get("/open-lessons/").content.decode()
    assert "Decimals" in html and "Fractions" not in html


def test_a_link_that_was_unknown_works_as_soon_as_it_exists(client, cached):
    room = open_room(start_in=timedelta(minutes=5), title="Fractions")
    assert client.get("/join/shared-early/").status_code == 404

    Room.objects.filter(pk=room.pk).update(public_slug="shared-early")

    assert "Fractions" in client.get("/join/shared-early/").content.decode()


def test_the_navigation_follows_a_published_meeting_index_at_once(client, home, feed_page):
    index = home.add_child(instance=MeetingIndexPage(title="Meetings", slug="meetings"))
    assert 'href="/meetings/"' in client.get("/").content.decode()

    index.slug = "gatherings"
    index.save_revision().publish()
    html = client.get("/").content.decode()

    assert 'href="/gatherings/"' in html and 'href="/meetings/"' not in html
