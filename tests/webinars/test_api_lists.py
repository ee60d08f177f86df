"""The API's lists (docs/api.md): lessons, a lesson, subjects, classes, rooms, the timetable."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import (
    at,
    enroll,
    make_guardian,
    make_lesson,
    make_room,
    make_subject,
    make_user,
)
from webinars.choices import RoomStatus
from webinars.models import Lesson, Room, SchoolClass
from webinars.people import PARENTS, STUDENTS, TEACHERS

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def school():
    """Two classes, two subjects, four lessons on 2026-09-14 (a Monday, Amsterdam time).

    - ``algebra``: Maths for 7A, Tom teaches, Cora co-teaches, closed, with a room;
    - ``geometry``: Maths for 7B, Vera teaches, closed;
    - ``drawing``: Art (no class: the enrolled students), Tom, open, with a public room;
    - ``painting``: Art (no class), Vera, closed; Bob is enrolled in Art.
    """
    tom = make_user("tom", groups=[TEACHERS], first_name="Tom", last_name="Teach")
    cora = make_user("cora", groups=[TEACHERS], first_name="Cora", last_name="Co")
    vera = make_user("vera", groups=[TEACHERS], first_name="Vera", last_name="Other")
    alice = make_user("alice", groups=[STUDENTS], first_name="Alice", last_name="Able")
    bob = make_user("bob", groups=[STUDENTS], first_name="Bob", last_name="Baker")
    pat = make_user("pat", groups=[PARENTS], first_name="Pat", last_name="Able")
    dina = make_user("dina", groups=["Director"], first_name="Dina", last_name="Head")
    olga = make_user("olga", first_name="Olga", last_name="Out")
    make_guardian(pat, alice)
    class_a = SchoolClass.objects.create(name="7A")
    class_b = SchoolClass.objects.create(name="7B")
    class_a.students.add(alice)
    class_b.students.add(bob)
    maths = make_subject("Maths", "MATH")
    art = make_subject("Art", "ART")
    enroll(bob, art)
    algebra = make_lesson(
        start=at("2026-09-14", "09:00"),
        subject=maths,
        teacher=tom,
        school_class=class_a,
        title="Algebra",
    )
    algebra.co_teachers.add(cora)
    make_room(algebra)
    geometry = make_lesson(
        start=at("2026-09-14", "10:00"),
        subject=maths,
        teacher=vera,
        school_class=class_b,
        title="Geometry",
    )
    drawing = make_lesson(
        start=at("2026-09-14", "11:00"), subject=art, teacher=tom, is_open=True, title="Drawing"
    )
    make_room(drawing)
    painting = make_lesson(
        start=at("2026-09-14", "12:00"), subject=art, teacher=vera, title="Painting"
    )
    return SimpleNamespace(**locals())


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


# --- Lessons: who sees which ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("dina", ["Algebra", "Geometry", "Drawing", "Painting"]),  # school staff: all
        ("tom", ["Algebra", "Geometry", "Drawing", "Painting"]),  # teachers: all
        ("alice", ["Algebra", "Drawing"]),  # her class's lesson and the open one
        ("pat", ["Algebra", "Drawing"]),  # his child's and the open one
        ("bob", ["Geometry", "Drawing", "Painting"]),  # 7B, enrolled in Art, open
        ("olga", ["Drawing"]),  # signed in, tied to nothing: the open lesson
    ],
)
def test_each_role_lists_the_lessons_it_may_see(school, who, expected):
    assert titles(client_for(getattr(school, who)).get("/api/lessons/")) == expected


def test_anonymous_callers_get_a_json_401(api_client, school):
    response = api_client.get("/api/lessons/")
    assert response.status_code == 401 and "detail" in response.json()


def test_a_lesson_row_names_people_and_carries_its_class_room_and_public_link(school):
    rows = client_for(school.dina).get("/api/lessons/").json()["results"]
    algebra, _geometry, drawing, painting = rows
    algebra_room = Room.objects.get(lesson=school.algebra)
    assert algebra == {
        "id": school.algebra.pk,
        "title": "Algebra",
        "subject": {"id": school.maths.pk, "name": "Maths", "code": "MATH"},
        "class": {"id": school.class_a.pk, "name": "7A"},
        "teacher": {"id": school.tom.pk, "name": "Tom Teach"},
        "co_teachers": [{"id": school.cora.pk, "name": "Cora Co"}],
        "scheduled_start": "2026-09-14T07:00:00+00:00",
        "scheduled_end": "2026-09-14T07:45:00+00:00",
        "is_open": False,
        "is_cancelled": False,
        "room": {"id": algebra_room.pk, "status": RoomStatus.SCHEDULED},
        "public_join_url": None,
    }
    slug = Room.objects.get(lesson=school.drawing).public_slug
    assert drawing["public_join_url"] == f"http://testserver/join/{slug}/"
    assert drawing["class"] is None
    assert painting["room"] is None and painting["public_join_url"] is None


def test_times_follow_tz(school):
    rows = client_for(school.dina).get("/api/lessons/?tz=Europe/Amsterdam").json()["results"]
    assert rows[0]["scheduled_start"] == "2026-09-14T09:00:00+02:00"


def test_one_lesson_has_the_rows_shape_and_is_a_404_when_not_yours(school):
    alice = client_for(school.alice)
    row = alice.get("/api/lessons/").json()["results"][0]
    assert alice.get(f"/api/lessons/{school.algebra.pk}/").json() == row
    for lesson_id in (school.geometry.pk, 999_999):
        response = alice.get(f"/api/lessons/{lesson_id}/")
        assert response.status_code == 404 and response.json() == {"detail": "No such lesson."}
    assert client_for(school.olga).get(f"/api/lessons/{school.drawing.pk}/").status_code == 200


# --- Lessons: filters and ordering --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("subject=MATH", ["Algebra", "Geometry"]),
        ("subject=math", ["Algebra", "Geometry"]),
        ("subject=nope", []),
        ("is_open=true", ["Drawing"]),
        ("is_open=false", ["Algebra", "Geometry", "Painting"]),
        ("from=2026-09-14T10:30:00%2B02:00", ["Geometry", "Drawing", "Painting"]),
        ("to=2026-09-14T10:30:00%2B02:00", ["Algebra", "Geometry"]),
        ("from=2026-09-14&to=2026-09-14", ["Algebra", "Geometry", "Drawing", "Painting"]),
        ("from=2026-09-15", []),
        ("to=2026-09-13", []),
        ("ordering=-scheduled_start", ["Painting", "Drawing", "Geometry", "Algebra"]),
        ("subject=ART&ordering=-scheduled_start", ["Painting", "Drawing"]),
    ],
)
def test_filters_and_ordering(school, query, expected):
    assert titles(client_for(school.dina).get(f"/api/lessons/?{query}")) == expected


def test_filters_by_ids(school):
    dina = client_for(school.dina)
    assert titles(dina.get(f"/api/lessons/?subject={school.art.pk}")) == ["Drawing", "Painting"]
    assert titles(dina.get(f"/api/lessons/?teacher={school.tom.pk}")) == ["Algebra", "Drawing"]
    assert titles(dina.get(f"/api/lessons/?class={school.class_b.pk}")) == ["Geometry"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("tom", ["Algebra", "Drawing"]),  # teaches both
        ("cora", ["Algebra"]),  # co-teaches
        ("alice", ["Algebra"]),  # expected (class); the open lesson is not hers
        ("pat", ["Algebra"]),  # his child is expected
        ("bob", ["Geometry", "Drawing", "Painting"]),  # class and subject enrolment
        ("dina", []),  # staff see everything, but are tied to nothing
    ],
)
def test_mine_lists_the_lessons_the_caller_is_tied_to(school, who, expected):
    assert titles(client_for(getattr(school, who)).get("/api/lessons/?mine=1")) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=yesterday", "from"),
        ("from=2026-13-01", "from"),
        ("from=2026-09-14T10:00:00", "from"),  # naive
        ("to=2026-09-14T25:00:00%2B02:00", "to"),
        ("from=2026-09-15&to=2026-09-14T10:00:00%2B02:00", "to"),
        ("is_open=maybe", "is_open"),
        ("mine=please", "mine"),
        ("teacher=tom", "teacher"),
        ("class=7A", "class"),
        ("ordering=title", "ordering"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page=x", "page"),
        ("tz=Mars/Olympus", "tz"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(school, query, field):
    response = client_for(school.dina).get(f"/api/lessons/?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"] and field in body["detail"]


# --- Pages ------------------------------------------------------------------------------------


def test_pages_carry_count_next_and_previous(school):
    dina = client_for(school.dina)
    first = dina.get("/api/lessons/?page_size=3").json()
    assert first["count"] == 4 and first["previous"] is None
    assert [row["title"] for row in first["results"]] == ["Algebra", "Geometry", "Drawing"]
    assert first["next"] == "http://testserver/api/lessons/?page=2&page_size=3"
    second = dina.get(first["next"]).json()
    assert [row["title"] for row in second["results"]] == ["Painting"]
    assert (
        second["next"] is None
        and second["previous"] == "http://testserver/api/lessons/?page_size=3"
    )
    past_the_end = dina.get("/api/lessons/?page=3&page_size=3")
    assert past_the_end.status_code == 404 and "detail" in past_the_end.json()


def test_pages_are_50_by_default(school):
    teacher = school.tom
    start = at("2026-10-01", "08:00")
    Lesson.objects.bulk_create(
        Lesson(
            subject=school.maths,
            teacher=teacher,
            title=f"Extra {n}",
            scheduled_start=start + timedelta(hours=n),
            scheduled_end=start + timedelta(hours=n, minutes=45),
        )
        for n in range(60)
    )
    body = client_for(school.dina).get("/api/lessons/").json()
    assert body["count"] == 64 and len(body["results"]) == 50


def _add_lessons(school, n: int, *, start):
    """``n`` lessons of 7A with a co-teacher and a room each (everything a row shows)."""
    for i in range(n):
        lesson = make_lesson(
            start=start + timedelta(hours=i),
            subject=school.maths,
            teacher=school.tom,
            school_class=school.class_a,
        )
        lesson.co_teachers.add(school.cora)
        make_room(lesson)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries)


LESSONS = "/api/lessons/?from=2026-11-01&to=2026-11-30"
ROOMS = "/api/rooms/?from=2026-11-01&to=2026-11-30"
TIMETABLE = "/api/me/lessons/?from=2026-11-01&to=2026-11-30"


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("dina", LESSONS),
        ("dina", ROOMS),
        ("dina", TIMETABLE),
        ("tom", f"{LESSONS}&mine=1"),
        ("tom", TIMETABLE),
        ("alice", LESSONS),
        ("alice", f"{LESSONS}&mine=1"),
        ("alice", ROOMS),
        ("alice", TIMETABLE),
        ("pat", LESSONS),
        ("pat", ROOMS),
        ("pat", TIMETABLE),
    ],
)
def test_a_page_costs_the_same_queries_with_5_or_50_rows(school, who, url):
    client = client_for(getattr(school, who))
    _add_lessons(school, 5, start=at("2026-11-02", "08:00"))
    with_5 = _queries(client, url)
    assert len(client.get(url).json()["results"]) == 5
    _add_lessons(school, 45, start=at("2026-11-10", "08:00"))
    with_50 = _queries(client, url)
    assert len(client.get(url).json()["results"]) == 50
    assert with_50 == with_5 <= 9


# --- Subjects and classes ---------------------------------------------------------------------


def test_subjects_are_listed_by_name_for_everyone_signed_in(school, api_client):
    body = client_for(school.olga).get("/api/subjects/").json()
    assert body["count"] == 2
    assert body["results"] == [
        {"id": school.art.pk, "name": "Art", "code": "ART"},
        {"id": school.maths.pk, "name": "Maths", "code": "MATH"},
    ]
    assert api_client.get("/api/subjects/").status_code == 401
    assert client_for(school.olga).get("/api/subjects/?page_size=-1").status_code == 400


def test_classes_show_their_size_to_school_staff_only(school):
    staff = client_for(school.dina).get("/api/classes/").json()["results"]
    assert staff == [
        {"id": school.class_a.pk, "name": "7A", "student_count": 1},
        {"id": school.class_b.pk, "name": "7B", "student_count": 1},
    ]
    student = client_for(school.alice).get("/api/classes/").json()["results"]
    assert student == [
        {"id": school.class_a.pk, "name": "7A"},
        {"id": school.class_b.pk, "name": "7B"},
    ]


# --- Rooms ------------------------------------------------------------------------------------


def test_rooms_follow_may_read_room_and_show_as_the_detail_does(school):
    algebra_room = Room.objects.get(lesson=school.algebra)
    drawing_room = Room.objects.get(lesson=school.drawing)
    geometry_room = make_room(school.geometry)
    cases = {
        "dina": [algebra_room, geometry_room, drawing_room],
        "alice": [algebra_room, drawing_room],
        "bob": [geometry_room, drawing_room],
        "tom": [algebra_room, drawing_room],  # teachers read only their own closed rooms
        "olga": [drawing_room],
    }
    for who, rooms in cases.items():
        client = client_for(getattr(school, who))
        rows = client.get("/api/rooms/").json()["results"]
        assert [row["id"] for row in rows] == [room.pk for room in rooms], who
        for row in rows:
            assert client.get(f"/api/rooms/{row['id']}/").json() == row


def test_rooms_filter_by_status_and_period(school):
    Room.objects.filter(lesson=school.drawing).update(status=RoomStatus.OPEN)
    dina = client_for(school.dina)
    rows = dina.get("/api/rooms/?status=open").json()["results"]
    assert [row["lesson"]["title"] for row in rows] == ["Drawing"]
    rows = dina.get("/api/rooms/?from=2026-09-14T10:50:00%2B02:00").json()["results"]
    assert [row["lesson"]["title"] for row in rows] == ["Drawing"]
    response = dina.get("/api/rooms/?status=ajar")
    assert response.status_code == 400 and "status" in response.json()["errors"]


# --- The caller's timetable -------------------------------------------------------------------


def test_the_timetable_gives_role_room_status_and_can_join_now(school):
    now = timezone.now()
    live = make_lesson(
        start=now - timedelta(minutes=5),
        subject=school.maths,
        teacher=school.tom,
        school_class=school.class_a,
        title="Live now",
    )
    make_room(live)
    make_lesson(
        start=now + timedelta(days=2),
        subject=school.maths,
        teacher=school.tom,
        school_class=school.class_a,
        title="In two days",
    )
    make_lesson(
        start=now + timedelta(days=10),
        subject=school.maths,
        teacher=school.tom,
        school_class=school.class_a,
        title="Next fortnight",
    )
    make_lesson(
        start=now + timedelta(hours=1),
        subject=school.maths,
        teacher=school.vera,
        school_class=school.class_b,
        title="Not hers",
    )
    expected_roles = {
        "tom": ("moderator", "Moderator"),
        "alice": ("participant", "Participant"),
        "pat": ("observer", "Observer"),
    }
    for who, (code, name) in expected_roles.items():
        rows = client_for(getattr(school, who)).get("/api/me/lessons/").json()["results"]
        assert [row["title"] for row in rows] == ["Live now", "In two days"], who
        live_row, later_row = rows
        assert live_row["role"] == {"code": code, "name": name}
        assert live_row["room_status"] == {"code": RoomStatus.SCHEDULED, "name": "Scheduled"}
        assert live_row["can_join_now"] is True
        assert later_row["can_join_now"] is False and later_row["room_status"] is None
    rows = client_for(school.alice).get("/api/me/lessons/?to=2026-12-31").json()["results"]
    assert [row["title"] for row in rows] == ["Live now", "In two days", "Next fortnight"]
    rows = client_for(school.olga).get("/api/me/lessons/").json()["results"]
    assert rows == []


def test_the_timetable_speaks_the_callers_language(school):
    client = client_for(school.alice)
    rows = client.get(
        "/api/me/lessons/?from=2026-09-14&to=2026-09-14", HTTP_ACCEPT_LANGUAGE="ru"
    ).json()["results"]
    assert rows[0]["role"] == {"code": "participant", "name": "Участник"}


def test_a_cancelled_lesson_cannot_be_joined_now(school):
    now = timezone.now()
    lesson = make_lesson(
        start=now,
        subject=school.maths,
        teacher=school.tom,
        school_class=school.class_a,
        is_cancelled=True,
    )
    [row] = client_for(school.alice).get("/api/me/lessons/").json()["results"]
    assert row["id"] == lesson.pk and row["is_cancelled"] and row["can_join_now"] is False


def test_the_timetable_refuses_bad_periods(school):
    client = client_for(school.alice)
    response = client.get("/api/me/lessons/?from=2026-09-20&to=2026-09-10")
    assert response.status_code == 400 and "to" in response.json()["errors"]
    response = client.get("/api/me/lessons/?from=soon")
    assert response.status_code == 400 and "from" in response.json()["errors"]


# --- The ties as ids equal the ties as annotations --------------------------------------------


def test_ties_by_ids_equal_the_viewer_ties_for_everyone(school):
    """``tied_by_ids`` (the lists' fast filter) against ``viewer_ties`` (the owner of the
    facts, docs/roles.md) for every person of the school, with the corner cases in it: a
    student enrolled in a subject whose lessons name a class (the class decides), a parent
    of two, a co-teacher, a person tied to nothing."""
    from django.contrib.auth.models import User

    from webinars.selectors.lessons import lister_for, tied_by_annotations, tied_by_ids
    from webinars.selectors.viewer import viewer_ties

    enroll(school.alice, school.maths)  # Maths lessons here name classes: no tie through this
    enroll(school.alice, school.art)
    make_guardian(school.pat, school.bob)
    extra = make_lesson(start=at("2026-09-15", "09:00"), subject=school.art, teacher=school.vera)
    extra.co_teachers.add(school.tom)
    for user in User.objects.all():
        tied = tied_by_ids(lister_for(user=user))
        by_ids = set(Lesson.objects.filter(tied).values_list("pk", flat=True))
        by_annotations = set(
            Lesson.objects.annotate(**viewer_ties(user_id=user.pk))
            .filter(tied_by_annotations(user.pk))
            .values_list("pk", flat=True)
        )
        assert by_ids == by_annotations, user.username
    assert Lesson.objects.filter(tied_by_ids(lister_for(user=school.olga))).count() == 0
    assert Lesson.objects.filter(tied_by_ids(lister_for(user=school.pat))).count() == 5


def test_the_lister_read_in_one_statement_equals_the_orm_for_everyone(
    school, django_assert_num_queries
):
    """``lister_for`` (one plain statement) against the ORM's answers for every person of the
    school: their facts (``viewer_facts_for``), Teachers, and the ids of their ties — with
    a staff member in two staff groups, a teacher who co-teaches, a parent of two."""
    from django.contrib.auth.models import Group, User

    from webinars.models import Enrollment, SchoolClass
    from webinars.people import TEACHERS
    from webinars.selectors.lessons import lister_for
    from webinars.selectors.viewer import viewer_facts_for

    make_guardian(school.pat, school.bob)
    enroll(school.alice, school.art)
    school.dina.groups.add(Group.objects.get_or_create(name="Methodist")[0])
    school.dina.groups.add(Group.objects.get_or_create(name=TEACHERS)[0])
    school.algebra.co_teachers.add(school.vera)
    students = SchoolClass.students.through.objects
    for user in User.objects.all():
        ours = Q(user_id=user.pk) | Q(user__guardians__parent_id=user.pk)
        enrolled = Q(student_id=user.pk) | Q(student__guardians__parent_id=user.pk)
        co_taught = Lesson.co_teachers.through.objects.filter(user_id=user.pk)
        with django_assert_num_queries(1):
            lister = lister_for(user=user)
        assert lister.facts == viewer_facts_for(user=user), user.username
        assert lister.is_teacher == user.groups.filter(name=TEACHERS).exists(), user.username
        assert lister.class_ids == set(
            students.filter(ours).values_list("schoolclass_id", flat=True)
        )
        assert lister.subject_ids == set(
            Enrollment.objects.filter(enrolled).values_list("subject_id", flat=True)
        )
        assert lister.co_taught_ids == set(co_taught.values_list("lesson_id", flat=True))
    assert lister_for(user=school.dina).facts.staff_group == "Director"  # the first by name
    assert lister_for(user=school.pat).class_ids == {school.class_a.pk, school.class_b.pk}
