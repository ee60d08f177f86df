"""django-q2's ``qcluster``, stopping within ``Q_STOP_GRACE`` seconds of SIGTERM or SIGINT.

django-q2 stops by letting each worker finish the task in hand, and a recording download may
take up to ``Q_TIMEOUT`` (hours): ``docker stop``, systemd or Ctrl-C on scripts/run.sh would
wait that long. This command (it takes the place of django-q2's, same options) asks the
cluster to stop as django-q2 does, waits up to the grace, then terminates what still runs. A
task cut short this way is handed out again by the broker after ``retry`` seconds; recording
ingest is built to be retried. See docs/operations.md.
"""

import logging
import os
import signal
import threading

import psutil
from django.conf import settings
from django_q.management.commands.qcluster import Command as DjangoQCommand

logger = logging.getLogger("portal.cluster")


class Command(DjangoQCommand):
    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - as django-q2's: tasks are signed with it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        from django_q.cluster import Cluster

        cluster = Cluster()  # installs django-q2's blocking stop handlers: replaced below
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        cluster.start()
        if options.get("run_once"):
            stop.set()
        while not stop.wait(0.5):
            if not cluster.sentinel.is_alive():  # let the supervisor restart the cluster
                logger.error("cluster sentinel died (exit %s)", cluster.sentinel.exitcode)
                raise SystemExit(1)
        cluster_stop(cluster=cluster, grace=settings.Q_STOP_GRACE)


def cluster_stop(*, cluster, grace: float) -> None:
    """django-q2's stop, bounded: after ``grace`` seconds the tasks still running are ended.

    The workers are terminated, not the sentinel: it notices, reaps them and finishes its own
    orderly stop (the monitor saves what had finished). Only a sentinel that still hangs is
    killed.
    """
    sentinel = cluster.sentinel
    logger.info("cluster stopping (at most %s s) pid=%s", grace, sentinel.pid)
    cluster.stop_event.set()
    sentinel.join(grace)
    if sentinel.is_alive():
        try:
            busy = psutil.Process(sentinel.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            busy = []
        logger.warning(
            "cluster still busy after %s s: terminating %d process(es); their tasks are retried",
            grace,
            len(busy),
        )
        for process in busy:
            try:
                process.terminate()
            except psutil.NoSuchProcess:
                pass
        sentinel.join(5)
    if sentinel.is_alive():
        sentinel.kill()
        sentinel.join(5)
    logger.info("cluster stopped pid=%s", sentinel.pid)
