"""Who came in and who was turned away: attendance and join decisions, in words."""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column

from webinars.admin.common import (
    SchoolIndexView,
    SchoolInspectView,
    room_link,
    zoned_column,
    zoned_heading,
)
from webinars.admin.screens import ServerOwnedViewSet
from webinars.models import Attendance, JoinAudit
from webinars.wording import RULE_CHOICES, decision_in_words, person_in_words, rule_in_words


def _who(row) -> str:
    """The person of an attendance or join row: their account's name, else the name typed."""
    if row.user_id is not None:
        return person_in_words(row.user)
    return row.display_name or str(_("Guest"))


class AttendanceViewSet(ServerOwnedViewSet):
    model = Attendance
    icon = "user"
    form_fields = ["left_at"]
    list_display = [
        Column("room", label=_("Room"), accessor=lambda a: room_link(a.room)),
        Column("display_name", label=_("Who"), accessor=_who, sort_key="display_name"),
        "role",
        zoned_column("joined_at", _("Joined")),
        zoned_column("left_at", _("Left")),
        "source",
    ]
    list_filter = ["role", "source"]
    search_fields = ["display_name", "user__username", "room__title", "room__lesson__title"]
    list_export = [
        "room",
        "display_name",
        "user",
        "get_role_display",
        "joined_at",
        "left_at",
        "get_source_display",
    ]
    export_headings = {
        "room": _("Room"),
        "display_name": _("Name shown"),
        "user": _("Account"),
        "get_role_display": _("Role"),
        "joined_at": zoned_heading(_("Joined")),
        "left_at": zoned_heading(_("Left")),
        "get_source_display": _("Source"),
    }
    export_filename = "attendance"
    select_related = ("room__lesson", "user")

    class index_view_class(SchoolIndexView):  # noqa: N801 - Wagtail's attribute name
        export_values = {"user": lambda a: person_in_words(a.user, fallback="")}


# --- Join decisions ---------------------------------------------------------------------------


def _decision(audit: JoinAudit) -> str:
    return decision_in_words(
        granted=audit.granted, role_label=audit.get_role_display(), status_code=audit.status_code
    )


class JoinAuditFilterSet(WagtailFilterSet):
    rule = django_filters.ChoiceFilter(choices=RULE_CHOICES, label=_("Deciding rule"))

    class Meta:
        model = JoinAudit
        fields = ["granted", "role", "rule"]


class JoinAuditInspectView(SchoolInspectView):
    labels = {"decision": _("Decision")}

    def get_decision_display_value(self):
        return _decision(self.object)

    def get_rule_display_value(self):
        return rule_in_words(self.object.rule)


class JoinAuditViewSet(ServerOwnedViewSet):
    model = JoinAudit
    icon = "doc-full"
    inspect_view_class = JoinAuditInspectView
    form_fields = []
    list_display = [
        zoned_column("created_at", _("At")),
        Column("room", label=_("Room"), accessor=lambda a: room_link(a.room)),
        Column("display_name", label=_("Who"), accessor=_who, sort_key="display_name"),
        Column("granted", label=_("Decision"), accessor=_decision, sort_key="granted"),
        Column("rule", label=_("Why"), accessor=lambda a: rule_in_words(a.rule), sort_key="rule"),
    ]
    filterset_class = JoinAuditFilterSet
    search_fields = ["display_name", "user__username", "user__last_name", "rule"]
    inspect_view_fields = [
        "created_at",
        "room",
        "user",
        "display_name",
        "decision",
        "rule",
    ]
    list_export = ["created_at", "room", "user", "display_name", "decision", "rule"]
    export_headings = {
        "created_at": zoned_heading(_("At")),
        "room": _("Room"),
        "user": _("Account"),
        "display_name": _("Name shown"),
        "decision": _("Decision"),
        "rule": _("Why"),
    }
    export_filename = "join-decisions"
    select_related = ("room__lesson", "user")

    class index_view_class(SchoolIndexView):  # noqa: N801 - Wagtail's attribute name
        export_values = {
            "user": lambda a: person_in_words(a.user, fallback=""),
            "decision": _decision,
            "rule": lambda a: rule_in_words(a.rule),
        }
