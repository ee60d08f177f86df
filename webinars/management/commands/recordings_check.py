"""Compare recording storage with the recordings, now (the hourly task does the same).

    manage.py recordings_check          # sizes of all, sha256 of the files verified longest ago
    manage.py recordings_check --all    # re-read the sha256 of every READY file

Prints what it found; the findings also replace the admin's "Recording check" list.
"""

from django.core.management.base import BaseCommand

from webinars.recordings import recording_check
from webinars.recordings.recovery import HASH_BUDGET_BYTES


class Command(BaseCommand):
    help = "List orphan recording files and READY recordings whose file is missing or differs."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Re-read the sha256 of every READY file."
        )

    def handle(self, *args, all: bool, **options):  # noqa: A002 - the option's name
        report = recording_check(hash_budget_bytes=2**62 if all else HASH_BUDGET_BYTES)
        summary = report.as_dict()
        self.stdout.write(
            f"{summary['files']} file(s) in storage, {summary['ready']} READY recording(s), "
            f"{summary['hashed_bytes']} byte(s) re-hashed, "
            f"{len(summary['requeued'])} stalled ingest(s) queued again"
        )
        for issue in report.issues:
            recording = f" recording={issue.recording_id}" if issue.recording_id else ""
            self.stdout.write(f"{issue.kind}: {issue.name or '-'}{recording} {issue.detail}")
        if not report.issues:
            self.stdout.write("no issues")
