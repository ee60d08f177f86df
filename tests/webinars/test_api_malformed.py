"""No malformed request to any documented endpoint gets a 500: every error is a JSON 4xx.

Three layers: a fixed list of garbage over every operation, hostile bodies (nesting, encodings,
size) on each JSON endpoint with its secret or signature so the body is really parsed, and a
hypothesis fuzz of each endpoint's own fields with arbitrary JSON values.
"""

import base64
import hashlib
import hmac
import json
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_api_token, make_lesson, make_recording, make_room

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
    json.dumps({"room_id": 10**30, "duration_secs": -(10**30), "id": -1}),
    json.dumps({"room_id": 1.5, "scheduled_start": "2026-13-01T10:00:00+00:00"}),
]
GARBAGE_QUERY = "?hours=abc&since_hours=-1e309&all=2&tz=Mars%2FBase&force=yes"

# (body, what the 400/413 must say): each is refused before any view code sees the data.
HOSTILE_BODIES = [
    ('{"a":' * 40 + "1" + "}" * 40, "nested too deeply"),
    ("[" * 20_000 + "]" * 20_000, "nested too deeply"),  # past Python's recursion limit
    (b'{"title": "\xff\xfe broken"}', "not valid utf-8"),
    ('{"title": "\\ud800", "display_name": "\\ud800"}', "surrogates"),
    ('{"title": "a\\u0000b", "display_name": "a\\u0000b"}', "NUL"),
    ('{"title": NaN}', "JSON parse error"),
    ('{"title": "' + "x" * 70_000 + '"}', "too large"),
]

SECRET_HEADERS = {"HTTP_X_RECORDING_SECRET": "test-recording-secret"}


def operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, _json_fields(schema, operation)


def _json_fields(schema: dict, operation: dict) -> list[str]:
    """The names of the JSON request body's fields, from the schema's component."""
    ref = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    name = ref.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
    return sorted(schema["components"]["schemas"].get(name, {}).get("properties", {}))


def concrete_paths(path: str, ids: dict) -> list[str]:
    """The path with real ids (by parameter name) and with ids that do not exist."""
    if "{" not in path:
        return [path]

    def known(match):
        name = match.group(1)
        key = next(
            (k for k in ("slug", "lesson") if k in name), "token" if name == "token" else "id"
        )
        return str(ids[key])

    return [
        re.sub(r"{([^}]+)}", known, path),
        re.sub(r"{[^}]+}", "999999999", path),
        re.sub(r"{[^}]+}", "9" * 30, path),  # beyond any database integer
    ]


def jaas_signature(body: bytes) -> str:
    stamp = str(int(time.time()))
    digest = hmac.new(b"test-jaas-secret", stamp.encode() + b"." + body, hashlib.sha256).digest()
    return f"t={stamp},v1={base64.b64encode(digest).decode()}"


def send(client: Client, method: str, url: str, body: str | bytes | None):
    """One request as a caller would send it; throttles are reset so every one is really served."""
    cache.clear()
    if body is None:
        return getattr(client, method)(url)
    raw = body.encode() if isinstance(body, str) else body
    headers = {"HTTP_X_JAAS_SIGNATURE": jaas_signature(raw)} if "webhooks/jaas/" in url else {}
    return getattr(client, method)(url, data=raw, content_type="application/json", **headers)


def problem(response, label: str) -> str | None:
    """What is wrong with the answer (a 5xx, or an error that is not JSON), else None."""
    status = response.status_code
    json_error = response.get("Content-Type", "").startswith("application/json")
    if status >= 500 or (status >= 400 and not json_error):
        return f"{label} → {status} {response.content[:120]!r}"
    return None


@pytest.fixture
def callers(admin_user):
    """Anonymous, signed-in staff, a Bearer token, and a Jibri host with the recording secret."""
    room = make_room(make_lesson(is_open=True))
    make_recording(room)
    admin = Client(raise_request_exception=False)
    admin.force_login(admin_user)
    token = make_api_token(admin_user)
    clients = [
        Client(raise_request_exception=False),
        admin,
        Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}"),
        Client(raise_request_exception=False, **SECRET_HEADERS),
    ]
    ids = {"id": room.pk, "lesson": room.lesson_id, "slug": room.public_slug, "token": "nope"}
    return clients, ids


@pytest.mark.django_db
def test_no_documented_endpoint_answers_a_malformed_request_with_a_500(callers):
    clients, ids = callers
    failures, tried = [], 0
    for path, method, _fields in operations():
        for url in concrete_paths(path, ids):
            for client in clients:
                bodies = GARBAGE_BODIES if method in {"post", "put", "patch"} else [None]
                for body in bodies:
                    response = send(client, method, url + GARBAGE_QUERY, body)
                    tried += 1
                    failures.append(problem(response, f"{method.upper()} {url} {body!r:.60}"))
    assert tried > 50
    assert not any(failures), "\n".join(filter(None, failures))


@pytest.mark.django_db
@override_settings(DEBUG=True)  # the dev recording endpoints answer only then
def test_hostile_json_bodies_get_a_400_or_413_naming_the_problem_on_every_json_endpoint(
    callers,
):
    clients, ids = callers
    json_posts = [(p, m) for p, m, fields in operations() if m == "post" and fields]
    assert {"/api/webhooks/jaas/", "/api/rooms/meeting/"} <= {p for p, _m in json_posts}
    failures = []
    for path, method in json_posts:
        url = concrete_paths(path, ids)[0]
        for body, says in HOSTILE_BODIES:
            for client in clients[1:]:  # staff (meetings), Bearer, and the Jibri/JaaS caller
                response = send(client, method, url, body)
                if response.status_code in (401, 403, 404, 429):
                    continue  # refused before reading the body: fine, and not the point here
                said = str(response.json()) if response.status_code < 500 else ""
                if response.status_code not in (400, 413) or says.lower() not in said.lower():
                    failures.append(f"POST {url} {body[:40]!r} → {response.status_code} {said}")
                break
            else:
                failures.append(f"POST {url}: every caller was refused before the body was read")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        "2026-13-01T10:00:00+00:00",  # month 13
        "2026-02-30T10:00:00+00:00",
        "2026-09-12T25:00:00+00:00",
        "2026-09-12T10:00:00+24:00",  # an offset of 24 h or more
        "2026-09-12T10:00:00-99:59",
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
        "2026-09-12T10:00:00",  # naive
        "tomorrow at ten",
    ],
)
def test_impossible_meeting_times_are_a_400_naming_the_field(callers, moment):
    clients, _ids = callers
    body = {"title": "Parents' evening", "scheduled_start": moment}
    body["scheduled_end"] = "2026-09-12T11:00:00+00:00"
    response = send(clients[1], "post", "/api/rooms/meeting/", json.dumps(body))
    assert response.status_code == 400, response.content
    assert "scheduled_start" in response.json()["errors"]
    assert "scheduled_start" in response.json()["detail"]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None, categories=None), max_size=30)
    | st.sampled_from(
        ["2026-09-12T10:00:00+03:00", "2026-13-45T99:99:99+99:00", "-1", "1e309", "../../etc"]
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_fuzzed_fields_never_get_a_500(callers):
    clients, ids = callers
    targets = [
        (concrete_paths(path, ids)[0], fields)
        for path, method, fields in operations()
        if method == "post" and fields
    ]
    failures = []

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(target=st.sampled_from(targets), data=st.data())
    def post_fuzzed(target, data):
        url, fields = target
        body = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(fields, JSON_VALUES)))
        client = data.draw(st.sampled_from(clients))
        response = send(client, "post", url, json.dumps(body))
        failures.append(problem(response, f"POST {url} {body!r:.200}"))

    post_fuzzed()
    assert not any(failures), "\n".join(filter(None, failures))
