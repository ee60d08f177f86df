"""GET /api/me/ and POST /api/me/calendar-token/ (docs/api.md)."""

import pytest
from rest_framework.test import APIClient

from tests.factories import make_api_token, make_guardian, make_user
from webinars.models import CalendarToken, SchoolClass
from webinars.people import PARENTS, STUDENTS, TEACHERS

pytestmark = pytest.mark.django_db


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(user)}")
    return client


def test_a_student_sees_their_classes_and_roles():
    student = make_user("alice", groups=[STUDENTS], first_name="Alice", last_name="Able")
    for name in ("7A", "Choir"):
        SchoolClass.objects.create(name=name).students.add(student)
    SchoolClass.objects.create(name="7B")

    body = bearer(student).get("/api/me/").json()

    token = CalendarToken.objects.get(user=student).token
    assert body == {
        "id": student.pk,
        "username": "alice",
        "name": "Alice Able",
        "is_staff": False,
        "groups": ["Students"],
        "roles": [{"code": "student", "name": "Student"}],
        "classes": [
            {"id": SchoolClass.objects.get(name="7A").pk, "name": "7A"},
            {"id": SchoolClass.objects.get(name="Choir").pk, "name": "Choir"},
        ],
        "children": [],
        "calendar_url": f"http://testserver/api/calendar/{token}.ics",
    }


def test_a_parent_sees_their_children_by_name():
    parent = make_user("pat", groups=[PARENTS, TEACHERS])
    zoe = make_user("zoe", groups=[STUDENTS], first_name="Zoe", last_name="Able")
    adam = make_user("adam", groups=[STUDENTS], first_name="Adam", last_name="Able")
    make_guardian(parent, zoe)
    make_guardian(parent, adam)
    make_user("other-child", groups=[STUDENTS])

    body = bearer(parent).get("/api/me/").json()

    assert body["children"] == [
        {"id": adam.pk, "name": "Adam Able"},
        {"id": zoe.pk, "name": "Zoe Able"},
    ]
    assert body["roles"] == [
        {"code": "teacher", "name": "Teacher"},
        {"code": "parent", "name": "Parent"},
    ]


@pytest.mark.parametrize(
    ("fields", "groups"),
    [({}, ["Director"]), ({"is_staff": True}, []), ({"is_superuser": True}, [])],
)
def test_school_staff_are_named_so(fields, groups):
    user = make_user(groups=groups, **fields)
    roles = bearer(user).get("/api/me/").json()["roles"]
    assert roles == [{"code": "staff", "name": "School staff"}]


def test_roles_are_in_the_callers_language():
    user = make_user(groups=[TEACHERS, "Auditor"])
    roles = bearer(user).get("/api/me/", HTTP_ACCEPT_LANGUAGE="ru").json()["roles"]
    assert roles == [
        {"code": "staff", "name": "Сотрудник школы"},
        {"code": "teacher", "name": "Учитель"},
    ]


def test_anonymous_callers_get_a_json_401(api_client):
    for method, url in (("get", "/api/me/"), ("post", "/api/me/calendar-token/")):
        response = getattr(api_client, method)(url)
        assert response.status_code == 401 and "detail" in response.json()


def test_a_new_calendar_token_retires_the_old_url_at_once(client):
    user = make_user("tom", groups=[TEACHERS])
    api = bearer(user)
    old_url = api.get("/api/me/").json()["calendar_url"]
    assert client.get(old_url.removeprefix("http://testserver")).status_code == 200

    response = api.post("/api/me/calendar-token/")

    assert response.status_code == 200
    new_url = response.json()["calendar_url"]
    assert new_url != old_url and new_url.startswith("http://testserver/api/calendar/")
    assert client.get(old_url.removeprefix("http://testserver")).status_code == 404
    assert client.get(new_url.removeprefix("http://testserver")).status_code == 200
    assert api.get("/api/me/").json()["calendar_url"] == new_url
