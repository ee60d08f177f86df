"""GET /api/rooms/open-lessons/."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle

from tests.factories import make_lesson, make_room, make_subject, make_user
from webinars.choices import RoomStatus, RoomType
from webinars.models import Lesson, Room
from webinars.services.tick import maintain_rooms

URL = "/api/rooms/open-lessons/"

pytestmark = pytest.mark.django_db


def test_anonymous_gets_open_lessons_in_the_window_with_their_rooms(api_client):
    now = timezone.now()
    soon = make_lesson(start=now + timedelta(hours=2), is_open=True, title="Fractions")
    make_lesson(start=now + timedelta(hours=3), is_open=False, title="Closed lesson")
    make_lesson(start=now + timedelta(hours=60), is_open=True, title="Too far ahead")
    make_lesson(start=now - timedelta(hours=5), is_open=True, title="Long over")

    response = api_client.get(URL)

    assert response.status_code == 200
    [item] = response.json()
    room = Room.objects.get(lesson=soon)
    assert item["room_id"] == room.pk
    assert item["public_slug"] == room.public_slug
    assert item["status"] == RoomStatus.SCHEDULED
    assert item["lesson"]["title"] == "Fractions"
    assert item["lesson"]["subject"]["code"] == soon.subject.code
    assert item["lesson"]["teacher"]["id"] == soon.teacher_id
    assert set(item) == {
        "room_id",
        "public_slug",
        "status",
        "scheduled_start",
        "scheduled_end",
        "lesson",
    }


def test_an_open_lesson_saved_inside_the_horizon_is_listed_with_its_room_at_once(api_client):
    lesson = make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True)

    first = api_client.get(URL).json()
    second = api_client.get(URL).json()

    room = Room.objects.get()
    assert room.lesson == lesson
    assert room.type == RoomType.LESSON
    assert room.is_open is True
    assert room.public_slug and room.join_url.endswith(room.jitsi_room)
    assert first[0]["room_id"] == second[0]["room_id"] == room.pk


def _bulk_open_lessons(hours_ahead) -> list[Lesson]:
    """Open lessons written without ``save()`` (as a bulk import would): no room yet."""
    subject, teacher, now = make_subject(), make_user(), timezone.now()
    return Lesson.objects.bulk_create(
        Lesson(
            subject=subject,
            teacher=teacher,
            title=f"Imported {hours}",
            scheduled_start=now + timedelta(hours=hours),
            scheduled_end=now + timedelta(hours=hours, minutes=45),
            is_open=True,
        )
        for hours in hours_ahead
    )


def test_reading_the_feed_writes_nothing_and_lists_only_lessons_with_rooms(api_client, settings):
    settings.OPEN_LESSONS_CACHE_SECONDS = 0
    saved = make_lesson(start=timezone.now() + timedelta(hours=3), is_open=True)
    imported = _bulk_open_lessons([1, 2])

    with CaptureQueriesContext(connection) as reads:
        before = api_client.get(URL + "?all=1").json()
    writes = [q["sql"] for q in reads.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]

    assert writes == []
    assert [item["lesson"]["id"] for item in before] == [saved.pk]
    assert Room.objects.count() == 1

    maintain_rooms()  # the tick gives the imported open lessons inside the horizon their rooms
    after = api_client.get(URL).json()
    expected = [lesson.pk for lesson in imported] + [saved.pk]
    assert [item["lesson"]["id"] for item in after] == expected


def test_the_demo_schools_open_lessons_are_in_the_feed(api_client):
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115

    items = api_client.get(URL + "?all=1").json()

    open_lessons = Lesson.objects.filter(is_open=True).order_by("scheduled_start")
    assert [item["lesson"]["id"] for item in items] == [lesson.pk for lesson in open_lessons]
    assert all(item["public_slug"] for item in items)


def test_a_lesson_live_now_stays_in_the_feed_though_it_started_long_ago(api_client):
    lesson = make_lesson(
        start=timezone.now() - timedelta(hours=1), duration=timedelta(hours=2), is_open=True
    )
    make_room(lesson, status=RoomStatus.OPEN)

    [item] = api_client.get(URL).json()

    assert item["lesson"]["id"] == lesson.pk
    assert item["status"] == RoomStatus.OPEN


def test_hours_since_hours_and_all_move_the_window(api_client):
    now = timezone.now()
    ahead = make_lesson(start=now + timedelta(hours=30), is_open=True)
    behind = make_lesson(start=now - timedelta(hours=6), is_open=True)
    maintain_rooms(now=behind.scheduled_start)  # the tick made its room when it was due

    def ids(query):
        return [item["lesson"]["id"] for item in api_client.get(URL + query).json()]

    assert ids("?hours=24") == []
    assert ids("?hours=48") == [ahead.pk]
    assert ids("?hours=1&since_hours=24") == [behind.pk]
    assert ids("?hours=0&all=1") == [behind.pk, ahead.pk]


def test_cancelled_open_lessons_are_left_out(api_client):
    make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True, is_cancelled=True)

    assert api_client.get(URL).json() == []


def test_tz_renders_times_in_that_zone(api_client):
    make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True)

    utc = api_client.get(URL).json()[0]
    moscow = api_client.get(URL + "?tz=Europe/Moscow").json()[0]

    assert utc["scheduled_start"].endswith("+00:00")
    assert moscow["scheduled_start"].endswith("+03:00")
    assert moscow["lesson"]["scheduled_start"].endswith("+03:00")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("?hours=soon", "hours"),
        ("?hours=-1", "hours"),
        ("?since_hours=x", "since_hours"),
        ("?all=maybe", "all"),
        ("?tz=Mars/Olympus", "tz"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(api_client, query, param):
    response = api_client.get(URL + query)

    assert response.status_code == 400
    body = response.json()
    assert param in body["detail"]
    assert param in body["errors"]


def test_query_count_does_not_grow_with_the_number_of_lessons(
    api_client, django_assert_max_num_queries, settings
):
    settings.OPEN_LESSONS_CACHE_SECONDS = 0
    now = timezone.now()
    for hour in range(1, 31):
        make_lesson(start=now + timedelta(hours=hour), is_open=True)

    with django_assert_max_num_queries(2):
        first = api_client.get(URL)
    for hour in range(31, 48):
        make_lesson(start=now + timedelta(hours=hour), is_open=True)
    with django_assert_max_num_queries(2):
        second = api_client.get(URL)

    assert (len(first.json()), len(second.json())) == (30, 47)


def test_anonymous_callers_are_throttled(api_client, monkeypatch):
    rates = {**AnonRateThrottle.THROTTLE_RATES, "anon": "2/min"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)

    codes = [api_client.get(URL).status_code for _ in range(3)]

    assert codes == [200, 200, 429]


def test_the_feed_is_cached_briefly_for_everyone(api_client, settings, django_assert_num_queries):
    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True)

    first = api_client.get(URL)
    make_lesson(start=timezone.now() + timedelta(hours=2), is_open=True)
    with django_assert_num_queries(0):
        cached = api_client.get(URL)
    other_params = api_client.get(URL + "?hours=47")

    assert len(first.json()) == len(cached.json()) == 1
    assert len(other_params.json()) == 2
    assert "max-age=30" in cached["Cache-Control"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns"])
def test_the_databases_json_equals_the_serializers_items(postgres_only, zone):
    """``open_lessons_feed_json`` (PostgreSQL writes the JSON, the fast path) against
    ``OpenLessonItemSerializer`` over ``open_lessons_feed``'s rooms (the plain path): the same
    items, keys in the same order, times in the zone (microseconds, negative and half-hour
    offsets, names with and without parts, a DST change inside the window)."""
    import json
    from zoneinfo import ZoneInfo

    from webinars.api.feeds import OpenLessonItemSerializer
    from webinars.selectors.open_lessons import open_lessons_feed, open_lessons_feed_json

    now = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)  # Amsterdam leaves summer time on the 25th
    named = make_user("named-teacher", first_name="Анна", last_name='Iva "nova"')
    half_named = make_user("half-named", first_name="", last_name="Petrov")
    for n, teacher in enumerate((named, half_named, make_user("no-name"))):
        start = now + timedelta(hours=10 * n + 1, microseconds=250_000 * n)
        lesson = make_lesson(
            start=start,
            teacher=teacher,
            is_open=True,
            title=f"Open {n} \\ ünïcode\t😀 \x01 </script>",
            description="Bring a ruler.\nAnd a pen." if n else "",
        )
        make_room(lesson)
    make_room(make_lesson(start=now + timedelta(hours=2), is_open=False))
    make_room(make_lesson(start=now - timedelta(minutes=5), is_open=True, is_cancelled=True))

    context = {"zone": ZoneInfo(zone), "request": None}
    plain = OpenLessonItemSerializer(open_lessons_feed(now=now), many=True, context=context).data
    fast = json.loads(open_lessons_feed_json(now=now, zone=zone))
    assert len(fast) == 3
    assert json.dumps(fast) == json.dumps(plain)  # the keys' order too
    assert json.loads(open_lessons_feed_json(now=now, hours=0.5, since_hours=0, zone=zone)) == []
    # the connection reads times in its own zone again afterwards
    assert Lesson.objects.get(pk=lesson.pk).scheduled_start == start
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        assert cursor.fetchone()[0] == "UTC"


def test_the_feed_answers_the_same_on_every_database(api_client):
    """Through the URL: the items the serializer renders (on PostgreSQL the database's JSON)."""
    from zoneinfo import ZoneInfo

    from webinars.api.feeds import OpenLessonItemSerializer
    from webinars.selectors.open_lessons import open_lessons_feed

    for n in range(3):
        make_room(make_lesson(start=timezone.now() + timedelta(hours=n + 1), is_open=True))
    context = {"zone": ZoneInfo("Europe/Amsterdam"), "request": None}
    expected = OpenLessonItemSerializer(open_lessons_feed(), many=True, context=context).data
    response = api_client.get(f"{URL}?tz=Europe/Amsterdam")
    assert response["Content-Type"] == "application/json"
    assert response.json() == [dict(item) for item in expected]


def test_the_feeds_cache_key_comes_from_the_one_owner_of_cache_keys(api_client, settings):
    from unittest import mock

    from webinars.public import caching

    settings.OPEN_LESSONS_CACHE_SECONDS = 30
    make_room(make_lesson(start=timezone.now() + timedelta(hours=1), is_open=True))
    with mock.patch.object(caching, "_key", wraps=caching._key) as key:
        api_client.get(URL)
    key.assert_called_once()
    assert key.call_args.args[0] == "open-lessons-feed"
