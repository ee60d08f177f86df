"""``webinars.api.lesson_rows.lesson_rows`` (the lessons list's rows read as values) equals
the plain path, ``LessonRowSerializer`` over the list's queryset, row by row (its docstring)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import at, make_lesson, make_room, make_user
from tests.webinars.test_api_lists import school  # noqa: F401 - the fixture
from webinars.api.lesson_rows import lesson_rows
from webinars.api.serializers import UTC, LessonRowSerializer
from webinars.selectors.lessons import lessons_for_lister, lessons_visible, lister_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def corners(school):  # noqa: F811 - the fixture imported above
    """The corner cases on top of the school's four lessons: a teacher known only by a
    username, a name to strip, co-teachers to order (two, one without a name), a cancelled
    open lesson whose public room is closed to guests, an open lesson without a room, and
    times with microseconds."""
    bare = make_user("bare-teacher")
    spaced = make_user("spaced", first_name="", last_name="Only")
    zed = make_user("zed", first_name="Zed", last_name="Able")
    odd = make_lesson(
        start=at("2026-09-15", "09:00") + timedelta(microseconds=500),
        subject=school.art,
        teacher=bare,
        is_open=True,
        title="Odd",
    )
    odd.co_teachers.add(zed, spaced, school.cora)
    cancelled = make_lesson(
        start=at("2026-09-15", "10:00"),
        subject=school.maths,
        teacher=spaced,
        school_class=school.class_b,
        is_open=True,
        is_cancelled=True,
        title="Cancelled",
    )
    make_room(cancelled, is_open=False)
    make_lesson(start=at("2026-09-15", "11:00"), subject=school.art, teacher=zed, is_open=True)
    return school


@pytest.mark.parametrize("who", ["dina", "alice", "bob", "olga"])
@pytest.mark.parametrize("zone", [UTC, ZoneInfo("Europe/Amsterdam"), ZoneInfo("Asia/Kolkata")])
def test_lesson_rows_equal_the_serializer(corners, who, zone):
    lister = lister_for(user=getattr(corners, who))
    for ordering in (("scheduled_start", "id"), ("-scheduled_start", "-id")):
        lessons = lessons_for_lister(lister=lister).order_by(*ordering)
        plain = LessonRowSerializer(list(lessons), many=True, context={"zone": zone}).data
        counted = []

        def paginate(page, counted=counted):
            counted.append(page.count())
            return page[0:100]

        visible = lessons_visible(lister=lister).order_by(*ordering)  # as the view passes it
        rows = lesson_rows(visible, paginate=paginate, zone=zone)
        assert counted == [len(plain)]
        assert rows == [dict(row) for row in plain], who
        assert [list(row) for row in rows] == [list(row) for row in plain]  # the keys' order
        assert rows, who
    if who == "dina":  # the corners are in: a public link, three co-teachers, a bare name
        assert any(row["public_join_url"] for row in rows)
        assert any(len(row["co_teachers"]) == 3 for row in rows)
        assert any(row["teacher"]["name"] == "bare-teacher" for row in rows)


def test_lesson_rows_of_an_empty_page_cost_no_co_teacher_query(corners, django_assert_num_queries):
    lister = lister_for(user=corners.dina)
    lessons = lessons_visible(lister=lister).filter(pk=-1).order_by("id")
    with django_assert_num_queries(1):
        assert lesson_rows(lessons, paginate=lambda page: page[0:50], zone=UTC) == []
