"""The README's run command, end to end: it serves the site, the admin login and the schema,
runs both clusters with logs that append, and Ctrl-C stops everything it started."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_processes(session_id: int) -> list[psutil.Process]:
    """Every live process of a session (run.sh was started as its leader)."""
    found = []
    for process in psutil.process_iter():
        try:
            if os.getsid(process.pid) == session_id and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return found


@pytest.mark.slow
def test_run_command_serves_the_portal_with_demo_logins(tmp_path):
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "lifecycle.log").write_text("a line from the previous run\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_DIR": str(logs),
    }
    env.pop("DATABASE_URL_TEST", None)
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 300  # setup, migrate and seed: slow on a busy machine
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/health/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail("the portal did not answer within 300 s")

        session = requests.Session()
        assert session.get(f"{base}/", timeout=10).status_code == 200
        login = session.get(f"{base}/admin/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        dashboard = session.post(
            f"{base}/admin/login/",
            data={"username": "admin", "password": "cedar-demo", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/admin/login/"},
            timeout=10,
        )
        assert dashboard.url.rstrip("/").endswith("/admin") and "Webinars" in dashboard.text
        schema = session.get(f"{base}/api/schema/", timeout=30)
        assert schema.status_code == 200 and "openapi" in schema.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            "running" in (logs / name).read_text() for name in ("lifecycle.log", "work.log")
        ):
            time.sleep(0.5)
        started = len(session_processes(process.pid))
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        stop_began = time.monotonic()
        try:
            out, _ = process.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
            pytest.fail(f"run.sh still running 45 s after Ctrl-C:\n{out}")
        output.append(out)
    stop_seconds = time.monotonic() - stop_began
    text = "".join(output)
    assert f"http://127.0.0.1:{port}/" in text and "cedar-demo" in text and "teacher1" in text
    # The school's words only: no banner of the development server, no reloader.
    assert "Starting development server" not in text and "Watching for file" not in text
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not session_processes(process.pid), "processes left behind after Ctrl-C"
    assert started >= 1 + 2 * 4  # the web server (no reloader), 2 clusters × (main, sentinel, …)
    assert stop_seconds < 40
    lifecycle = (logs / "lifecycle.log").read_text()
    assert lifecycle.startswith("a line from the previous run")  # appended, not overwritten
    assert (
        "[lifecycle] running" in lifecycle and "[portal] running" in (logs / "work.log").read_text()
    )
