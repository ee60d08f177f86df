"""API tokens for apps through the real URLs: sign in for one, list, revoke, expire, throttle;
the migration of old DRF tokens; the admin's read-only list (docs/tokens.md)."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import make_api_token, make_user
from webinars.models import ApiToken
from webinars.models_tokens import token_digest

PASSWORD = "s3cret-pass"  # noqa: S105 - a test user's password

pytestmark = pytest.mark.django_db


def sign_in(client: APIClient, username: str, password: str = PASSWORD, **fields):
    body = {"username": username, "password": password, **fields}
    return client.post("/api/auth/token/", body, format="json")


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def token_of(key: str) -> ApiToken:
    return ApiToken.objects.get(digest=token_digest(key))


# --- Issuing ---------------------------------------------------------------------------------


def test_signing_in_issues_a_named_expiring_token_and_stores_only_its_digest(api_client):
    user = make_user("teacher", password=PASSWORD)
    response = sign_in(api_client, "teacher", name="Diary sync", expires_in_days=30)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "id", "name", "expires_at"}
    key = body["token"]
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == user and token.name == body["name"] == "Diary sync"
    assert token.digest == token_digest(key) and token.prefix == key[:8]
    expected = timezone.now() + timedelta(days=30)
    assert abs(token.expires_at - expected) < timedelta(minutes=1)
    assert body["expires_at"] == token.expires_at.isoformat()  # UTC unless ?tz= asks
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in [str(value) for value in stored.values()]
    assert bearer(key).get("/api/me/").json()["username"] == "teacher"


def test_each_sign_in_issues_another_token_and_the_earlier_ones_keep_working(api_client):
    make_user("teacher", password=PASSWORD)
    first = sign_in(api_client, "teacher").json()
    second = sign_in(api_client, "teacher", name="Phone").json()
    assert first["token"] != second["token"] and first["id"] != second["id"]
    assert first["name"] == "API token" and first["expires_at"] is None
    for key in (first["token"], second["token"]):
        assert bearer(key).get("/api/me/").status_code == 200
    assert ApiToken.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 3651}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"username": ["teacher"]}, "username"),
        ({"password": None}, "password"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, fields, field):
    make_user("teacher", password=PASSWORD)
    body = {"username": "teacher", "password": PASSWORD, **fields}
    response = api_client.post("/api/auth/token/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"] and field in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_the_longest_life_is_ten_years(api_client):
    make_user("teacher", password=PASSWORD)
    response = sign_in(api_client, "teacher", expires_in_days=3650)
    assert response.status_code == 200
    assert token_of(response.json()["token"]).expires_at > timezone.now() + timedelta(days=3649)


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "inactive user"])
def test_wrong_credentials_are_a_400_and_issue_nothing(api_client, who):
    make_user("teacher", password=PASSWORD)
    make_user("left", password=PASSWORD, is_active=False)
    username, password = {
        "wrong password": ("teacher", "guess"),
        "unknown user": ("nobody", PASSWORD),
        "inactive user": ("left", PASSWORD),
    }[who]
    response = sign_in(api_client, username, password)
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == [
        "Unable to log in with provided credentials."
    ]
    assert not ApiToken.objects.exists()


# --- Listing ---------------------------------------------------------------------------------


def test_the_list_shows_ones_own_tokens_never_their_keys(api_client):
    user = make_user("teacher", password=PASSWORD)
    other = make_user("other")
    diary = make_api_token(user, name="Diary sync", expires_in_days=7)
    phone = make_api_token(user, name="Phone")
    theirs = make_api_token(other, name="Not yours")
    response = bearer(phone).get("/api/auth/tokens/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    rows = body["results"]
    assert [row["name"] for row in rows] == ["Phone", "Diary sync"]  # newest first
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "is_current",
    }
    assert [row["is_current"] for row in rows] == [True, False]
    assert rows[1]["prefix"] == diary[:8] and rows[1]["expires_at"] is not None
    assert rows[0]["last_used_at"] is not None  # this request used it
    assert rows[1]["last_used_at"] is None
    text = response.content.decode()
    for key in (diary, phone, theirs):
        assert key not in text and token_digest(key) not in text


def test_a_signed_in_session_lists_its_tokens_none_of_them_current(client):
    user = make_user("teacher")
    make_api_token(user, name="Diary sync")
    client.force_login(user)
    rows = client.get("/api/auth/tokens/").json()["results"]
    assert [(row["name"], row["is_current"]) for row in rows] == [("Diary sync", False)]


def test_the_list_comes_in_pages_of_fifty():
    user = make_user("teacher")
    keys = [make_api_token(user, name=f"App {n}") for n in range(51)]
    first = bearer(keys[0]).get("/api/auth/tokens/").json()
    assert first["count"] == 51 and len(first["results"]) == 50 and first["next"]
    second = bearer(keys[0]).get(first["next"]).json()
    assert len(second["results"]) == 1 and second["previous"]
    assert second["results"][0]["name"] == "App 0" and second["results"][0]["is_current"]


def test_listing_needs_credentials(api_client):
    response = api_client.get("/api/auth/tokens/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


# --- Revoking --------------------------------------------------------------------------------


def test_revoking_one_of_ones_tokens_stops_that_key_only():
    user = make_user("teacher")
    phone, diary = make_api_token(user, name="Phone"), make_api_token(user, name="Diary")
    response = bearer(phone).delete(f"/api/auth/tokens/{token_of(diary).pk}/")
    assert response.status_code == 204
    refused = bearer(diary).get("/api/me/")
    assert refused.status_code == 401 and refused.json()["detail"] == "Invalid token."
    assert bearer(phone).get("/api/me/").status_code == 200


@pytest.mark.parametrize("which", ["another user's", "unknown", "out of range"])
def test_revoking_a_token_that_is_not_ones_own_is_404(which):
    key = make_api_token(make_user("teacher"))
    theirs = make_api_token(make_user("other"))
    token_id = {
        "another user's": token_of(theirs).pk,
        "unknown": token_of(theirs).pk + 1000,
        "out of range": 10**30,
    }[which]
    response = bearer(key).delete(f"/api/auth/tokens/{token_id}/")
    assert response.status_code == 404 and "detail" in response.json()
    assert bearer(theirs).get("/api/me/").status_code == 200


def test_an_app_signs_out_by_revoking_the_token_it_uses():
    user = make_user("teacher")
    app, other_app = make_api_token(user, name="App"), make_api_token(user, name="Other")
    assert bearer(app).delete("/api/auth/tokens/current/").status_code == 204
    assert bearer(app).get("/api/me/").status_code == 401
    assert bearer(app).delete("/api/auth/tokens/current/").status_code == 401
    assert bearer(other_app).get("/api/me/").status_code == 200
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["Other"]


def test_signing_out_needs_a_bearer_token_not_a_session(client):
    user = make_user("teacher")
    make_api_token(user)
    client.force_login(user)
    assert client.delete("/api/auth/tokens/current/").status_code == 401
    assert ApiToken.objects.count() == 1


# --- Expiry and use --------------------------------------------------------------------------


def test_an_expired_token_is_a_401_saying_so():
    key = make_api_token(make_user("teacher"), expires_in_days=1)
    assert bearer(key).get("/api/me/").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(key).get("/api/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "This API token has expired: sign in again for a new one."


def test_a_token_of_a_deactivated_user_is_a_401():
    user = make_user("teacher")
    key = make_api_token(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert bearer(key).get("/api/me/").status_code == 401


def test_use_is_noted_at_most_once_an_hour(django_assert_num_queries):
    key = make_api_token(make_user("teacher"))
    client = bearer(key)
    client.get("/api/me/")
    noted = token_of(key).last_used_at
    assert noted is not None
    client.get("/api/me/")
    assert token_of(key).last_used_at == noted  # no write within the hour
    # the token with its user, the user's groups, their calendar link (api/me.py)
    with django_assert_num_queries(3):
        client.get("/api/me/")
    ApiToken.objects.update(last_used_at=noted - timedelta(minutes=61))
    client.get("/api/me/")
    assert token_of(key).last_used_at > noted


# --- Throttling ------------------------------------------------------------------------------


def test_a_school_server_signs_in_a_hundred_users_but_a_guesser_is_stopped_at_ten(api_client):
    for n in range(100):
        make_user(f"pupil{n:03}", password=PASSWORD)
    make_user("head", password=PASSWORD)
    server = APIClient(REMOTE_ADDR="10.1.2.3")
    statuses = [sign_in(server, f"pupil{n:03}").status_code for n in range(100)]
    assert statuses == [200] * 100  # one address, within a minute

    guesser = APIClient(REMOTE_ADDR="10.9.9.9")
    tries = [sign_in(guesser, "head", f"guess{n}").status_code for n in range(11)]
    assert tries == [400] * 10 + [429]
    throttled = sign_in(guesser, "head", "guess11")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0 and "throttled" in throttled.json()["detail"]
    # stopped with the right password too, from another address, spelled differently
    elsewhere = APIClient(REMOTE_ADDR="10.8.8.8")
    assert sign_in(elsewhere, " HEAD ").status_code == 429
    assert sign_in(elsewhere, "pupil007").status_code == 200  # other users are unaffected


def test_the_throttle_keeps_no_username_in_the_cache(api_client):
    make_user("distinctive-name", password=PASSWORD)
    sign_in(api_client, "distinctive-name")
    keys = list(cache._cache)  # the tests' local-memory cache
    assert any("auth_token_user" in key for key in keys)
    assert not [key for key in keys if "distinctive" in key]


def test_one_address_is_capped_too(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth_token_ip": "5/min",
        },
    }
    for n in range(6):
        make_user(f"pupil{n}", password=PASSWORD)
    server = APIClient(REMOTE_ADDR="10.1.2.3")
    statuses = [sign_in(server, f"pupil{n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert sign_in(APIClient(REMOTE_ADDR="10.1.2.4"), "pupil5").status_code == 200


# --- The migration of DRF tokens -------------------------------------------------------------


def test_old_drf_tokens_become_api_tokens_that_keep_working(django_assert_max_num_queries):
    migration = importlib.import_module("webinars.migrations.0010_api_tokens")
    teacher, pupil = make_user("teacher"), make_user("pupil")
    old = [Token.objects.create(user=teacher), Token.objects.create(user=pupil)]
    migration.convert_drf_tokens(apps, None)
    assert not Token.objects.exists()  # no raw key stays in the database
    for drf_token in old:
        token = token_of(drf_token.key)
        assert token.user_id == drf_token.user_id and token.name == "API token"
        assert token.prefix == drf_token.key[:8] and token.created_at == drf_token.created
        assert token.expires_at is None
        assert bearer(drf_token.key).get("/api/me/").status_code == 200
    migration.convert_drf_tokens(apps, None)  # nothing left to convert: a no-op
    assert ApiToken.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_migrating_converts_the_drf_tokens_in_the_database():
    """The real migration, from 0009 to 0010, with a DRF token row written before it; the
    database is migrated to the latest state again afterwards (later tests need it)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("webinars", "0009_register_notices")], [("webinars", "0010_api_tokens")]
    teacher = make_user("teacher")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        drf_token = Token.objects.create(user=teacher)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        assert not Token.objects.exists()
        token = token_of(drf_token.key)
        assert (token.user_id, token.name, token.prefix) == (
            teacher.pk,
            "API token",
            drf_token.key[:8],
        )
        assert bearer(drf_token.key).get("/api/me/").json()["username"] == "teacher"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_staff_see_every_token_in_the_admin_and_revoke_one(admin_client):
    teacher = make_user("teacher", first_name="Anna", last_name="Ivanova")
    key = make_api_token(teacher, name="Diary sync", expires_in_days=30)
    token = token_of(key)
    page = admin_client.get(reverse("api_tokens:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Anna Ivanova (teacher)" in html and "Diary sync" in html and key[:8] in html
    assert "(Europe/Amsterdam)" in html  # times in the school's zone, the zone named
    assert key not in html and token.digest not in html
    assert reverse("api_tokens:add") not in html
    assert admin_client.get(reverse("api_tokens:add")).status_code in (302, 403)
    assert admin_client.get(reverse("api_tokens:edit", args=[token.pk])).status_code in (302, 403)
    inspect = admin_client.get(reverse("api_tokens:inspect", args=[token.pk])).content.decode()
    assert "Diary sync" in inspect and token.digest not in inspect

    response = admin_client.post(reverse("api_tokens:delete", args=[token.pk]))
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert bearer(key).get("/api/me/").status_code == 401


# --- The schema ------------------------------------------------------------------------------


def test_the_schema_tells_the_truth_about_tokens(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    issue = paths["/api/auth/token/"]["post"]
    assert {"200", "400", "429"} <= set(issue["responses"])
    request = issue["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][request.rsplit("/", 1)[-1]]["properties"]
    assert {"username", "password", "name", "expires_in_days"} <= set(fields)
    listed = paths["/api/auth/tokens/"]["get"]["responses"]["200"]
    page = listed["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"count", "next", "previous", "results"} <= set(
        schema["components"]["schemas"][page]["properties"]
    )
    assert {"204", "401", "404"} <= set(
        paths["/api/auth/tokens/{token_id}/"]["delete"]["responses"]
    )
    assert {"204", "401"} <= set(paths["/api/auth/tokens/current/"]["delete"]["responses"])
