"""Run the room scheduler tick from cron or as a loop, without a django-q2 cluster.

    manage.py webinar_maintain --once            # one tick, prints its summary
    manage.py webinar_maintain --interval 60     # loop until SIGTERM/SIGINT (Ctrl-C)

The loop ticks at the start of each interval and stops between ticks on SIGTERM or SIGINT, so a
process supervisor can stop it cleanly. It runs the same service as the cluster's Schedule, and
ticks are safe to overlap with it.
"""

import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from webinars.services.tick import maintain_rooms


class Command(BaseCommand):
    help = "Create, open and close the rooms that are due (one tick with --once, else a loop)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument(
            "--interval", type=float, default=60.0, help="Seconds between ticks (default 60)."
        )
        parser.add_argument(
            "--max-ticks", type=int, default=0, help="Stop after this many ticks (0: never)."
        )

    def handle(self, *args, once: bool, interval: float, max_ticks: int, **options):
        if interval <= 0:
            raise CommandError("--interval must be positive.")
        if once:
            self._tick()
            return
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, lambda *_: stop.set())
        ticks = 0
        try:
            while not stop.is_set():
                began = time.monotonic()
                if not connection.in_atomic_block:  # a long-lived loop: drop stale connections
                    close_old_connections()
                self._tick()
                ticks += 1
                if max_ticks and ticks >= max_ticks:
                    break
                stop.wait(max(0.0, interval - (time.monotonic() - began)))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"stopped after {ticks} tick(s)")

    def _tick(self) -> None:
        result = maintain_rooms()
        self.stdout.write(result.summary())
        self.stdout.flush()
