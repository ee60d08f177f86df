"""The public site in a real browser (Debian's Chromium via Playwright), fully offline.

Guests browse the open lessons, open one and join; a teacher signs in, opens "My lessons" and
enters the embedded room as moderator; a READY recording plays; the Russian school reads
Russian. axe-core checks the feed, a join page and /my/; screenshots go to
artifacts/screenshots/.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.browser.conftest import axe_violations, screenshot
from tests.factories import (
    home_page,
    make_lesson,
    make_recording,
    make_room,
    make_subject,
    make_user,
)
from webinars.choices import RecordingStatus, RoomStatus
from webinars.models import Room
from webinars.pages import OpenLessonsPage

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def feed_page():
    home = home_page()
    return home.add_child(instance=OpenLessonsPage(title="Open lessons", slug="open-lessons"))


def claims_of(url: str) -> dict:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, options={"verify_signature": False})


def assert_accessible(page):
    violations = axe_violations(page)
    assert violations == [], "\n".join(f"{v['id']}: {v['help']} {v['nodes']}" for v in violations)


def test_guest_browses_the_feed_opens_a_lesson_and_arrives_in_jitsi(
    offline, live_server, feed_page
):
    page = offline
    now = timezone.now()
    teacher = make_user("petrova", first_name="Irina", last_name="Petrova")
    subject = make_subject("Geography", "GEO")
    soon = make_lesson(
        start=now + timedelta(minutes=5),
        is_open=True,
        title="Rivers of Europe",
        teacher=teacher,
        subject=subject,
    )
    live = make_lesson(start=now - timedelta(minutes=10), is_open=True, title="Volcanoes")
    make_room(live, status=RoomStatus.OPEN)
    make_lesson(start=now + timedelta(hours=30), is_open=True, title="Deserts", subject=subject)

    page.goto(f"{live_server.url}/open-lessons/")
    assert page.get_by_role("heading", name="Live now").is_visible()
    assert page.get_by_role("link", name="Volcanoes").is_visible()
    assert_accessible(page)
    screenshot(page, "open-lessons")

    page.get_by_label("Subject").select_option(label="Geography")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role("link", name="Rivers of Europe").is_visible()
    assert page.get_by_role("link", name="Volcanoes").count() == 0

    page.get_by_role("link", name="Rivers of Europe").click()
    room = Room.objects.get(lesson=soon)
    assert page.url == f"{live_server.url}/join/{room.public_slug}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Rivers of Europe"
    assert "Irina Petrova" in page.inner_text("main")
    assert re.search(r"\d\d:\d\d–.*\d\d:\d\d Europe/Amsterdam", page.inner_text(".facts"))
    assert_accessible(page)
    screenshot(page, "join-page")

    page.get_by_label("Your name").fill("Maria's mum")
    with page.expect_navigation(url=re.compile(rf"^https://{re.escape(room.jitsi_domain)}/")):
        page.get_by_role("button", name="Join as a guest").click()

    assert page.url.startswith(room.join_url + "?jwt=")
    claims = claims_of(page.url)
    assert claims["room"] == room.jitsi_room
    assert claims["context"]["user"]["name"] == "Maria's mum"
    assert claims["context"]["user"]["moderator"] == "false"
    assert page.offline_state["stub"] == [urlsplit(page.url).path + "?" + urlsplit(page.url).query]
    assert page.offline_state["blocked"] == []


def test_too_early_join_shows_the_opening_time_in_words(offline, live_server):
    page = offline
    room = make_room(make_lesson(start=timezone.now() + timedelta(hours=3), is_open=True))

    page.goto(f"{live_server.url}/join/{room.public_slug}/")
    page.get_by_role("button", name="Join as a guest").click()

    alert = page.get_by_role("alert").inner_text()
    assert "The room is not open yet. It opens on" in alert
    assert "Europe/Amsterdam" in alert
    assert page.url.startswith(live_server.url)


def test_teacher_signs_in_opens_my_lessons_and_enters_as_moderator(offline, live_server):
    page = offline
    teacher = make_user("teacher", password="s3cret-pass", first_name="Oleg", last_name="Sidorov")
    lesson = make_lesson(
        start=timezone.now() + timedelta(minutes=5), teacher=teacher, title="Optics"
    )
    make_lesson(start=timezone.now() - timedelta(days=1), teacher=teacher, title="Lenses")

    page.goto(f"{live_server.url}/my/")
    assert "/admin/login/" in page.url
    page.fill("input[name=username]", "teacher")
    page.fill("input[name=password]", "s3cret-pass")
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/my/")

    card = page.locator(f"#lesson-{lesson.pk}")
    assert "Optics" in card.inner_text() and "moderator" in card.inner_text()
    assert "Lenses" in page.inner_text("main")
    assert_accessible(page)
    screenshot(page, "my-lessons")

    card.get_by_role("button", name="Join").click()
    page.wait_for_function("window.__jitsi && window.__jitsi.calls.length > 0")

    room = Room.objects.get(lesson=lesson)
    jitsi = page.evaluate("window.__jitsi")
    assert jitsi["domain"] == room.jitsi_domain
    assert jitsi["options"]["roomName"] == room.jitsi_room
    assert jitsi["calls"] == [["startRecording", {"mode": "file"}]]
    claims = jwt.decode(jitsi["options"]["jwt"], options={"verify_signature": False})
    assert claims["moderator"] is True
    assert claims["context"]["user"]["affiliation"] == "owner"
    assert f"https://{room.jitsi_domain}/external_api.js" in page.offline_state["jitsi"]
    assert page.offline_state["blocked"] == []


def test_a_ready_recording_plays_on_the_join_page(offline, live_server, recording_file):
    page = offline
    room = make_room(
        make_lesson(start=timezone.now() - timedelta(days=1), is_open=True, title="Magnets")
    )
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    recording = make_recording(room, status=RecordingStatus.READY, duration_secs=2)
    recording.file.save("magnets.webm", ContentFile(recording_file), save=True)

    page.goto(f"{live_server.url}/join/{room.public_slug}/")
    video = page.locator("video")
    assert video.get_attribute("controls") is not None
    page.wait_for_function("document.querySelector('video').readyState >= 1")

    state = page.evaluate(
        "(() => { const v = document.querySelector('video');"
        " return {error: v.error && v.error.code, width: v.videoWidth, src: v.currentSrc}; })()"
    )
    assert state["error"] is None
    assert state["width"] == 64
    assert state["src"].startswith(live_server.url)


@pytest.mark.browser_context_args(locale="ru-RU")
def test_a_school_running_in_russian_shows_russian(offline, live_server, feed_page, settings):
    settings.LANGUAGE_CODE = "ru"
    page = offline
    make_lesson(start=timezone.now() + timedelta(hours=2), is_open=True, title="Дроби")

    page.goto(f"{live_server.url}/open-lessons/")

    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", name="Идёт сейчас").is_visible()
    assert page.get_by_role("heading", name="Ближайшие (следующие 48 часов)").is_visible()
    assert page.get_by_label("Предмет").is_visible()
    page.get_by_role("link", name="Дроби").click()
    assert page.get_by_label("Ваше имя").is_visible()
    assert page.get_by_role("button", name="Войти как гость").is_visible()


def test_an_english_browser_switches_the_site_to_russian(offline, live_server, feed_page):
    page = offline
    page.goto(f"{live_server.url}/open-lessons/")
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Switch").click()

    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", name="Идёт сейчас").is_visible()


def test_guests_on_the_shared_cached_pages_each_join_with_their_own_token(
    offline, live_server, feed_page, settings, browser
):
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    settings.JOIN_PAGE_CACHE_SECONDS = 10
    lesson = make_lesson(
        start=timezone.now() + timedelta(minutes=5), is_open=True, title="Tides and moons"
    )
    other = browser.new_context(ignore_https_errors=True)
    try:
        guests = {"Ann": offline, "Bob": other.new_page()}
        tokens = {}
        for name, page in guests.items():  # Bob is served the pages cached for Ann
            page.goto(f"{live_server.url}/open-lessons/")
            page.get_by_role("link", name="Tides and moons").click()
            tokens[name] = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
        assert tokens["Ann"] != tokens["Bob"]

        room = Room.objects.get(lesson=lesson)
        for name, page in guests.items():
            page.get_by_label("Your name").fill(name)
            with page.expect_navigation(
                url=re.compile(rf"^https://{re.escape(room.jitsi_domain)}/")
            ):
                page.get_by_role("button", name="Join as a guest").click()
            assert claims_of(page.url)["context"]["user"]["name"] == name
    finally:
        other.close()
