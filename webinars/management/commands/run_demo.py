"""The run command's web process: the demo school (migrated first when a migration is
unapplied) and the development server, in one Django start."""

import io

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Seed the demo school (seed_demo, which migrates when needed) and serve it with the "
        "development server, without its autoreloader: Django starts once. For development "
        "with reloading, run `manage.py runserver` instead."
    )
    requires_system_checks = []  # the test suite runs them; each costs a start-up second

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        call_command("seed_demo", stdout=self.stdout)
        # The server's own banner ("Starting development server…", its warning) is not for the
        # school: run.sh prints the address once the home page answers.
        call_command(
            "runserver", addrport, use_reloader=False, skip_checks=True, stdout=io.StringIO()
        )
