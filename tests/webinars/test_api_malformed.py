"""No malformed request to any documented endpoint gets a 500: every error is a JSON 4xx."""

import json
import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token

from tests.factories import make_lesson, make_recording, make_room

GARBAGE_BODIES = [
    "{not json",
    "[]",
    '"a string"',
    "null",
    json.dumps({"display_name": 5, "title": ["x"], "scheduled_start": "yesterday"}),
    json.dumps({"scheduled_start": "2026-09-12T10:00:00", "scheduled_end": 7, "is_open": "maybe"}),
    json.dumps({"room_id": "abc", "preAuthenticatedLink": "ftp://x", "fileExt": "../../x"}),
    json.dumps({"file_path": "\x00/etc/passwd", "file_ext": {"a": 1}}),
    json.dumps({"display_name": "x" * 10_000, "idempotencyKey": None}),
]
GARBAGE_QUERY = "?hours=abc&since_hours=-1e309&all=2&tz=Mars%2FBase&force=yes"


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method


def concrete_paths(path: str, ids: dict) -> list[str]:
    """The path with real ids (by parameter name) and with ids that do not exist."""
    if "{" not in path:
        return [path]

    def known(match):
        name = match.group(1)
        key = next((k for k in ("slug", "lesson", "token") if k in name), "id")
        return str(ids[key])

    return [
        re.sub(r"{([^}]+)}", known, path),
        re.sub(r"{[^}]+}", "999999999", path),
        re.sub(r"{[^}]+}", "9" * 30, path),  # beyond any database integer
    ]


@pytest.mark.django_db
def test_no_documented_endpoint_answers_a_malformed_request_with_a_500(admin_user):
    room = make_room(make_lesson(is_open=True))
    make_recording(room)
    ids = {"id": room.pk, "lesson": room.lesson_id, "slug": room.public_slug, "token": "nope"}
    anonymous = Client(raise_request_exception=False)
    admin = Client(raise_request_exception=False)
    admin.force_login(admin_user)
    bearer = Client(
        raise_request_exception=False,
        HTTP_AUTHORIZATION=f"Bearer {Token.objects.create(user=admin_user).key}",
    )
    failures, tried = [], 0
    for path, method in operations():
        for url in concrete_paths(path, ids):
            for client in (anonymous, admin, bearer):
                bodies = GARBAGE_BODIES if method in {"post", "put", "patch"} else [None]
                for body in bodies:
                    kwargs = {"content_type": "application/json", "data": body} if body else {}
                    response = getattr(client, method)(url + GARBAGE_QUERY, **kwargs)
                    tried += 1
                    status = response.status_code
                    json_error = response.get("Content-Type", "").startswith("application/json")
                    if status >= 500 or (status >= 400 and not json_error):
                        failures.append(f"{method.upper()} {url} {body!r:.60} → {status}")
    assert tried > 50
    assert not failures, "\n".join(failures)
