"""The schema's promises, read from /api/schema/ itself (docs/api-schema.md); the generated
client (test_api_client.py) and schemathesis (test_api_schemathesis.py) check the server keeps
them."""

import json

import pytest
from django.test import Client

ERROR_BODIES = {"#/components/schemas/Error", "#/components/schemas/TooEarly"}
ANONYMOUS = {
    ("post", "/api/auth/token/"),
    ("post", "/api/rooms/public/{slug}/join/"),
    ("get", "/api/calendar/{token}.ics"),
    ("get", "/api/calendar/open-lessons.ics"),
    ("get", "/api/health/"),
    ("post", "/api/recordings/jibri/"),
    ("post", "/api/rooms/{room_id}/recording/uploaded/"),
    ("post", "/api/webhooks/jaas/"),
    ("post", "/api/webhooks/jaas/recording/"),
}
TEXT = {
    "/api/rooms/{room_id}/attendance.csv": "text/csv",
    "/api/rooms/{room_id}/register.csv": "text/csv",
    "/api/rooms/{room_id}/calendar.ics": "text/calendar",
    "/api/calendar/{token}.ics": "text/calendar",
    "/api/calendar/open-lessons.ics": "text/calendar",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_error_is_the_one_error_body(schema):
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400 or path == "/api/health/":
                continue
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref in ERROR_BODIES, (method, path, status)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    assert error["properties"]["errors"]["additionalProperties"]["items"] == {"type": "string"}


def test_every_operation_lists_its_errors(schema):
    for method, path, operation in operations(schema):
        statuses = set(operation["responses"])
        assert "503" in statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if operation.get("security") != []:
            assert "401" in statuses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= statuses, (method, path)
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in statuses, (method, path)


def test_anonymous_operations_need_no_credentials(schema):
    anonymous = {
        (method, path)
        for method, path, operation in operations(schema)
        if operation.get("security") == []
    }
    assert ANONYMOUS <= anonymous
    assert all(operation["security"] != [{}] for _method, _path, operation in operations(schema)), (
        "[{}] would say a token is needed"
    )


def test_text_answers_are_typed_as_text(schema):
    for path, media_type in TEXT.items():
        content = schema["paths"][path]["get"]["responses"]["200"]["content"]
        assert content == {media_type: {"schema": {"type": "string"}}}, path


def test_tz_is_one_parameter_of_known_zones(schema):
    with_tz = [
        (method, path, parameter)
        for method, path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "tz"
    ]
    assert len(with_tz) >= 12
    for _method, _path, parameter in with_tz:
        assert parameter["schema"] == {"$ref": "#/components/schemas/TimeZone"}
        assert parameter["allowEmptyValue"] is True
    zones = schema["components"]["schemas"]["TimeZone"]
    assert {"UTC", "Europe/Amsterdam", "Etc/GMT+1", "Etc/GMT-1"} <= set(zones["enum"])
    assert len(set(zones["x-enum-varnames"])) == len(zones["enum"])


def test_path_parameters_name_what_they_are(schema):
    names = {
        parameter["name"]
        for _method, _path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }
    assert "pk" not in names and "id" not in names
    assert {"room_id", "lesson_id"} <= names


def test_the_limits_are_the_enforced_ones(schema):
    components = schema["components"]["schemas"]
    assert components["PublicJoinRequest"]["properties"]["display_name"]["maxLength"] == 64
    room = components["Room"]["properties"]
    assert all(room[name].get("nullable") for name in ("started_at", "ended_at", "lesson"))
    assert room["closed_reason"]["nullable"] is True
    assert "" not in components["ClosedReasonEnum"]["enum"]
