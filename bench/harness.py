"""What the benchmarks share: the PostgreSQL admin connection and free local ports."""

import os
import socket

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def admin_sql(statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE …) on the server's admin database."""
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(statement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
