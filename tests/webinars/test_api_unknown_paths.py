"""Everything under /api/ answers JSON in the API's error shape (docs/api-schema.md): unknown
paths, ids that are not numbers, wrong methods, POSTs without a CSRF token; never Wagtail's
HTML page nor Django's HTML CSRF refusal."""

import pytest
from django.test import Client

from tests.factories import make_api_token, make_room, make_user


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "head"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/rooms/abc/",
        "/api/rooms/abc/join/",
        "/api/rooms/1.5/close/",
        "/api/no-such-thing/",
        "/api/rooms/by-lesson/x/",
        "/api/",
        "/api/rooms/%00/",
        "/api/rooms/%21%0A/recording/uploaded/",  # a line break in the path (schemathesis)
        "/api/%0A",
    ],
)
def test_unknown_paths_answer_a_json_404_for_every_method(path, method):
    client = Client(enforce_csrf_checks=True)  # as a browser's session would be checked
    response = getattr(client, method)(path)
    if method == "head":
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
    else:
        assert_json_error(response, 404)


@pytest.mark.django_db
def test_a_post_with_a_session_and_no_csrf_token_to_an_unknown_path_is_a_json_404():
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert_json_error(client.post("/api/rooms/abc/close/", {"x": 1}), 404)


@pytest.mark.django_db
def test_a_missing_slash_is_a_json_404_that_names_the_right_path():
    body = assert_json_error(Client().get("/api/health"), 404)
    assert "/api/health/" in body["detail"]
    body = assert_json_error(Client().get("/api/healthz"), 404)
    assert "Did you mean" not in body["detail"]


@pytest.mark.django_db
def test_an_unknown_id_and_a_wrong_method_are_json_too():
    token = make_api_token(make_user(is_staff=True))
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert_json_error(client.get("/api/rooms/999999/"), 404)
    response = client.delete("/api/rooms/999999/")
    assert_json_error(response, 405)
    assert response["Allow"]


@pytest.mark.django_db
def test_wagtails_own_api_is_left_to_wagtail():
    assert Client().get("/api/v2/pages/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/rooms/{id}/calendar.ics", "text/calendar"),
        ("/api/calendar/open-lessons.ics", "text/calendar"),
        ("/api/rooms/{id}/attendance.csv", "text/csv"),
    ],
)
def test_text_answers_honour_an_accept_header_naming_their_type(path, accept):
    """Calendar apps send ``Accept: text/calendar``; a spreadsheet fetch ``text/csv``."""
    room = make_room()
    admin = make_user(is_staff=True, is_superuser=True)
    client = Client(headers={"Authorization": f"Bearer {make_api_token(admin)}"})
    response = client.get(path.format(id=room.pk), headers={"Accept": accept})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(accept)
    missing = client.get(path.format(id=room.pk + 1000), headers={"Accept": accept})
    if "{id}" in path:  # the error is still the JSON error body
        assert_json_error(missing, 404)
