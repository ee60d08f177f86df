"""Read-side queries of the public pages: the open-lessons feed and "My lessons"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    enroll,
    make_guardian,
    make_lesson,
    make_recording,
    make_room,
    make_subject,
    make_user,
)
from webinars.choices import JoinRole, RecordingStatus, RoomStatus
from webinars.models import Room
from webinars.selectors.open_lessons import open_lessons_feed, open_lessons_listing
from webinars.selectors.public_rooms import room_for_public_page
from webinars.selectors.timetable import lessons_for_user
from webinars.services.tick import maintain_rooms

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the weekend Europe switches to summer time


def titles(items):
    return [getattr(item, "lesson", item).title for item in items]


def tick_through(first, last):
    """Run the scheduler tick once a simulated hour (rooms are made by it, never by reads)."""
    now = first
    while now <= last:
        maintain_rooms(now=now)
        now += timedelta(hours=1)


# --- open_lessons_feed ----------------------------------------------------------------------


def test_feed_window_is_an_overlap_so_running_lessons_stay():
    running = make_lesson(
        start=NOW - timedelta(hours=1), duration=timedelta(hours=2), is_open=True, title="running"
    )
    make_lesson(start=NOW - timedelta(hours=3), is_open=True, title="over")
    make_lesson(start=NOW + timedelta(hours=47), is_open=True, title="edge")
    make_room(make_lesson(start=NOW + timedelta(hours=49), is_open=True, title="beyond"))
    tick_through(NOW - timedelta(hours=4), NOW)  # "over" got its room too, ahead of time

    rooms = open_lessons_feed(now=NOW, hours=48, since_hours=10 / 60)

    assert titles(rooms) == ["running", "edge"]
    assert rooms[0].lesson == running


def test_feed_lists_the_rooms_lessons_have_and_leaves_out_those_without_one():
    with_room = make_lesson(start=NOW + timedelta(hours=1), is_open=True)
    existing = make_room(with_room)
    make_lesson(start=NOW + timedelta(hours=2), is_open=True, title="no room yet")

    assert [room.pk for room in open_lessons_feed(now=NOW)] == [existing.pk]
    assert Room.objects.count() == 1

    maintain_rooms(now=NOW)  # the tick gives the open lesson inside the horizon its room
    rooms = open_lessons_feed(now=NOW)
    assert rooms[0].pk == existing.pk
    assert rooms[1].is_open and rooms[1].public_slug and rooms[1].lesson.title == "no room yet"


def test_feed_and_listing_cost_one_query_each_list_and_write_nothing(django_assert_num_queries):
    for hour in range(1, 40):
        make_lesson(start=NOW + timedelta(hours=hour), is_open=True)
    with django_assert_num_queries(1):
        assert open_lessons_feed(now=NOW) == []  # no room yet: nothing listed, nothing made
    maintain_rooms(now=NOW)

    with CaptureQueriesContext(connection) as reads:
        with django_assert_num_queries(1):
            assert len(open_lessons_feed(now=NOW)) == 39
        listing = open_lessons_listing(now=NOW)
    assert len(listing.upcoming) == 39
    assert not [q for q in reads.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]


# --- open_lessons_listing -------------------------------------------------------------------


def test_listing_sorts_live_upcoming_and_recordings_and_skips_forced_closed_rooms():
    live = make_lesson(start=NOW - timedelta(minutes=5), is_open=True, title="live")
    make_room(live, status=RoomStatus.OPEN)
    make_room(make_lesson(start=NOW + timedelta(hours=5), is_open=True, title="later"))
    stopped = make_lesson(start=NOW + timedelta(hours=6), is_open=True, title="stopped")
    make_room(stopped, status=RoomStatus.CLOSED)
    recorded = make_room(make_lesson(start=NOW - timedelta(days=3), is_open=True, title="rec"))
    make_recording(recorded, status=RecordingStatus.READY)
    failed = make_room(make_lesson(start=NOW - timedelta(days=4), is_open=True, title="failed"))
    make_recording(failed, status=RecordingStatus.FAILED)

    listing = open_lessons_listing(now=NOW)

    assert titles(listing.live) == ["live"]
    assert titles(listing.upcoming) == ["later"]
    assert titles(listing.recordings) == ["rec"]


def test_listing_day_is_a_day_in_the_school_zone_across_the_dst_switch():
    # 29 March 2026 in Amsterdam runs 23:00 UTC (28th) to 22:00 UTC (29th): 23 hours.
    make_lesson(start=datetime(2026, 3, 28, 23, 30, tzinfo=UTC), is_open=True, title="sunday 00:30")
    make_lesson(start=datetime(2026, 3, 28, 22, 30, tzinfo=UTC), is_open=True, title="sat 23:30")
    make_lesson(start=datetime(2026, 3, 29, 22, 15, tzinfo=UTC), is_open=True, title="mon 00:15")
    maintain_rooms(now=NOW)

    listing = open_lessons_listing(now=NOW, day=datetime(2026, 3, 29).date())

    assert titles(listing.upcoming) == ["sunday 00:30"]


def test_listing_filters_by_subject():
    maths, art = make_subject(), make_subject()
    make_lesson(start=NOW + timedelta(hours=1), is_open=True, subject=maths, title="sums")
    make_lesson(start=NOW + timedelta(hours=2), is_open=True, subject=art, title="drawing")
    maintain_rooms(now=NOW)

    assert titles(open_lessons_listing(now=NOW, subject_id=art.pk).upcoming) == ["drawing"]


# --- room_for_public_page -------------------------------------------------------------------


def test_public_page_lookup_refuses_closed_lessons_and_rooms():
    room = make_room(make_lesson(start=NOW, is_open=True))
    private = make_room(make_lesson(start=NOW, is_open=False))

    assert room_for_public_page(slug=room.public_slug) == room
    assert room_for_public_page(slug=private.public_slug) is None
    assert room_for_public_page(slug="nope") is None


# --- lessons_for_user -----------------------------------------------------------------------


@pytest.fixture
def school():
    subject, other = make_subject(), make_subject()
    teacher, co_teacher, student, parent, outsider = (make_user() for _ in range(5))
    director = make_user(groups=["Director"])
    enroll(student, subject)
    make_guardian(parent, student)
    lesson = make_lesson(start=NOW + timedelta(hours=1), subject=subject, teacher=teacher)
    lesson.co_teachers.add(co_teacher)
    elsewhere = make_lesson(start=NOW + timedelta(hours=2), subject=other)
    return {
        "teacher": teacher,
        "co_teacher": co_teacher,
        "student": student,
        "parent": parent,
        "outsider": outsider,
        "director": director,
        "lesson": lesson,
        "elsewhere": elsewhere,
    }


@pytest.mark.parametrize(
    ("who", "role", "sees_elsewhere"),
    [
        ("teacher", JoinRole.MODERATOR, False),
        ("co_teacher", JoinRole.MODERATOR, False),
        ("student", JoinRole.PARTICIPANT, False),
        ("parent", JoinRole.OBSERVER, False),
        ("director", JoinRole.OBSERVER, True),
    ],
)
def test_each_person_sees_their_lessons_with_their_role(school, who, role, sees_elsewhere):
    mine = lessons_for_user(user=school[who], now=NOW)

    by_id = {lesson.pk: lesson for lesson in mine.upcoming}
    assert by_id[school["lesson"].pk].my_role == role
    assert (school["elsewhere"].pk in by_id) is sees_elsewhere


def test_an_outsider_sees_nothing(school):
    assert lessons_for_user(user=school["outsider"], now=NOW).upcoming == []


def test_staff_flag_and_superusers_observe_everything(school):
    staff = make_user(is_staff=True)

    assert len(lessons_for_user(user=staff, now=NOW).upcoming) == 2


def test_past_lessons_carry_only_their_ready_recordings(school):
    past = make_lesson(start=NOW - timedelta(days=2), teacher=school["teacher"])
    room = make_room(past)
    ready = make_recording(room, status=RecordingStatus.READY)
    make_recording(room, status=RecordingStatus.FAILED)

    mine = lessons_for_user(user=school["teacher"], now=NOW)

    assert [lesson.pk for lesson in mine.past] == [past.pk]
    assert mine.past[0].room.ready_recordings == [ready]


def test_query_count_is_constant_whatever_the_number_of_lessons(school, django_assert_num_queries):
    teacher = school["teacher"]
    Group.objects.get_or_create(name="Auditor")
    for day in range(1, 15):
        lesson = make_lesson(start=NOW - timedelta(days=day), teacher=teacher)
        make_recording(make_room(lesson), status=RecordingStatus.READY)
        make_lesson(start=NOW + timedelta(days=day % 13, hours=3), teacher=teacher)

    with django_assert_num_queries(4):  # staff check, upcoming, past, READY recordings
        mine = lessons_for_user(user=teacher, now=NOW)

    assert len(mine.upcoming) == 15 and len(mine.past) == 14


def test_listing_shows_a_bounded_number_of_lessons_and_says_there_are_more():
    for minutes in range(0, 50, 10):
        make_lesson(start=NOW + timedelta(hours=1, minutes=minutes), is_open=True)
    maintain_rooms(now=NOW)

    listing = open_lessons_listing(now=NOW, lessons_limit=3)
    full = open_lessons_listing(now=NOW, lessons_limit=5)

    assert len(listing.upcoming) == 3 and listing.more is True
    assert len(full.upcoming) == 5 and full.more is False
