"""Shared fixtures. Area-specific fixtures live beside their tests."""

import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import make_user

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only(db):
    """Skip, saying why, unless the suite runs on PostgreSQL (DATABASE_URL)."""
    if not on_postgres():
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://… (.ci/run does)")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_user(db):
    return make_user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user)
    return client
