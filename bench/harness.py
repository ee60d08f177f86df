"""What the benchmarks share: the PostgreSQL admin connection, free local ports, and (the benches
on gunicorn: bench_pages, bench_join, bench_api_lists) a migrated bench database, the trivial
baselines, gunicorn and timed requests."""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def admin_sql(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE …) on the server's admin database."""
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(statement)


def redis_cache_env() -> tuple[dict, str]:
    """``REDIS_URL`` for a bench when Redis answers at BENCH_REDIS_URL (production's cache and
    broker, docker-compose.yml), else nothing (the database cache table: a throttle then costs
    a few queries and a commit per request); and the cache's name, to print."""
    import redis

    try:
        redis.Redis.from_url(BENCH_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        return {}, "database cache table (no Redis at BENCH_REDIS_URL)"
    return {"REDIS_URL": BENCH_REDIS_URL}, f"Redis ({BENCH_REDIS_URL})"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- A bench database, a bench urlconf, gunicorn and timed requests ----------------------------

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"

# Settings for a bench run: ``{base}`` (the portal's base settings unless a bench asks for
# production's; every variable read from the environment, which ``bench_database`` sets: the
# bench database, SECRET_KEY, ALLOWED_HOSTS and the caller's ``extra_env``), DEBUG off, one
# bench urlconf. ``{urls}`` is the urlconf module's name.
BENCH_SETTINGS = textwrap.dedent(
    """
    from {base} import *  # noqa: F403

    DEBUG = False
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    ROOT_URLCONF = "{urls}"
    STORAGES["staticfiles"] = {{
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }}
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {{
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1000000/min"
    }}
    LOGGING["loggers"]["webinars"]["level"] = "WARNING"
    """
)

# The baselines, in front of the portal's own urls: a trivial Django view (``/bench/ping/``)
# and a trivial authenticated DRF endpoint (``/bench/ping-api/``, the portal's authentication).
BENCH_URLS = textwrap.dedent(
    """
    from django.http import HttpResponse
    from django.urls import path
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from portal.urls import urlpatterns as portal_urlpatterns


    def bench_ping(request):
        '''The trivial Django view.'''
        return HttpResponse("ok", content_type="text/plain")


    class BenchPingApi(APIView):
        '''The trivial authenticated DRF endpoint.'''

        permission_classes = [IsAuthenticated]

        def get(self, request):
            return Response({"ok": True, "user": request.user.pk})


    urlpatterns = [
        path("bench/ping/", bench_ping),
        path("bench/ping-api/", BenchPingApi.as_view()),
        *portal_urlpatterns,
    ]
    """
)


@contextmanager
def bench_database(
    name: str,
    *,
    base_settings: str = "portal.settings.base",
    extra_env: dict | None = None,
    keep: bool = False,
    reuse: bool = False,
):
    """A fresh PostgreSQL database ``name``, migrated, with Django set up in this process on
    the bench settings (``BENCH_SETTINGS`` over ``base_settings``, ``BENCH_URLS``); yields the
    environment a server needs. ``extra_env`` reaches the settings here and in the server
    (over the bench's own variables). The database is dropped at the end, whatever happens,
    unless ``keep`` (then ``reuse`` takes it as it is next time, for repeated measurements)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    settings_name, urls_name = f"{name}_settings", f"{name}_urls"
    (workdir / f"{settings_name}.py").write_text(
        BENCH_SETTINGS.format(base=base_settings, urls=urls_name)
    )
    (workdir / f"{urls_name}.py").write_text(BENCH_URLS)
    settings_env = {
        "DATABASE_URL": f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
        "DJANGO_SETTINGS_MODULE": settings_name,
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        **(extra_env or {}),
    }
    env = {
        **os.environ,
        "PYTHONPATH": f"{workdir}{os.pathsep}{REPO}",
        "HOME": str(workdir),  # gunicorn keeps its control socket under $HOME/.gunicorn
        **settings_env,
    }
    os.environ.update(settings_env)
    sys.path[:0] = [str(workdir), str(REPO)]
    if not reuse:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            [str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
            timeout=900,
        )
        import django

        django.setup()
        yield env
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if keep:
            print(f"database {name} kept (--reuse takes it next time)")
        else:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"database {name} dropped")


@contextmanager
def gunicorn(env: dict, *, workers: int = 2, threads: int = 1, timeout: int = 60):
    """gunicorn serving the portal on a free local port (yielded), ``threads`` per worker (1:
    sync workers), a worker silent for ``timeout`` seconds restarted; stopped at the end, by
    its own process group only."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            str(timeout),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    try:
        wait_ready(port, "/bench/ping/", seconds=60)
        yield port
    finally:
        stop_group(server)


def wait_ready(port: int, path: str, *, seconds: float) -> None:
    """Until ``path`` answers 200 on ``port``; a RuntimeError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if timed_get(port, path)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not become ready in time")
        time.sleep(0.2)


def stop_group(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 20):
    """Stop a server this bench started in its own session (``start_new_session``): ``sig`` to
    its process group only, then SIGKILL if it has not ended within ``timeout`` seconds."""
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def timed_request(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: dict | None = None,
    headers: dict | None = None,
    timeout: float = 60,
) -> tuple[int, float]:
    """One request on a fresh connection (as browsers from many homes would open): ``(status,
    seconds)``. ``token`` goes as a Bearer token, ``body`` as JSON, ``headers`` on top."""
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def timed_get(port: int, path: str, *, token: str | None = None) -> tuple[int, float]:
    """One GET on a fresh connection: ``(status, seconds)``."""
    return timed_request(port, "GET", path, token=token)


def interleaved_latencies(port: int, calls: dict[str, tuple[str, str | None]], n: int) -> dict:
    """``{name: (median ms, p90 ms)}`` for ``calls`` (``name: (path, token)``), sent round-robin
    after a warm-up so the machine's noise hits all alike. ``{n}`` in a path becomes a fresh
    number per request."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for path, token in calls.values():
        for i in range(5):
            timed_get(port, path.replace("{n}", f"9{i}"), token=token)
    for i in range(n):
        for name, (path, token) in calls.items():
            status, seconds = timed_get(port, path.replace("{n}", str(i)), token=token)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            samples[name].append(seconds * 1000)
    return {
        name: (statistics.median(values), statistics.quantiles(values, n=10)[-1])
        for name, values in samples.items()
    }
