"""The public views: /join/<slug>/ (GET and the join itself), /my/, the /open-lessons/ route."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import enroll, make_guardian, make_lesson, make_room, make_subject, make_user
from tests.webinars.public.factories import open_room, ready_recording
from webinars.choices import ClosedReason, RoomStatus
from webinars.models import Room
from webinars.public.views import GuestJoinThrottle

pytestmark = pytest.mark.django_db


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


def test_a_too_long_display_name_is_refused_by_the_form_with_a_400(client):
    room = open_room(start_in=timedelta(minutes=5))

    response = client.post(f"/join/{room.public_slug}/", {"display_name": "A" * 65})

    assert response.status_code == 400
    assert "at most 64 characters" in response.content.decode()


def test_the_join_form_needs_the_csrf_token():
    room = open_room(start_in=timedelta(minutes=5))
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(f"/join/{room.public_slug}/", {"display_name": "Ann"})

    assert response.status_code == 403


@pytest.mark.parametrize("case", ["unknown", "revoked", "closed_lesson", "room_not_open"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_revoked_or_non_open_slugs_answer_the_same_404_page(client, case, method):
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

    response = getattr(client, method)(f"/join/{slug}/")

    assert response.status_code == 404
    assert "This link does not lead anywhere" in response.content.decode()


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


# --- /open-lessons/ route -------------------------------------------------------------------


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
    from django.core.cache import cache
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
