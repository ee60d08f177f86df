"""The README's run command, end to end: it serves the site, the admin login and the schema."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_run_command_serves_the_portal_with_demo_logins(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
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
        deadline = time.monotonic() + 120
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/health/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail("the portal did not answer within 120 s")

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
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            out, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
        output.append(out)
    text = "".join(output)
    assert f"http://127.0.0.1:{port}/" in text and "cedar-demo" in text and "teacher1" in text
