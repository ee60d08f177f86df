"""Keeping storage and rows in agreement: the hourly check, the sweeps, the admin's retry.

The check (``recording_check``, the body of ``webinars.tasks.check_recordings``) lists, as
``RecordingCheckIssue`` rows shown read-only in the admin, files in recording storage that no
recording refers to (orphans) and READY recordings whose file is missing or whose size or
sha256 differ; it also queues again ingests that stopped without leaving a retry behind. The
admin's retry (``recording_retry``) then recovers what can be recovered. See docs/recordings.md.
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_q.models import Schedule

from webinars.choices import RecordingIssueKind, RecordingStatus
from webinars.models import Recording, RecordingCheckIssue
from webinars.recordings import ingest
from webinars.recordings.errors import RecordingRejected
from webinars.recordings.ingest import WAITING, pending_retries, recording_fail
from webinars.recordings.storage import recording_storage, stored_files, stored_sha256, stored_size

logger = logging.getLogger("webinars.recordings")

STALE_AFTER = timedelta(hours=24)  # JaaS keeps its copy 24 h; Jibri finalizes within minutes
HASH_BUDGET_BYTES = 2 * 1024**3  # re-read per hourly run: every file verified again in turn
NAME_IDS = re.compile(r"(?:^|/)room(\d+)-rec(\d+)-[^/]*$")  # see storage.destination_name


def stalled_after() -> timedelta:
    """Longer than django-q2 lets a task run, so a slow download is never started twice."""
    return timedelta(seconds=int(settings.Q_CLUSTER.get("timeout") or 7200) + 600)


# --- The admin's retry --------------------------------------------------------------------------


def _attach_found_file(recording: Recording) -> None:
    """Point the row at the file the check found under its name, unless its own is in place."""
    found = (
        RecordingCheckIssue.objects.filter(recording=recording, kind=RecordingIssueKind.ORPHAN)
        .values_list("name", flat=True)
        .first()
    )
    current = recording.meta.get("destination")
    if not found or found == current:
        return
    if current and stored_size(storage=recording.file.storage, name=current) is not None:
        return
    logger.info("recording attached to a found file recording=%s name=%s", recording.pk, found)
    recording.meta["destination"] = found


def recording_retry(*, recording: Recording) -> Recording:
    """The admin's "retry": start over with a fresh attempt count (the error history stays).

    Recovers what can be: a file complete at the row's destination, or one the hourly check
    found under this recording's name, finishes the row; a Jibri file still in its directory is
    moved again; a link is downloaded again. READY recordings are left alone.
    """
    if recording.status == RecordingStatus.READY:
        raise RecordingRejected("status", _("This recording is already ready."))
    _attach_found_file(recording)
    if not any(recording.meta.get(key) for key in ("url", "local_path", "destination")):
        raise RecordingRejected(
            "source", _("Nothing to retry: no download link, Jibri file or stored file.")
        )
    recording.meta["attempts"] = 0
    for key in ("error", "next_attempt_at", "attempt_at"):
        recording.meta.pop(key, None)
    restarted = (
        Recording.objects.filter(pk=recording.pk)
        .exclude(status=RecordingStatus.READY)
        .update(status=RecordingStatus.PENDING, meta=recording.meta, updated_at=timezone.now())
    )
    if restarted:
        Schedule.objects.filter(func=ingest.TASK, args=repr(recording.pk)).delete()
        ingest._queue_download(recording)
    recording.refresh_from_db()
    return recording


# --- Sweeps -------------------------------------------------------------------------------------


def recording_requeue_stalled(*, now: datetime, after: timedelta) -> list[int]:
    """Queue again the ingests that stopped without leaving a retry; returns their ids.

    A worker killed mid-attempt, or a database too busy to record the failure, leaves a row
    waiting with nothing scheduled; the next attempt finishes it from wherever it stopped.
    """
    stalled = Recording.objects.filter(
        status__in=WAITING, meta__has_key="source", updated_at__lt=now - after
    ).order_by("id")
    scheduled = pending_retries()
    requeued = []
    for recording in stalled:
        if recording.pk in scheduled:
            continue
        logger.warning("recording ingest stalled, queued again recording=%s", recording.pk)
        ingest._queue_download(recording)
        requeued.append(recording.pk)
    return requeued


def recording_expire_stale(*, now: datetime | None = None, after: timedelta = STALE_AFTER) -> int:
    """FAIL recordings stuck waiting; returns how many. Meant for an hourly schedule.

    Without this a lesson whose file never came (Jibri down, no upload webhook) would show
    "processing" forever, and so would an ingest that kept stopping without finishing. Both
    are FAILED ``after`` (24 h) with the reason in ``meta``, and the teacher is told; editors
    can still retry the second kind.
    """
    now = now or timezone.now()
    cutoff = now - after
    hours = round(after.total_seconds() / 3600)
    waiting = Recording.objects.select_related("room").filter(status__in=WAITING, file="")
    no_file = waiting.filter(room__ended_at__lt=cutoff).exclude(meta__has_key="source")
    stuck = waiting.filter(meta__has_key="source", updated_at__lt=cutoff)
    count = 0
    for recording in no_file:
        message = f"no recording file arrived within {hours} h of the room closing"
        count += recording_fail(recording=recording, message=message)
    for recording in stuck:
        message = f"the ingest stopped without finishing for {hours} h"
        count += recording_fail(recording=recording, message=message)
    return count


# --- The check ----------------------------------------------------------------------------------


@dataclass
class CheckReport:
    files: int = 0
    ready: int = 0
    hashed_bytes: int = 0
    requeued: list[int] = field(default_factory=list)
    issues: list[RecordingCheckIssue] = field(default_factory=list)

    def as_dict(self) -> dict:
        kinds = [issue.kind for issue in self.issues]
        return {
            "files": self.files,
            "ready": self.ready,
            "hashed_bytes": self.hashed_bytes,
            "requeued": self.requeued,
            "issues": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
        }


def _owner(name: str, *, rows: list[Recording]) -> Recording | None:
    """The recording a stray file belongs to: the one whose destination it is, or, for rows
    from before destinations were saved, the one whose ids its name carries."""
    waiting = [r for r in rows if r.status != RecordingStatus.READY and not r.file]
    for row in waiting:
        if row.meta.get("destination") == name:
            return row
    match = NAME_IDS.search(name)
    if match is None:
        return None
    ids = tuple(int(group) for group in match.groups())
    legacy = (r for r in waiting if "destination" not in r.meta and (r.room_id, r.pk) == ids)
    return next(legacy, None)


def _orphans(files: dict[str, int], *, rows: list[Recording], now: datetime) -> list:
    referenced = {row.file.name for row in rows if row.file}
    in_flight = {row.meta.get("destination") for row in rows if row.status in WAITING}
    issues = []
    for name, size in sorted(files.items()):
        if name in referenced or name in in_flight:
            continue
        owner = _owner(name, rows=rows)
        detail = (
            _("Retry recording %(id)s to attach it.") % {"id": owner.pk}
            if owner is not None
            else _("No recording can take it: delete it, or keep it and attach it by hand.")
        )
        issues.append(
            RecordingCheckIssue(
                kind=RecordingIssueKind.ORPHAN,
                name=name,
                recording=owner,
                size_bytes=size,
                detail=detail,
                found_at=now,
            )
        )
    return issues


def _verify_ready(files: dict[str, int], *, rows: list[Recording], now: datetime, budget: int):
    """Issues of READY rows; sha256 re-read for the least recently verified, within ``budget``."""
    issues, hashed, storage = [], 0, recording_storage()
    ready = [row for row in rows if row.status == RecordingStatus.READY]
    to_hash = []
    for row in ready:
        name = row.file.name
        issue = RecordingCheckIssue(recording=row, name=name, found_at=now)
        if not name or name not in files:
            issue.kind, issue.detail = RecordingIssueKind.MISSING, _("Not in recording storage.")
        elif row.size_bytes is not None and files[name] != row.size_bytes:
            issue.kind, issue.size_bytes = RecordingIssueKind.SIZE, files[name]
            issue.detail = _("%(stored)s bytes in storage, %(recorded)s recorded.") % {
                "stored": files[name],
                "recorded": row.size_bytes,
            }
        else:
            to_hash.append(row)
            continue
        issues.append(issue)
    to_hash.sort(key=lambda row: (str(row.meta.get("verified_at") or ""), row.pk))
    for row in to_hash:
        if hashed >= budget:
            break
        size, sha256 = stored_sha256(storage=storage, name=row.file.name)
        hashed += size
        if row.checksum_sha256 and sha256 != row.checksum_sha256:
            issues.append(
                RecordingCheckIssue(
                    kind=RecordingIssueKind.CHECKSUM,
                    recording=row,
                    name=row.file.name,
                    size_bytes=size,
                    detail=_("The stored file's SHA-256 is %(sha)s.") % {"sha": sha256},
                    found_at=now,
                )
            )
            continue
        row.meta["verified_at"] = now.isoformat()
        Recording.objects.filter(pk=row.pk, status=RecordingStatus.READY).update(meta=row.meta)
    return issues, hashed


def recording_check(
    *, now: datetime | None = None, hash_budget_bytes: int = HASH_BUDGET_BYTES
) -> CheckReport:
    """Compare recording storage with the rows; the findings replace the admin's issue list.

    Stalled ingests are queued again first, so a file they will finish is not listed as an
    orphan. Sizes come from one storage listing; sha256 is re-read for the READY files verified
    longest ago, up to ``hash_budget_bytes`` per run (``manage.py recordings_check --all``
    reads every file).
    """
    now = now or timezone.now()
    report = CheckReport(requeued=recording_requeue_stalled(now=now, after=stalled_after()))
    files = stored_files(storage=recording_storage())
    rows = list(Recording.objects.order_by("id"))
    ready_issues, report.hashed_bytes = _verify_ready(
        files, rows=rows, now=now, budget=hash_budget_bytes
    )
    report.issues = _orphans(files, rows=rows, now=now) + ready_issues
    report.files = len(files)
    report.ready = sum(row.status == RecordingStatus.READY for row in rows)
    with transaction.atomic():
        RecordingCheckIssue.objects.all().delete()
        RecordingCheckIssue.objects.bulk_create(report.issues)
    if report.issues:
        logger.warning("recording check found issues %s", report.as_dict()["issues"])
    return report
