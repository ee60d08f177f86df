"""What the import commands share: a file argument, ``--dry-run``, the report, the exit code."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webinars.services.imports import ImportFileError, ImportReport


class ImportCommand(BaseCommand):
    """Reads FILE, runs ``run()``, prints the report; exits 1 when any row is bad."""

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv (UTF-8) or .xlsx file; see docs/imports.md.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, write nothing."
        )

    def run(self, *, content: bytes, filename: str, options: dict) -> ImportReport:
        raise NotImplementedError

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from error
        try:
            report = self.run(content=content, filename=path.name, options=options)
        except ImportFileError as error:
            raise CommandError(f"{path}: {error}", returncode=1) from error
        for line in report.lines:
            self.stdout.write(line)
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.verdict(), returncode=1)
        self.stdout.write(self.style.SUCCESS(report.verdict()))
