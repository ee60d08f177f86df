"""Wagtail admin for the timetable and its rooms, grouped under one "Webinars" menu (SPEC §9)."""

import django_filters
from django.urls import path
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.admin.common import (
    ActionsIndexView,
    DateRangeFilterSet,
    SchoolInspectView,
    zoned_column,
)
from webinars.admin.lessons import LessonViewSet
from webinars.admin.people import PEOPLE_VIEWSETS, PERSON_CHOOSERS
from webinars.admin.school import (
    EnrollmentViewSet,
    GuardianshipViewSet,
    SchoolClassViewSet,
    SubjectViewSet,
)
from webinars.admin.series import LessonSeriesViewSet, SchoolClosureViewSet
from webinars.admin_views import (
    RecordingRetryView,
    RoomCloseView,
    RoomOpenInJitsiView,
    RoomRegenerateLinkView,
)
from webinars.choices import RecordingStatus, RoomStatus
from webinars.models import Attendance, JoinAudit, Recording, Room


class ServerOwnedPermissionPolicy(ModelPermissionPolicy):
    """Rows the system creates (rooms, recordings, attendance, audits): no "Add" in the admin."""

    def user_has_permission(self, user, action):
        return action != "add" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [a for a in actions if a != "add"])


for _server_owned in (Room, Recording, Attendance, JoinAudit):
    register_permission_policy(_server_owned, ServerOwnedPermissionPolicy(_server_owned))


class ServerOwnedViewSet(ModelViewSet):
    """Rows the system writes: listed, filtered, inspected and exported; never copied."""

    inspect_view_enabled = True
    inspect_view_class = SchoolInspectView
    copy_view_enabled = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model.objects.select_related(*self.select_related)


# --- Rooms, recordings, attendance (read-mostly) ------------------------------------------------


class RoomFilterSet(DateRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=RoomStatus.choices, label=_("Status"))

    class Meta:
        model = Room
        fields = ["status", "type", "is_open", "scheduled_start", "auto_manage"]


class RoomViewSet(ServerOwnedViewSet):
    model = Room
    icon = "link"
    form_fields = ["title", "auto_manage"]
    list_display = [
        "__str__",
        "type",
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        zoned_column("scheduled_start", _("Starts")),
        zoned_column("scheduled_end", _("Ends")),
        Column("is_open", label=_("Open")),
        Column("closed_reason", label=_("Closed because")),
    ]
    filterset_class = RoomFilterSet
    search_fields = ["title", "jitsi_room", "public_slug", "lesson__title"]
    list_export = [
        "display_title",
        "type",
        "status",
        "scheduled_start",
        "scheduled_end",
        "started_at",
        "ended_at",
        "is_open",
        "public_slug",
        "jitsi_room",
        "closed_reason",
    ]

    select_related = ("lesson",)

    class index_view_class(ActionsIndexView):  # noqa: N801 - Wagtail's attribute name
        row_actions = [
            ("open_in_jitsi", _("Open in Jitsi"), "link-external"),
            ("close_now", _("Close now"), "cross"),
            ("regenerate_link", _("Regenerate public link"), "rotate"),
        ]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("close/<int:pk>/", RoomCloseView.as_view(), name="close_now"),
            path("regenerate/<int:pk>/", RoomRegenerateLinkView.as_view(), name="regenerate_link"),
            path("jitsi/<int:pk>/", RoomOpenInJitsiView.as_view(), name="open_in_jitsi"),
        ]


class RecordingFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=RecordingStatus.choices, label=_("Status"))

    class Meta:
        model = Recording
        fields = ["status", "storage"]


class RecordingViewSet(ServerOwnedViewSet):
    model = Recording
    icon = "media"
    form_fields = ["status"]
    list_display = [
        "__str__",
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        zoned_column("started_at", _("Started")),
        Column("duration_secs", label=_("Duration (s)")),
        Column("size_bytes", label=_("Size (bytes)")),
        "storage",
    ]
    filterset_class = RecordingFilterSet
    search_fields = ["room__title", "room__lesson__title", "checksum_sha256"]
    list_export = [
        "room",
        "status",
        "started_at",
        "ended_at",
        "duration_secs",
        "size_bytes",
        "checksum_sha256",
        "storage",
    ]

    select_related = ("room__lesson",)

    class index_view_class(ActionsIndexView):  # noqa: N801 - Wagtail's attribute name
        row_actions = [("retry", _("Retry download"), "rotate")]

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("retry/<int:pk>/", RecordingRetryView.as_view(), name="retry"),
        ]


class AttendanceViewSet(ServerOwnedViewSet):
    model = Attendance
    icon = "user"
    form_fields = ["left_at"]
    list_display = [
        Column("room", label=_("Room")),
        "display_name",
        "role",
        zoned_column("joined_at", _("Joined")),
        zoned_column("left_at", _("Left")),
        "source",
    ]
    list_filter = ["role", "source"]
    search_fields = ["display_name", "user__username", "room__title", "room__lesson__title"]
    list_export = ["room", "user", "display_name", "role", "joined_at", "left_at", "source"]

    select_related = ("room__lesson", "user")


class JoinAuditViewSet(ServerOwnedViewSet):
    model = JoinAudit
    icon = "doc-full"
    form_fields = []
    list_display = [
        Column("room", label=_("Room")),
        Column("user", label=_("User")),
        "display_name",
        "granted",
        "role",
        "rule",
        "status_code",
        zoned_column("created_at", _("At")),
    ]
    list_filter = ["granted", "role", "rule"]
    search_fields = ["display_name", "user__username", "rule"]
    list_export = ["room", "user", "display_name", "granted", "role", "rule", "status_code"]

    select_related = ("room__lesson", "user")


class ApiTokenViewSet(ModelViewSet):
    """Per-user API tokens: create one for a user; delete it to revoke."""

    model = Token
    icon = "key"
    menu_label = _("API tokens")
    form_fields = ["user"]
    list_display = ["user", "created"]
    search_fields = ["user__username"]
    copy_view_enabled = False
    inspect_view_enabled = True


class WebinarsViewSetGroup(ModelViewSetGroup):
    menu_label = _("Webinars")
    menu_icon = "media"
    menu_order = 200
    items = (
        LessonViewSet("lessons"),
        LessonSeriesViewSet("series"),
        SchoolClosureViewSet("closures"),
        SubjectViewSet("subjects"),
        SchoolClassViewSet("classes"),
        *PEOPLE_VIEWSETS,
        EnrollmentViewSet("enrollments"),
        GuardianshipViewSet("guardianships"),
        RoomViewSet("rooms"),
        RecordingViewSet("recordings"),
        AttendanceViewSet("attendance"),
        JoinAuditViewSet("join_decisions"),
        ApiTokenViewSet("api_tokens"),
        *PERSON_CHOOSERS,
    )

    def get_submenu_items(self):
        """The person choosers are registered with the group but have no menu entry."""
        listed = [item for item in self.registerables if item not in PERSON_CHOOSERS]
        return [item.get_menu_item(order=n) for n, item in enumerate(listed, start=1)]
