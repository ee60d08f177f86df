"""Project-level promises: configuration is documented, the compose file is well-formed."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_lists_every_variable_the_settings_read():
    read = set()
    for path in (ROOT / "portal" / "settings").glob("*.py"):
        read |= set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', path.read_text()))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and not (read - listed), f"missing from .env.example: {sorted(read - listed)}"


def test_compose_file_declares_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "minio", "minio-init", "web", "scheduler", "worker", "redis"} <= set(services)
    assert "migrate" in services["web"]["command"]  # also creates the database cache's table
    assert services["jitsi-web"]["profiles"] == ["jitsi"]
    # Two clusters: the room tick on "lifecycle", downloads on the default one; all on Redis.
    assert "profiles" not in services["redis"]
    for name in ("web", "scheduler", "worker"):
        assert services[name]["environment"]["REDIS_URL"].endswith("redis://redis:6379/0}")
        assert "redis" in services[name]["depends_on"]
    for name in ("scheduler", "worker"):
        assert "qcluster" in services[name]["command"]
        assert int(services[name]["stop_grace_period"].rstrip("s")) >= 20
    assert services["scheduler"]["environment"]["Q_CLUSTER_NAME"] == "lifecycle"
    assert "Q_CLUSTER_NAME" not in services["web"]["environment"]
    assert "Q_CLUSTER_NAME" not in services["worker"]["environment"]


def test_requirements_are_all_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"


# --- SQLite as the embedded default: the run command's web and scheduler write at once -----

WRITER = """
import sys, time
from pathlib import Path
import django
django.setup()
from django.db import connection, transaction
name, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
for n in range(150):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ticks WHERE writer = %s", [name])
        time.sleep(0.002)  # a read, then a write in the same transaction, like a tick
        cursor.execute("INSERT INTO ticks (writer, n) VALUES (%s, %s)", [name, n])
print(name, "done")
"""


def test_two_processes_write_one_sqlite_file_at_once_without_database_is_locked(tmp_path):
    database = tmp_path / "portal.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE ticks (writer TEXT, n INTEGER)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": f"sqlite:///{database}",
        "PYTHONPATH": str(ROOT),
    }
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in ("web", "scheduler")
    ]
    go.touch()
    outputs = [writer.communicate(timeout=120)[0] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], "\n".join(outputs)
    with sqlite3.connect(database) as db:
        counts = dict(db.execute("SELECT writer, count(*) FROM ticks GROUP BY writer"))
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert counts == {"web": 150, "scheduler": 150}
    assert journal == "wal"


# --- One cache for every process: throttles and page invalidation hold across workers -------

GUEST = """
import sys
import django
django.setup()
from django.test import RequestFactory
from rest_framework.request import Request
from webinars.api.throttles import PublicJoinIpThrottle
from webinars.public import caching
action = sys.argv[1]
if action == "join":
    request = Request(RequestFactory().post("/api/public/rooms/x/join/", REMOTE_ADDR="10.0.0.7"))
    allowed = sum(PublicJoinIpThrottle().allow_request(request, None) for _ in range(15))
    print("allowed", allowed)
elif action == "cache-page":  # this worker looks the open-lessons page up and keeps it
    caching.open_lessons_route(load=lambda: "page")
elif action == "clear-page":  # an editor publishes the page in another worker
    caching.open_lessons_page_changed()
else:  # a third worker: the cached page, or what it would load itself
    print("cached", caching.open_lessons_route(load=lambda: None))
"""


def test_without_redis_every_process_shares_one_cache_so_throttles_count_across_workers(
    tmp_path,
):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "school.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "REDIS_URL": "",
        "THROTTLE_PUBLIC_JOIN_IP": "20/min",
        "PYTHONPATH": str(ROOT),
    }

    def worker(action: str) -> str:  # a fresh process each time, like another gunicorn worker
        done = subprocess.run(
            [sys.executable, "-c", GUEST, action],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    manage = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]  # creates the table
    subprocess.run(manage, cwd=ROOT, env=env, check=True, timeout=300)
    assert worker("join") == "allowed 15"
    assert worker("join") == "allowed 5"  # the second worker saw the first one's 15
    worker("cache-page")
    assert worker("read-page") == "cached page"
    worker("clear-page")  # an editor's publish, handled by another worker
    assert worker("read-page") == "cached None"


# --- Two clusters: the room tick's Schedule names the lifecycle cluster, configured apart ----

CLUSTER_CONF = """
import django
django.setup()
from django_q.conf import Conf
print(Conf.CLUSTER_NAME, Conf.PREFIX, Conf.WORKERS, Conf.TIMEOUT, Conf.RETRY, Conf.QUEUE_LIMIT)
"""


def cluster_conf(**env) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", CLUSTER_CONF],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_room_tick_runs_on_the_lifecycle_cluster_with_a_short_timeout():
    from webinars.schedules import LIFECYCLE_CLUSTER, MAINTAIN_ROOMS, SCHEDULES

    routes = {spec["name"]: spec["cluster"] for spec in SCHEDULES}
    assert routes[MAINTAIN_ROOMS] == LIFECYCLE_CLUSTER
    assert all(cluster is None for name, cluster in routes.items() if name != MAINTAIN_ROOMS)
    work = cluster_conf(Q_CLUSTER_NAME="")
    lifecycle = cluster_conf(Q_CLUSTER_NAME=LIFECYCLE_CLUSTER)
    # name, prefix (signing salt: the same for both), workers, timeout, retry, queue limit
    assert work == ["portal", "portal", "2", "7200", "7260", "2"]
    assert lifecycle == ["lifecycle", "portal", "1", "50", "60", "1"]
