from webinars.management.import_command import ImportCommand
from webinars.services.imports import timetable_import


class Command(ImportCommand):
    help = (
        "Import weekly lesson series from a CSV/XLSX timetable (subject, class, teacher, weekday, "
        "start, end, first_date, last_date, open, title, ref): all rows or none."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--allow-past",
            action="store_true",
            help="Also create the lessons whose time has already passed.",
        )

    def run(self, *, content, filename, options):
        return timetable_import(
            content=content,
            filename=filename,
            dry_run=options["dry_run"],
            allow_past=options["allow_past"],
        )
