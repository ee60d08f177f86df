"""Shared fixtures. Area-specific fixtures live beside their tests."""

import os

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import make_user
from webinars.events import recording_state_changed, room_closed, room_opened

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and shared pages live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


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


def pytest_collection_modifyitems(items):
    """Transactional tests (live server, threads, subprocesses) flush the database when they end,
    which would also remove what data migrations created (the site's HomePage, the staff groups).
    ``serialized_rollback`` restores that content at the start of each such test."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = {"live_server", "transactional_db"} & set(item.fixturenames) or (
            marker is not None and marker.kwargs.get("transaction")
        )
        if transactional:
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False
            )


@pytest.fixture
def heard():
    """Every room/recording event sent while the test runs, in order."""
    events = []

    def listen(sender, event, **kwargs):
        events.append(event)

    signals = (room_opened, room_closed, recording_state_changed)
    for signal in signals:
        signal.connect(listen, weak=False, dispatch_uid="test-heard")
    yield events
    for signal in signals:
        signal.disconnect(dispatch_uid="test-heard")
