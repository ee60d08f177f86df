"""Token exchange, health, schema and JSON errors: the API's common ground."""

import subprocess
import sys

import pytest

from tests.factories import make_user
from webinars.models import ApiToken, Heartbeat
from webinars.models_tokens import token_digest
from webinars.selectors.health import SCHEDULER_HEARTBEAT


@pytest.mark.django_db
def test_password_exchange_gives_a_bearer_token_that_authenticates(api_client):
    user = make_user("teacher", password="s3cret-pass")
    response = api_client.post(
        "/api/auth/token/", {"username": "teacher", "password": "s3cret-pass"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(user=user).digest == token_digest(token)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/me/").json()["username"] == "teacher"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    response = api_client.get("/api/me/")
    assert response.status_code == 401 and "detail" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({"password": "x"}, "username"), ({"username": "x"}, "password")],
)
def test_token_exchange_errors_name_the_field(api_client, body, field):
    response = api_client.post("/api/auth/token/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"] and field in response.json()["detail"]


@pytest.mark.django_db
def test_malformed_json_is_a_json_400(api_client):
    response = api_client.post("/api/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json()["detail"]


@pytest.mark.django_db
def test_health_reports_database_and_scheduler_heartbeat(api_client):
    body = api_client.get("/api/health/").json()
    assert body["database"] == "ok" and body["scheduler"]["status"] == "never_ran"
    from django.utils import timezone

    Heartbeat.objects.create(name=SCHEDULER_HEARTBEAT, beat_at=timezone.now())
    assert api_client.get("/api/health/").json()["scheduler"]["status"] == "ok"


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/health/" in schema.content.decode()
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_wagtail_api_v2_serves_pages(client):
    response = client.get("/api/v2/pages/")
    assert response.status_code == 200 and response.json()["meta"]["total_count"] >= 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "school.example"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_to_start_without_secrets(env, message):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "PATH": "/usr/bin:/bin",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and message in result.stderr
