"""Fault injection: the real code paths, with only the edges broken (storage, database, clock)."""

import socket
import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections

from webinars.recordings.storage import recording_storage, stored_files


class ProcessKilled(BaseException):  # noqa: N818 - it stands for a signal, not an error
    """What a SIGKILL looks like from inside: nothing after it runs, no handler sees it."""


def new_stored_files(before: dict[str, int]) -> dict[str, int]:
    """Files in recording storage that were not there before (other tests leave theirs)."""
    return {
        name: size
        for name, size in stored_files(storage=recording_storage()).items()
        if name not in before
    }


@contextmanager
def database_locked():
    """Another connection holds the write lock until the block ends.

    SQLite: ``BEGIN IMMEDIATE`` on a second connection (our writes then fail with "database is
    locked", or "database table is locked" on the shared in-memory test database); the busy
    timeout of ours is shortened so the test does not wait for it. PostgreSQL: ``LOCK TABLE …
    IN EXCLUSIVE MODE`` (reads pass, writes and row locks wait) with a short ``lock_timeout``.
    """
    other = connections.create_connection("default")
    other.ensure_connection()
    raw = other.connection
    busy_timeout = None
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        busy_timeout = connection.connection.execute("PRAGMA busy_timeout").fetchone()[0]
        connection.connection.execute("PRAGMA busy_timeout = 200")
        raw.isolation_level = None
        raw.execute("BEGIN IMMEDIATE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        raw.autocommit = False
        raw.execute("LOCK TABLE webinars_recording IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        raw.rollback()
        other.close()
        if busy_timeout is not None:
            connection.connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
        else:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


class TcpSwitch:
    """A TCP forwarder on 127.0.0.1 in front of a server: ``cut()`` stops it like a crash.

    Cutting closes the listening socket (new connections are refused) and every open
    connection; ``restore()`` listens again on the same port. With ``cut_after`` the switch
    cuts itself once that many bytes have gone from the clients to the server.
    """

    def __init__(self, target_port: int, *, cut_after: int | None = None):
        self.target_port = target_port
        self.cut_after = cut_after
        self.sent = 0
        self.was_cut = threading.Event()
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.restore()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, []
        for sock in [s for s in (listener,) if s is not None] + sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.was_cut.set()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upload: bool) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
                if upload:
                    self.sent += len(chunk)
                    if self.cut_after is not None and self.sent >= self.cut_after:
                        self.cut_after = None
                        self.cut()
                        return
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def storage_before():
    return stored_files(storage=recording_storage())
