"""Wagtail admin for what the system writes: rooms, recordings, attendance and join decisions.

Listed, filtered, inspected and exported in the school's words (``webinars.wording``): times
in the school's zone with the zone named, Yes/No, rules and outcomes as sentences, links where
a person would click. Registered through ``webinars.viewsets.WebinarsViewSetGroup``; the
actions are ``webinars.admin_views``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

import django_filters
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.coreutils import multigetattr
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.admin_views import (
    RecordingRetryView,
    RoomCloseView,
    RoomOpenInJitsiView,
    RoomRegenerateLinkView,
)
from webinars.choices import RecordingStatus, RoomStatus
from webinars.models import Attendance, JoinAudit, Recording, Room
from webinars.timezones import school_time, school_zone
from webinars.wording import (
    RULE_CHOICES,
    decision_in_words,
    duration_in_words,
    person_in_words,
    recording_details,
    rule_in_words,
    yes_no,
    zoned,
)


class ServerOwnedPermissionPolicy(ModelPermissionPolicy):
    """Rows the system creates (rooms, recordings, attendance, audits): no "Add" in the admin."""

    def user_has_permission(self, user, action):
        return action != "add" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [a for a in actions if a != "add"])


for _server_owned in (Room, Recording, Attendance, JoinAudit):
    register_permission_policy(_server_owned, ServerOwnedPermissionPolicy(_server_owned))


# --- Pieces every screen here shares ----------------------------------------------------------


def zoned_column(name: str, label: str) -> Column:
    """A datetime column shown in the school's zone, with the zone named in the heading."""
    return Column(
        name,
        label=f"{label} ({settings.TIME_ZONE})",
        accessor=lambda obj: school_time(getattr(obj, name)),
        sort_key=name,
    )


def zoned_heading(label: str) -> str:
    return f"{label} ({settings.TIME_ZONE})"


def public_page_link(slug: str) -> str:
    """``/join/<slug>/`` as a link (opens beside the admin)."""
    url = reverse("webinars:join", kwargs={"slug": slug})
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)


def join_link(room: Room) -> str:
    """The room's public page as a link, or "—" when the room is not open to the public."""
    return public_page_link(room.public_slug) if room.is_open else "—"


def room_link(room: Room | None) -> str:
    if room is None:
        return "—"
    return format_html('<a href="{}">{}</a>', reverse("rooms:inspect", args=[room.pk]), room)


def _export_time(value: datetime) -> datetime:
    """A naive wall-clock time in the school's zone, whole seconds: what a spreadsheet shows."""
    return value.astimezone(school_zone()).replace(tzinfo=None, microsecond=0)


class RowAction(NamedTuple):
    url_name: str
    label: str
    icon: str
    applies: Callable[[object], bool] = lambda obj: True


class SchoolIndexView(IndexView):
    """A list whose rows offer the actions that apply to them, and whose exports say what the
    screen says: words from ``export_values``, Yes/No, school time without microseconds, and
    a file named for the list and the day (``join-decisions-2026-12-01.csv``)."""

    row_actions: list[RowAction] = []
    export_values: dict[str, Callable[[object], object]] = {}

    custom_value_preprocess = {
        **IndexView.custom_value_preprocess,
        bool: {"csv": yes_no, "xlsx": yes_no},
        datetime: {
            "csv": lambda value: school_time(value, "%Y-%m-%d %H:%M:%S"),
            "xlsx": _export_time,
        },
    }

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        namespace = self.index_url_name.split(":")[0]
        for action in self.row_actions:
            if action.applies(instance):
                url = reverse(f"{namespace}:{action.url_name}", args=[instance.pk])
                buttons.append(MenuItem(action.label, url=url, icon_name=action.icon, priority=15))
        return buttons

    def to_row_dict(self, item):
        return {
            field: (
                self.export_values[field](item)
                if field in self.export_values
                else multigetattr(item, field)
            )
            for field in self.list_export
        }

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate(timezone=school_zone()):%Y-%m-%d}"


class SchoolInspectView(InspectView):
    """Inspect pages in the school's words: ``labels`` names fields that are not model
    fields; ``get_<name>_display_value`` methods say the special ones."""

    labels: dict[str, str] = {}

    def get_field_label(self, field_name, field):
        if field_name in self.labels:
            return self.labels[field_name]
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        if getattr(self, f"get_{field_name}_display_value", None) is None:
            value = getattr(self.object, field_name, None)
            if isinstance(value, datetime):
                return zoned(value)
            if isinstance(value, bool) and not getattr(field, "choices", None):
                return yes_no(value)
            if field is not None and field.is_relation and field.related_model is Room:
                return room_link(value)
            if field_name == "user":
                return person_in_words(value, fallback="—")
        return super().get_field_display_value(field_name, field)


class ShownPanel(FieldPanel):
    """A read-only field on an edit form, in the school's words (``show`` says the value)."""

    def __init__(self, field_name, *, show: Callable | None = None, **kwargs):
        kwargs["read_only"] = True
        super().__init__(field_name, **kwargs)
        self.show = show

    def clone_kwargs(self):
        return {**super().clone_kwargs(), "show": self.show}

    def format_value_for_display(self, value):
        if self.show is not None:
            return self.show(value)
        if isinstance(value, datetime):
            return zoned(value)
        if isinstance(value, bool):
            return yes_no(value)
        return super().format_value_for_display(value) or "—"


class ServerOwnedViewSet(ModelViewSet):
    """Rows the system writes: listed, filtered, inspected and exported; never copied."""

    inspect_view_enabled = True
    inspect_view_class = SchoolInspectView
    index_view_class = SchoolIndexView
    copy_view_enabled = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model.objects.select_related(*self.select_related)


# --- Rooms ------------------------------------------------------------------------------------


def _room_not_closed(room: Room) -> bool:
    return room.status != RoomStatus.CLOSED


class RoomFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=RoomStatus.choices, label=_("Status"))
    scheduled_start = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )

    class Meta:
        model = Room
        fields = ["status", "type", "is_open", "scheduled_start", "auto_manage"]


class RoomIndexView(SchoolIndexView):
    row_actions = [
        RowAction("open_in_jitsi", _("Open in Jitsi"), "link-external", _room_not_closed),
        RowAction("close_now", _("Close now"), "cross", _room_not_closed),
        RowAction(
            "regenerate_link",
            _("Regenerate public link"),
            "rotate",
            lambda room: room.is_open and _room_not_closed(room),
        ),
    ]
    export_values = {
        "public_link": lambda room: (
            f"{settings.PORTAL_BASE_URL.rstrip('/')}/join/{room.public_slug}/"
            if room.is_open
            else ""
        ),
    }


class RoomInspectView(SchoolInspectView):
    labels = {
        "display_title": _("Title"),
        "public_link": _("Public page"),
        "window": _("Can be entered"),
    }

    def get_lesson_display_value(self):
        room = self.object
        if room.lesson_id:
            url = reverse("lessons:edit", args=[room.lesson_id])
            return format_html('<a href="{}">{}</a>', url, room.lesson)
        page = getattr(room, "meeting_page", None)
        if page is not None:
            url = reverse("wagtailadmin_pages:edit", args=[page.pk])
            return format_html('<a href="{}">{}</a>', url, page.title)
        return "—"

    def get_public_link_display_value(self):
        return join_link(self.object)

    def get_window_display_value(self):
        room = self.object
        return _("%(start)s to %(end)s") % {
            "start": zoned(room.window_start),
            "end": zoned(room.window_end),
        }

    def get_join_url_display_value(self):
        url = self.object.join_url
        return format_html('<a href="{}" rel="noreferrer">{}</a>', url, url) if url else "—"


class RoomViewSet(ServerOwnedViewSet):
    model = Room
    icon = "link"
    index_view_class = RoomIndexView
    inspect_view_class = RoomInspectView
    list_display = [
        "__str__",
        "type",
        StatusTagColumn(
            "get_status_display",
            label=_("Status"),
            sort_key="status",
            primary=lambda room: room.status == RoomStatus.OPEN,
        ),
        zoned_column("scheduled_start", _("Starts")),
        zoned_column("scheduled_end", _("Ends")),
        Column("public_link", label=_("Public page"), accessor=join_link),
        Column("closed_reason", label=_("Closed because"), accessor="get_closed_reason_display"),
    ]
    filterset_class = RoomFilterSet
    search_fields = ["title", "jitsi_room", "public_slug", "lesson__title"]
    inspect_view_fields = [
        "display_title",
        "type",
        "lesson",
        "status",
        "scheduled_start",
        "scheduled_end",
        "window",
        "started_at",
        "ended_at",
        "closed_reason",
        "is_open",
        "public_link",
        "auto_manage",
        "jitsi_env",
        "join_url",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("title"),
            FieldPanel("is_open"),
            FieldPanel("auto_manage"),
            MultiFieldPanel(
                [
                    ShownPanel("status"),
                    ShownPanel("type"),
                    ShownPanel("scheduled_start"),
                    ShownPanel("scheduled_end"),
                    ShownPanel("started_at"),
                    ShownPanel("ended_at"),
                    ShownPanel("closed_reason"),
                ],
                heading=_("State (kept by the scheduler)"),
            ),
            MultiFieldPanel(
                [
                    ShownPanel("public_slug", heading=_("Public page"), show=public_page_link),
                    ShownPanel(
                        "join_url",
                        show=lambda url: format_html('<a href="{}">{}</a>', url, url),
                    ),
                ],
                heading=_("Links"),
            ),
        ]
    )
    list_export = [
        "display_title",
        "get_type_display",
        "get_status_display",
        "scheduled_start",
        "scheduled_end",
        "started_at",
        "ended_at",
        "get_closed_reason_display",
        "public_link",
        "auto_manage",
        "jitsi_room",
    ]
    export_headings = {
        "display_title": _("Title"),
        "get_type_display": _("Type"),
        "get_status_display": _("Status"),
        "scheduled_start": zoned_heading(_("Starts")),
        "scheduled_end": zoned_heading(_("Ends")),
        "started_at": zoned_heading(_("Opened")),
        "ended_at": zoned_heading(_("Closed")),
        "get_closed_reason_display": _("Closed because"),
        "public_link": _("Public page"),
        "auto_manage": _("Managed by the scheduler"),
        "jitsi_room": _("Jitsi room"),
    }
    export_filename = "rooms"
    select_related = ("lesson__subject",)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("close/<int:pk>/", RoomCloseView.as_view(), name="close_now"),
            path("regenerate/<int:pk>/", RoomRegenerateLinkView.as_view(), name="regenerate_link"),
            path("jitsi/<int:pk>/", RoomOpenInJitsiView.as_view(), name="open_in_jitsi"),
        ]


# --- Recordings -------------------------------------------------------------------------------


class RecordingFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=RecordingStatus.choices, label=_("Status"))

    class Meta:
        model = Recording
        fields = ["status", "storage"]


class RecordingIndexView(SchoolIndexView):
    row_actions = [
        RowAction(
            "retry",
            _("Retry download"),
            "rotate",
            lambda recording: recording.status != RecordingStatus.READY,
        )
    ]
    export_values = {"error": lambda recording: recording.meta.get("error", "")}


class RecordingInspectView(SchoolInspectView):
    labels = {"details": _("Details")}

    def get_duration_secs_display_value(self):
        secs = self.object.duration_secs
        return duration_in_words(secs) if secs else "—"

    def get_size_bytes_display_value(self):
        size = self.object.size_bytes
        return filesizeformat(size) if size is not None else "—"

    def get_file_display_value(self):
        recording = self.object
        if not recording.file:
            return "—"
        return recording.file.name

    def get_details_display_value(self):
        rows = recording_details(self.object.meta)
        if not rows:
            return "—"
        return format_html(
            '<dl class="recording-details">{}</dl>',
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
        )


class RecordingViewSet(ServerOwnedViewSet):
    model = Recording
    icon = "media"
    index_view_class = RecordingIndexView
    inspect_view_class = RecordingInspectView
    form_fields = ["status"]
    list_display = [
        "__str__",
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        zoned_column("started_at", _("Started")),
        Column(
            "duration_secs",
            label=_("Length"),
            accessor=lambda r: duration_in_words(r.duration_secs) if r.duration_secs else "",
            sort_key="duration_secs",
        ),
        Column(
            "size_bytes",
            label=_("Size"),
            accessor=lambda r: filesizeformat(r.size_bytes) if r.size_bytes is not None else "",
            sort_key="size_bytes",
        ),
        "storage",
    ]
    filterset_class = RecordingFilterSet
    search_fields = ["room__title", "room__lesson__title", "checksum_sha256"]
    inspect_view_fields = [
        "room",
        "status",
        "started_at",
        "ended_at",
        "duration_secs",
        "size_bytes",
        "storage",
        "file",
        "checksum_sha256",
        "details",
        "created_at",
        "updated_at",
    ]
    list_export = [
        "room",
        "get_status_display",
        "started_at",
        "ended_at",
        "duration_secs",
        "size_bytes",
        "get_storage_display",
        "checksum_sha256",
        "error",
    ]
    export_headings = {
        "room": _("Room"),
        "get_status_display": _("Status"),
        "started_at": zoned_heading(_("Started")),
        "ended_at": zoned_heading(_("Ended")),
        "duration_secs": _("Length (seconds)"),
        "size_bytes": _("Size (bytes)"),
        "get_storage_display": _("Storage"),
        "checksum_sha256": _("SHA-256"),
        "error": _("Last error"),
    }
    export_filename = "recordings"
    select_related = ("room__lesson",)

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("retry/<int:pk>/", RecordingRetryView.as_view(), name="retry"),
        ]


# --- Attendance -------------------------------------------------------------------------------


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
