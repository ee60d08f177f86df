from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(sender, using, **kwargs):
    """The database cache's table, so ``migrate`` alone readies a new site (no-op elsewhere)."""
    call_command("createcachetable", database=using, verbosity=0)


class PortalConfig(AppConfig):
    """The project itself: wiring that belongs to no one feature."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="portal.cache_table")
