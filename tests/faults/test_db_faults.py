"""The database goes away under the site: a clear 503, never a 500, and recovery by itself.

A real gunicorn (2 workers × 2 threads, persistent connections as in production) serves the
test database while another connection kills the app's connections (``pg_terminate_backend``)
again and again. Requests caught by a kill answer 503 (JSON with Retry-After on /api/, the
friendly page elsewhere); once the killing stops, every request succeeds without a restart.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from unittest import mock

import psycopg
import pytest
import requests
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from portal.middleware import server_error
from tests.factories import make_api_token, make_lesson, make_room, make_user
from tests.test_run_command import free_port
from tests.webinars.test_scheduler import _database_url
from webinars.choices import RoomStatus

KILL_SECONDS = 4.0
CLIENTS = 4


def _fail_every_query():
    error = OperationalError("server closed the connection unexpectedly")
    return mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=error)


@pytest.mark.django_db
def test_a_database_error_is_a_json_503_for_the_api_and_a_page_for_people():
    room = make_room(make_lesson(is_open=True))
    client = Client(raise_request_exception=False)
    with _fail_every_query():
        api = client.get("/api/rooms/open-lessons/")
        page = client.get(f"/join/{room.public_slug}/", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api["Content-Type"] == "application/json"
    assert "database" in api.json()["detail"]
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert page["Content-Type"].startswith("text/html")
    assert "Back in a moment" in page.content.decode()


def test_a_database_error_in_a_middleware_is_a_503_too():
    request = RequestFactory().get("/my/")
    try:
        raise OperationalError("the session table is locked")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and b"Back in a moment" in response.content
    try:
        raise ValueError("a real bug")
    except ValueError:
        assert server_error(request).status_code == 500


def _kill_app_connections(dsn: str, spare: int, stop: threading.Event, killed: list) -> None:
    """Terminates the app's sessions on the test database (not the test's own, ``spare``),
    every 20 ms, until ``stop``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                [spare],
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))
            stop.wait(0.02)


def _traffic(base: str, urls: list[str], token: str, until: float, seen: Counter, bad: list):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"  # each API call reads its token
    n = 0
    while time.monotonic() < until:
        url = urls[n % len(urls)]
        n += 1
        response = session.get(base + url, timeout=15)
        kind = response.headers.get("Content-Type", "")
        seen[(url.startswith("/api/"), response.status_code)] += 1
        expected = "application/json" if url.startswith("/api/") else "text/html"
        if response.status_code not in (200, 503) or not kind.startswith(expected):
            bad.append(f"{url} → {response.status_code} {kind} {response.text[:200]}")
        elif response.status_code == 503 and response.headers.get("Retry-After") != "5":
            bad.append(f"{url} → 503 without Retry-After")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_connections_killed_during_traffic_fail_cleanly_and_recover_without_restart(
    postgres_only, tmp_path
):
    lesson = make_lesson(is_open=True, start=datetime.now(UTC) + timedelta(minutes=5))
    room = make_room(lesson, status=RoomStatus.OPEN)
    token = make_api_token(make_user("office", is_staff=True))
    urls = ["/api/rooms/open-lessons/", f"/api/rooms/{room.pk}/", f"/join/{room.public_slug}/"]
    database_url, _sqlite = _database_url(tmp_path)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url,
        "DB_CONN_MAX_AGE": "60",  # persistent connections: the ones a kill leaves broken
        "HOME": str(tmp_path),  # gunicorn keeps its control socket under $HOME
    }
    gunicorn = [sys.executable, "-m", "gunicorn", "portal.wsgi:application"]
    server = subprocess.Popen(
        [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=(tmp_path / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/api/health/", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail("gunicorn did not answer within 60 s")

        seen, bad, killed = Counter(), [], []
        stop = threading.Event()
        dsn = database_url.replace("postgres://", "postgresql://")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            spare = cursor.fetchone()[0]
        killer = threading.Thread(target=_kill_app_connections, args=(dsn, spare, stop, killed))
        until = time.monotonic() + KILL_SECONDS
        clients = [
            threading.Thread(target=_traffic, args=(base, urls, token, until, seen, bad))
            for _ in range(CLIENTS)
        ]
        killer.start()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=60)
        stop.set()
        killer.join(timeout=10)

        print(f"(is API, status) while killing: {dict(seen)}; sessions killed: {sum(killed)}")
        assert not bad, "\n".join(bad[:20])
        assert sum(killed) > 0, "no connection was killed: the test proved nothing"
        assert seen[(True, 503)] + seen[(False, 503)] > 0, f"no request was caught: {seen}"

        after = Counter()
        headers = {"Authorization": f"Bearer {token}"}
        for url in urls * 10:  # no restart: the same workers, new connections
            after[requests.get(base + url, headers=headers, timeout=15).status_code] += 1
        assert after == Counter({200: len(urls) * 10}), after
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
