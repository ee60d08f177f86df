"""Wagtail admin for API tokens: staff see every app's token, by person, and revoke them.

Read-only: a token is issued by signing in through the API (``POST /api/auth/token/``), which
is the only moment its key exists; the admin shows its name, the key's first characters and its
dates in the school's zone. Deleting a row revokes the token (docs/tokens.md).
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column
from wagtail.permissions import register_permission_policy

from webinars.admin.common import person_column, zoned_column
from webinars.admin.screens import ServerOwnedPermissionPolicy, ServerOwnedViewSet
from webinars.models import ApiToken

# Issued through the API only, never edited: the admin lists, inspects and deletes (revokes).
register_permission_policy(
    ApiToken, ServerOwnedPermissionPolicy(ApiToken, denied=("add", "change"))
)


class ApiTokenViewSet(ServerOwnedViewSet):
    """Every user's API tokens for apps; delete one to revoke it."""

    model = ApiToken
    icon = "key"
    menu_label = _("API tokens")
    form_fields: list[str] = []
    list_display = [
        person_column("user", _("User")),
        Column("name", label=_("Token name")),
        Column("prefix", label=_("Key starts with")),
        zoned_column("created_at", _("Created")),
        zoned_column("expires_at", _("Expires")),
        zoned_column("last_used_at", _("Last used")),
    ]
    search_fields = ["name", "prefix", "user__username", "user__first_name", "user__last_name"]
    inspect_view_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at"]
    select_related = ("user",)
