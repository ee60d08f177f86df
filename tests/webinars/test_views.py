"""Public HTML views and pages (SPEC §6): feed page, /join/<slug>/, meeting pages, /my/."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page

from tests.factories import (
    enroll,
    make_guardian,
    make_lesson,
    make_recording,
    make_room,
    make_subject,
    make_user,
)
from webinars.choices import ClosedReason, RecordingStatus, RoomStatus, RoomType
from webinars.models import Room
from webinars.pages import MeetingIndexPage, MeetingPage, OpenLessonsPage
from webinars.public.views import GuestJoinThrottle

pytestmark = pytest.mark.django_db

WEBM = b"\x1a\x45\xdf\xa3" + b"\0" * 64  # the served bytes only; browsers test real playback


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Throttle counters and the cached navigation live in the cache; start each test empty."""
    settings.JITSI_JWT_ENABLED = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def home():
    return Page.objects.get(depth=2, slug="home").specific


@pytest.fixture
def feed_page(home):
    return home.add_child(instance=OpenLessonsPage(title="Open lessons", slug="open-lessons"))


def open_room(*, start_in=timedelta(hours=2), **lesson_fields):
    lesson = make_lesson(start=timezone.now() + start_in, is_open=True, **lesson_fields)
    return make_room(lesson)


def ready_recording(room, **fields):
    recording = make_recording(room, status=RecordingStatus.READY, duration_secs=125, **fields)
    recording.file.save("lesson.webm", ContentFile(WEBM), save=True)
    return recording


# --- Open-lessons page --------------------------------------------------------------------


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
    listing = response.context["listing"]
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

    by_subject = client.get("/open-lessons/", {"subject": art.pk}).context["listing"]
    by_day = client.get("/open-lessons/", {"day": tomorrow.isoformat()}).context["listing"]
    page = client.get("/open-lessons/").content.decode()

    assert [r.lesson.title for r in by_subject.upcoming] == ["Drawing"]
    assert [r.lesson.title for r in by_day.upcoming] == ["Drawing"]
    assert '<form class="filters" method="get"' in page
    assert '<label for="id_subject">' in page and '<label for="id_day">' in page


def test_feed_page_explains_a_bad_filter_instead_of_failing(client, feed_page):
    response = client.get("/open-lessons/", {"subject": "999", "day": "someday"})

    assert response.status_code == 200
    assert "Choose a subject from the list." in response.content.decode()
    assert response.context["filtered"] is False


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


# --- /join/<slug>/ --------------------------------------------------------------------------


def test_join_page_shows_title_teacher_zone_named_time_and_opening_time(client):
    teacher = make_user("ivanova", first_name="Anna", last_name="Ivanova")
    room = open_room(start_in=timedelta(hours=2), title="Fractions", teacher=teacher)

    response = client.get(f"/join/{room.public_slug}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Fractions</h1>" in html
    assert "Anna Ivanova" in html
    local = timezone.localtime(room.scheduled_start)
    assert f"{local:%H:%M}</time>–<time" in html and "Europe/Amsterdam" in html
    assert "Upcoming" in html and "Opens at" in html
    opens = timezone.localtime(room.window_start)
    assert f"{opens:%H:%M} Europe/Amsterdam" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<label for="id_display_name">Your name</label>' in html


def test_guest_join_redirects_to_jitsi_with_an_observer_token(client):
    room = open_room(start_in=timedelta(minutes=5))

    response = client.post(f"/join/{room.public_slug}/", {"display_name": "Maria's mum"})

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == room.join_url
    token = parse_qs(url.query)["jwt"][0]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["room"] == room.jitsi_room
    assert claims["context"]["user"]["name"] == "Maria's mum"
    assert claims["context"]["user"]["moderator"] == "false"


@pytest.mark.parametrize(
    ("start_in", "status", "closed_reason", "words", "code"),
    [
        (timedelta(hours=3), RoomStatus.SCHEDULED, "", "The room is not open yet", 409),
        (-timedelta(hours=2), RoomStatus.CLOSED, ClosedReason.ENDED, "has ended", 410),
    ],
)
def test_refused_joins_are_explained_in_words(client, start_in, status, closed_reason, words, code):
    room = open_room(start_in=start_in)
    Room.objects.filter(pk=room.pk).update(status=status, closed_reason=closed_reason)

    response = client.post(f"/join/{room.public_slug}/", {"display_name": "Guest"})

    assert response.status_code == code
    html = response.content.decode()
    assert words in html
    assert '{"detail"' not in html


def test_too_early_names_the_opening_time_in_the_school_zone(client):
    room = open_room(start_in=timedelta(hours=3))

    html = client.post(f"/join/{room.public_slug}/", {"display_name": "Ann"}).content.decode()

    opens = timezone.localtime(room.window_start)
    assert f"{opens:%H:%M} (Europe/Amsterdam)" in html


def test_guest_joins_are_throttled_per_ip_with_a_readable_message(client, monkeypatch):
    rates = {**GuestJoinThrottle.THROTTLE_RATES, "public_join_ip": "2/min"}
    monkeypatch.setattr(GuestJoinThrottle, "THROTTLE_RATES", rates)
    room = open_room(start_in=timedelta(minutes=5))
    url = f"/join/{room.public_slug}/"

    codes = [client.post(url, {"display_name": "Ann"}).status_code for _ in range(3)]
    last = client.post(url, {"display_name": "Ann"})

    assert codes == [302, 302, 429]
    assert "Too many join attempts" in last.content.decode()


def test_a_bad_display_name_is_shown_next_to_the_field(client):
    room = open_room(start_in=timedelta(minutes=5))

    response = client.post(f"/join/{room.public_slug}/", {"display_name": "Evil\u202ename"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "control characters" in html
    assert 'aria-invalid="true"' in html


def test_the_join_form_needs_the_csrf_token():
    room = open_room(start_in=timedelta(minutes=5))
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(f"/join/{room.public_slug}/", {"display_name": "Ann"})

    assert response.status_code == 403


@pytest.mark.parametrize("case", ["unknown", "revoked", "closed_lesson", "room_not_open"])
def test_unknown_revoked_or_non_open_slugs_answer_the_same_404_page(client, case):
    room = open_room()
    slug = room.public_slug
    if case == "unknown":
        slug = "no-such-slug"
    elif case == "revoked":
        Room.objects.filter(pk=room.pk).update(public_slug="a-new-slug")
    elif case == "closed_lesson":
        room.lesson.is_open = False
        room.lesson.save()
    else:
        Room.objects.filter(pk=room.pk).update(is_open=False)

    response = client.get(f"/join/{slug}/")

    assert response.status_code == 404
    assert "This link does not lead anywhere" in response.content.decode()


def test_a_ready_recording_plays_in_an_html5_video(client):
    room = open_room(start_in=-timedelta(days=1))
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.CLOSED)
    recording = ready_recording(room)

    html = client.get(f"/join/{room.public_slug}/").content.decode()

    assert "<video controls" in html
    src = html.split('<video controls preload="metadata" src="')[1].split('"')[0]
    assert recording.file.name in src
    served = client.get(src)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == WEBM
    assert "Ended" in html


def test_join_page_query_count_is_constant(client):
    small = open_room(start_in=timedelta(minutes=5))
    ready_recording(small)
    big = open_room(start_in=timedelta(minutes=5))
    for _ in range(6):
        big.lesson.co_teachers.add(make_user())
        ready_recording(big)

    client.get(f"/join/{small.public_slug}/")  # warm the cached navigation
    counts = []
    for room in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/join/{room.public_slug}/").status_code == 200
        counts.append(len(ctx.captured_queries))

    assert counts[0] == counts[1] <= 6


def test_a_signed_in_teacher_joining_from_the_public_page_gets_the_embedded_room(client):
    teacher = make_user("teacher")
    room = open_room(start_in=timedelta(minutes=5), teacher=teacher)
    client.force_login(teacher)

    response = client.post(f"/join/{room.public_slug}/")

    assert response.status_code == 200
    assert "external_api.js" in response.content.decode()


# --- Meeting pages --------------------------------------------------------------------------


def test_meeting_page_renders_its_content_and_the_join_block(client, home):
    index = home.add_child(instance=MeetingIndexPage(title="Meetings", slug="meetings"))
    host = make_user("host", first_name="Olga", last_name="Head")
    start = timezone.now() + timedelta(minutes=5)
    page = index.add_child(
        instance=MeetingPage(
            title="Parents' evening",
            slug="parents-evening",
            intro="Plans for the spring term",
            scheduled_start=start,
            scheduled_end=start + timedelta(hours=1),
            body=[("paragraph", "<p>Agenda: exams</p>")],
            is_open=True,
        )
    )
    page.hosts.add(host)
    page.save_revision().publish()
    page.refresh_from_db()
    if page.room_id is None:  # until room_ensure_for_meeting runs on publish
        room = Room.objects.create(
            type=RoomType.MEETING,
            title=page.title,
            is_open=True,
            jitsi_domain="jitsi.school.edu",
            scheduled_start=page.scheduled_start,
            scheduled_end=page.scheduled_end,
        )
        MeetingPage.objects.filter(pk=page.pk).update(room=room)
        page.refresh_from_db()

    html = client.get("/meetings/parents-evening/").content.decode()
    join = client.get(f"/join/{page.room.public_slug}/").content.decode()

    assert "Agenda: exams" in html and "Plans for the spring term" in html
    assert "Olga Head" in html and 'class="join-form"' in html
    assert f'action="/join/{page.room.public_slug}/"' in html
    assert "Parents&#x27; evening" in join and "Olga Head" in join


# --- /my/ -----------------------------------------------------------------------------------


def test_my_lessons_needs_a_login(client):
    response = client.get("/my/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/my/")


def test_my_lessons_lists_upcoming_with_roles_and_past_with_recordings(client):
    teacher, student, parent = make_user("t"), make_user("s"), make_user("p")
    subject = make_subject()
    enroll(student, subject)
    make_guardian(parent, student)
    upcoming = make_lesson(
        start=timezone.now() + timedelta(hours=1), subject=subject, teacher=teacher
    )
    past = make_lesson(start=timezone.now() - timedelta(days=1), subject=subject, teacher=teacher)
    ready_recording(make_room(past))

    seen = {}
    for user in (teacher, student, parent):
        client.force_login(user)
        response = client.get("/my/")
        seen[user.username] = response
    html = seen["t"].content.decode()

    assert [lesson.my_role for lesson in seen["t"].context["upcoming"]] == ["moderator"]
    assert [lesson.my_role for lesson in seen["s"].context["upcoming"]] == ["participant"]
    assert [lesson.my_role for lesson in seen["p"].context["upcoming"]] == ["observer"]
    assert upcoming.title in html and f'action="/my/join/{upcoming.pk}/"' in html
    assert "Watch the recording" in html
    assert ".ics" in html


def test_moderator_join_renders_the_embedded_room_that_starts_recording(client):
    teacher = make_user("teacher")
    lesson = make_lesson(start=timezone.now() + timedelta(minutes=5), teacher=teacher)
    client.force_login(teacher)

    response = client.post(f"/my/join/{lesson.pk}/")

    html = response.content.decode()
    room = Room.objects.get(lesson=lesson)
    assert response.status_code == 200
    assert f'<script src="https://{room.jitsi_domain}/external_api.js"></script>' in html
    assert f'data-room="{room.jitsi_room}"' in html
    token = html.split('data-jwt="')[1].split('"')[0]
    assert jwt.decode(token, options={"verify_signature": False})["moderator"] is True
    assert response["Cache-Control"] == "no-store"


def test_student_join_redirects_to_jitsi(client):
    student, subject = make_user("s"), make_subject()
    enroll(student, subject)
    lesson = make_lesson(start=timezone.now() + timedelta(minutes=5), subject=subject)
    client.force_login(student)

    response = client.post(f"/my/join/{lesson.pk}/")

    assert response.status_code == 302
    assert "jwt=" in response["Location"]
    assert "external_api.js" not in response.content.decode()


def test_too_early_join_from_my_lessons_comes_back_with_the_reason(client):
    teacher = make_user("teacher")
    lesson = make_lesson(start=timezone.now() + timedelta(hours=5), teacher=teacher)
    client.force_login(teacher)

    response = client.post(f"/my/join/{lesson.pk}/", follow=True)

    assert response.redirect_chain[-1][0] == "/my/"
    assert "The room is not open yet" in response.content.decode()
    assert not Room.objects.filter(lesson=lesson).exists()  # no room before its window


def test_my_join_accepts_only_post(client):
    client.force_login(make_user())
    lesson = make_lesson()

    assert client.get(f"/my/join/{lesson.pk}/").status_code == 405


# --- Languages ------------------------------------------------------------------------------


def test_a_school_running_in_russian_reads_russian(client, feed_page, settings):
    settings.LANGUAGE_CODE = "ru"
    room = open_room(start_in=timedelta(hours=3))

    feed = client.get("/open-lessons/").content.decode()
    join = client.post(f"/join/{room.public_slug}/", {"display_name": "Анна"}).content.decode()

    assert '<html lang="ru">' in feed
    assert "Ближайшие" in feed and "Идёт сейчас" in feed
    assert "Комната ещё не открыта" in join
    assert "Europe/Amsterdam" in join


def test_the_language_switch_posts_to_setlang(client, feed_page):
    html = client.get("/open-lessons/").content.decode()

    assert 'action="/i18n/setlang/"' in html
    assert '<option value="ru" lang="ru">Русский</option>' in html
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/open-lessons/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ru"


def test_feed_page_lists_are_cached_briefly_per_filter_and_language(client, feed_page, settings):
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True, title="First")
    client.get("/open-lessons/")
    make_lesson(start=timezone.now() + timedelta(hours=2), is_open=True, title="Second")

    cached = client.get("/open-lessons/").content.decode()
    other_filter = client.get("/open-lessons/", {"day": "2030-01-01"}).content.decode()

    assert "First" in cached and "Second" not in cached
    assert "No open lessons are planned" in other_filter


def test_my_lessons_costs_the_same_queries_for_one_or_many_recordings(client):
    teacher = make_user("t")
    client.force_login(teacher)

    def queries():
        client.get("/my/")  # creates the calendar token on the first visit
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/my/").status_code == 200
        return len(ctx.captured_queries)

    ready_recording(
        make_room(make_lesson(start=timezone.now() - timedelta(days=1), teacher=teacher))
    )
    one = queries()
    for day in range(2, 8):
        room = make_room(make_lesson(start=timezone.now() - timedelta(days=day), teacher=teacher))
        ready_recording(room)
        ready_recording(room)
        make_lesson(start=timezone.now() + timedelta(days=day), teacher=teacher)
    many = queries()

    assert one == many


def test_a_private_recording_on_my_lessons_is_a_signed_link_the_student_can_play(client):
    student, subject = make_user("s"), make_subject()
    enroll(student, subject)
    room = make_room(make_lesson(start=timezone.now() - timedelta(days=1), subject=subject))
    recording = ready_recording(room)
    client.force_login(student)

    html = client.get("/my/").content.decode()
    link = html.split('<p><a href="')[1].split('"')[0].replace("&amp;", "&")
    client.logout()
    served = client.get(link)

    assert recording.file.name in link and "s=" in link
    assert served.status_code == 200
    assert client.get(link.split("?")[0]).status_code == 403


def test_open_lessons_route_serves_the_live_page_and_follows_the_editors(
    client, feed_page, settings
):
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    assert "Open lessons" in client.get("/open-lessons/").content.decode()
    feed_page.title = "Open lessons this week"
    feed_page.save_revision().publish()
    assert "Open lessons this week" in client.get("/open-lessons/").content.decode()
    feed_page.unpublish()
    assert client.get("/open-lessons/").status_code == 404


def test_a_private_or_renamed_feed_page_is_left_to_wagtail(client, feed_page, settings):
    from wagtail.models import PageViewRestriction

    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    PageViewRestriction.objects.create(page=feed_page, restriction_type="login")
    response = client.get("/open-lessons/")
    assert response.status_code == 302 and "login" in response["Location"]

    PageViewRestriction.objects.all().delete()
    cache.clear()
    feed_page.slug = "lessons-feed"
    feed_page.save_revision().publish()
    assert client.get("/open-lessons/").status_code == 404
    assert client.get("/lessons-feed/").status_code == 200


def _csrf_tokens(html: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)


def test_a_cached_join_page_gives_each_guest_a_working_token_of_their_own(settings):
    settings.JOIN_PAGE_CACHE_SECONDS = 10
    room = open_room(start_in=timedelta(minutes=5))
    url = f"/join/{room.public_slug}/"
    ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ann_html, bob_html = ann.get(url).content.decode(), bob.get(url).content.decode()
    ann_tokens, bob_tokens = _csrf_tokens(ann_html), _csrf_tokens(bob_html)
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


def test_guests_share_the_rendered_feed_page_each_with_a_working_token(feed_page, settings):
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    ann, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    ann_html = ann.get("/open-lessons/").content.decode()
    bob_html = bob.get("/open-lessons/").content.decode()
    ann_token, bob_token = _csrf_tokens(ann_html)[0], _csrf_tokens(bob_html)[0]
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
