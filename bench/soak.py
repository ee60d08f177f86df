"""Soak: 50,000 mixed requests on gunicorn 3 × 4 + PostgreSQL + Redis; errors and worker memory.

    .venv/bin/python bench/soak.py [--requests 50000] [--concurrency 24]

What it does, all on 127.0.0.1, bounded and cleaned up at the end:
1. creates a fresh PostgreSQL database (``bench_soak``; dropped afterwards) and migrates it with
   production settings (DEBUG off; only the HTTPS redirect and the static manifest off), Redis database 5 as the cache and
   broker (``SOAK_REDIS_URL``; flushed before and after), JWT on and the per-link guest cap raised;
2. seeds an open lesson whose room is open, its teacher, 200 enrolled students with API tokens and
   the site's open-lessons page (the demo's page tree);
3. starts gunicorn as the Dockerfile runs it (3 workers × 4 threads) and sends ``--requests`` in
   a closed loop from ``--concurrency`` clients, each on a fresh connection from its own address
   (X-Forwarded-For behind ``NUM_PROXIES=1``), cycling through six kinds: the feed API, the
   open-lessons page, a join page, a guest join, a student's Bearer join and its permissions;
4. samples each web worker's RSS once the first tenth (the warm-up) is done and at the end.

Targets (issue 11): 0 errors; each worker's RSS grows < 10% from warm-up to the end. Prints a
table per request kind and per worker; exits 1 when a target is missed.
"""

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import psutil
from bench_join import request
from harness import admin_sql, free_port, stop_group, wait_ready

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_soak")
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/5")

SETTINGS_MODULE = textwrap.dedent(
    """
    import os

    os.environ["SECRET_KEY"] = "bench-soak-secret-key-not-for-production-0123456789"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    from portal.settings.production import *  # noqa: F403

    JITSI_JWT_ENABLED = True
    JITSI_JWT_SECRET = "bench-soak-jitsi-secret-at-least-32-bytes-long"
    STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }  # no collectstatic run for the soak: the pages link the source files
    LOGGING["loggers"]["webinars"]["level"] = "WARNING"
    """
)


def seed(n_students: int) -> dict:
    """Runs here with the soak settings: the rows and pages the requests use."""
    import django

    django.setup()
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from tests.factories import (
        enroll,
        make_api_token,
        make_lesson,
        make_room,
        make_subject,
        make_user,
    )
    from webinars.choices import RoomStatus
    from webinars.management.commands.seed_demo import ensure_site_sections

    ensure_site_sections()
    subject = make_subject("Soak subject", "SOAK")
    lesson = make_lesson(
        subject=subject,
        teacher=make_user("soak-teacher"),
        start=timezone.now() + timedelta(minutes=5),
        duration=timedelta(minutes=45),
        is_open=True,
        title="Soak lesson",
    )
    room = make_room(lesson, status=RoomStatus.OPEN)
    tokens = []
    for n in range(n_students):
        student = make_user(f"soak-student-{n}")
        enroll(student, subject)
        tokens.append(make_api_token(student))
    connection.close()
    return {"room_id": room.pk, "slug": room.public_slug, "tokens": tokens}


def request_kinds(data: dict) -> dict:
    """name → (method, path, uses a token, body)."""
    room_id, slug = data["room_id"], data["slug"]
    return {
        "feed API": ("GET", "/api/rooms/open-lessons/", False, None),
        "open-lessons page": ("GET", "/open-lessons/", False, None),
        "join page": ("GET", f"/join/{slug}/", False, None),
        "guest join": ("POST", f"/api/rooms/public/{slug}/join/", False, {"display_name": "Ann"}),
        "Bearer join": ("POST", f"/api/rooms/{room_id}/join/", True, None),
        "permissions": ("GET", f"/api/rooms/{room_id}/permissions/", True, None),
    }


def soak(port: int, data: dict, *, total: int, concurrency: int, on_warm) -> dict:
    """Closed loop over the kinds in turn; ``on_warm()`` runs once a tenth has been answered."""
    kinds = list(request_kinds(data).items())
    counter = itertools.count()
    lock = threading.Lock()
    results = {name: {"latencies": [], "errors": {}} for name, _spec in kinds}
    done = {"n": 0, "warm": False}
    warm_at = max(1, total // 10)
    tokens = data["tokens"]
    deadline = time.monotonic() + 3600  # bounded whatever happens to the server

    def client():
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= total:
                return
            name, (method, path, with_token, body) = kinds[n % len(kinds)]
            if body is not None:
                body = {"display_name": f"{body['display_name']} {n}"}
            began = time.monotonic()
            try:
                status = request(
                    port,
                    method,
                    path,
                    token=tokens[n % len(tokens)] if with_token else None,
                    body=body,
                    client_ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                    timeout=30,
                )
            except OSError as exc:
                status = type(exc).__name__
            elapsed = time.monotonic() - began
            warm_now = False
            with lock:
                entry = results[name]
                entry["latencies"].append(elapsed)
                if status != 200:
                    entry["errors"][status] = entry["errors"].get(status, 0) + 1
                done["n"] += 1
                if done["n"] >= warm_at and not done["warm"]:
                    done["warm"] = warm_now = True
            if warm_now:
                on_warm()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"kinds": results, "elapsed": time.monotonic() - started, "answered": done["n"]}


def worker_rss(master_pid: int) -> dict[int, int]:
    return {child.pid: child.memory_info().rss for child in psutil.Process(master_pid).children()}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def report(outcome: dict, warm: dict[int, int], end: dict[int, int]) -> bool:
    print(f"\n{'request':<18} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8}")
    errors = 0
    for name, entry in outcome["kinds"].items():
        latencies = entry["latencies"]
        failed = sum(entry["errors"].values())
        errors += failed
        print(
            f"{name:<18} {len(latencies):>7} {failed:>7} "
            f"{statistics.median(latencies) * 1000:>8.1f} {percentile(latencies, 99) * 1000:>8.1f}"
            + (f"   {entry['errors']}" if failed else "")
        )
    rate = outcome["answered"] / outcome["elapsed"]
    print(f"{'all':<18} {outcome['answered']:>7} {errors:>7}   {rate:.0f} req/s")
    print(f"\n{'worker pid':<12} {'RSS warm MB':>12} {'RSS end MB':>11} {'growth':>8}")
    growths = []
    for pid, before in sorted(warm.items()):
        after = end.get(pid)
        if after is None:
            print(f"{pid:<12} {before / 2**20:>12.1f} {'gone':>11}")
            growths.append(float("inf"))
            continue
        growth = (after - before) / before
        growths.append(growth)
        print(f"{pid:<12} {before / 2**20:>12.1f} {after / 2**20:>11.1f} {growth:>8.1%}")
    ok = errors == 0 and bool(growths) and max(growths) < 0.10
    print(
        f"\ntargets {'met' if ok else 'NOT met'}: errors {errors} (0), "
        f"largest worker RSS growth {max(growths):.1%} (< 10%)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    import redis

    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    (tmp / "bench_soak_settings.py").write_text(SETTINGS_MODULE)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_soak_settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": f"{tmp}{os.pathsep}{REPO}",
        "NUM_PROXIES": "1",  # each client sends its own address, as parents from home would
        "THROTTLE_PUBLIC_JOIN_SLUG": "1000000/min",  # one link for every guest of the soak
        "HOME": str(tmp),  # gunicorn keeps its control socket under $HOME/.gunicorn
        "STATIC_ROOT": str(tmp / "static"),  # empty: WhiteNoise finds the directory it expects
    }
    (tmp / "static").mkdir()
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "NUM_PROXIES"):
        os.environ[key] = env[key]
    os.environ["THROTTLE_PUBLIC_JOIN_SLUG"] = env["THROTTLE_PUBLIC_JOIN_SLUG"]
    sys.path[:0] = [str(tmp), str(REPO)]
    cache_db = redis.Redis.from_url(REDIS_URL)

    print(f"database {DB_NAME}: create and migrate; Redis {REDIS_URL} flushed …", flush=True)
    cache_db.flushdb()
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    server = None
    try:
        manage = [str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"]
        subprocess.run(manage, cwd=REPO, env=env, check=True, timeout=900)
        data = seed(args.students)
        port = free_port()
        server = subprocess.Popen(
            [
                str(GUNICORN),
                "portal.wsgi:application",
                *("--workers", str(args.workers), "--threads", str(args.threads)),
                *("--bind", f"127.0.0.1:{port}", "--timeout", "30", "--backlog", "2048"),
                *("--log-level", "warning"),
            ],
            cwd=REPO,
            env=env,
            start_new_session=True,
        )
        wait_ready(port, "/api/health/", seconds=120)
        print(
            f"soak: {args.requests} requests, {args.concurrency} clients, gunicorn "
            f"{args.workers} workers × {args.threads} threads, six kinds in turn …",
            flush=True,
        )
        warm: dict[int, int] = {}
        outcome = soak(
            port,
            data,
            total=args.requests,
            concurrency=args.concurrency,
            on_warm=lambda: warm.update(worker_rss(server.pid)),
        )
        end = worker_rss(server.pid)
        return 0 if report(outcome, warm, end) else 1
    finally:
        if server is not None:  # only the gunicorn this script started, by its process group
            stop_group(server, timeout=30)
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        cache_db.flushdb()
        print(f"database {DB_NAME} dropped, Redis database flushed")


if __name__ == "__main__":
    sys.exit(main())
