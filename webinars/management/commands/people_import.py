from webinars.management.import_command import ImportCommand
from webinars.services.imports import people_import


class Command(ImportCommand):
    help = (
        "Import teachers, students and parents from a CSV/XLSX file (username, first_name, "
        "last_name, email, role, class, children): all rows or none. Passwords are not imported."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--send-reset",
            action="store_true",
            help="Email every new account a link to choose its password.",
        )

    def run(self, *, content, filename, options):
        return people_import(
            content=content,
            filename=filename,
            dry_run=options["dry_run"],
            send_links=options["send_reset"],
        )
