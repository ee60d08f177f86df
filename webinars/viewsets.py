"""Wagtail admin for the timetable and its rooms, grouped under one "Webinars" menu (SPEC §9)."""

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.admin_views import (
    LessonDeleteView,
    RecordingRetryView,
    RoomCloseView,
    RoomOpenInJitsiView,
    RoomRegenerateLinkView,
)
from webinars.choices import RecordingStatus, RoomStatus
from webinars.forms import LessonAdminForm
from webinars.models import (
    Attendance,
    Enrollment,
    Guardianship,
    JoinAudit,
    Lesson,
    Recording,
    RecordingCheckIssue,
    Room,
    Subject,
)
from webinars.timezones import school_time

User = get_user_model()


class ServerOwnedPermissionPolicy(ModelPermissionPolicy):
    """Rows the system writes (rooms, recordings, attendance, audits): no "Add" in the admin.

    Recordings are not edited by hand either (a status set by hand would make a READY row
    without its file; they change through their ingest and the "retry" action, see
    docs/recordings.md), and the recording check's findings are only looked at.
    """

    def __init__(self, model, *, denied: tuple[str, ...] = ("add",)):
        super().__init__(model)
        self.denied = frozenset(denied)

    def user_has_permission(self, user, action):
        return action not in self.denied and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [a for a in actions if a not in self.denied])


for _server_owned, _denied in (
    (Room, ("add",)),
    (Attendance, ("add",)),
    (JoinAudit, ("add",)),
    (Recording, ("add", "change")),
    (RecordingCheckIssue, ("add", "change", "delete")),
):
    register_permission_policy(
        _server_owned, ServerOwnedPermissionPolicy(_server_owned, denied=_denied)
    )


def zoned_column(name: str, label: str) -> Column:
    """A datetime column shown in the school's zone, with the zone named in the heading."""
    return Column(
        name,
        label=f"{label} ({settings.TIME_ZONE})",
        accessor=lambda obj: school_time(getattr(obj, name)),
        sort_key=name,
    )


class ActionsIndexView(IndexView):
    """An index whose rows' "more" menu offers the viewset's extra actions."""

    row_actions: list[tuple[str, str, str]] = []  # (url name, label, icon)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        for name, label, icon in self.row_actions:
            namespace = self.index_url_name.split(":")[0]
            url = reverse(f"{namespace}:{name}", args=[instance.pk])
            buttons.append(MenuItem(label, url=url, icon_name=icon, priority=15))
        return buttons


class ServerOwnedViewSet(ModelViewSet):
    """Rows the system writes: listed, filtered, inspected and exported; never copied."""

    inspect_view_enabled = True
    copy_view_enabled = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model.objects.select_related(*self.select_related)


class DateRangeFilterSet(WagtailFilterSet):
    """Base: a date-range filter on the model's ``scheduled_start``."""

    scheduled_start = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )


# --- Subjects, enrollments, guardianships -------------------------------------------------------


class SubjectViewSet(ModelViewSet):
    model = Subject
    icon = "folder-open-1"
    form_fields = ["name", "code"]
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    list_export = ["name", "code"]


class EnrollmentFilterSet(WagtailFilterSet):
    class Meta:
        model = Enrollment
        fields = ["subject"]


class EnrollmentViewSet(ModelViewSet):
    model = Enrollment
    icon = "group"
    form_fields = ["student", "subject"]
    list_display = ["student", "subject"]
    filterset_class = EnrollmentFilterSet
    search_fields = ["student__username", "student__first_name", "student__last_name"]
    list_export = ["student", "subject"]


class GuardianshipViewSet(ModelViewSet):
    model = Guardianship
    icon = "user"
    form_fields = ["parent", "child"]
    list_display = ["parent", "child"]
    search_fields = ["parent__username", "parent__last_name", "child__username", "child__last_name"]
    list_export = ["parent", "child"]


# --- Lessons --------------------------------------------------------------------------------


class LessonFilterSet(DateRangeFilterSet):
    teacher = django_filters.ModelChoiceFilter(
        label=_("Teacher"), queryset=User.objects.filter(lessons_taught__isnull=False).distinct()
    )

    class Meta:
        model = Lesson
        fields = ["subject", "teacher", "scheduled_start", "is_open", "is_cancelled"]


class LessonViewSet(ModelViewSet):
    model = Lesson
    icon = "date"
    list_display = [
        "title",
        "subject",
        "teacher",
        zoned_column("scheduled_start", _("Starts")),
        zoned_column("scheduled_end", _("Ends")),
        Column("is_open", label=_("Open")),
        Column("is_cancelled", label=_("Cancelled")),
    ]
    filterset_class = LessonFilterSet
    search_fields = ["title", "description", "subject__name", "teacher__last_name"]
    list_export = [
        "title",
        "subject",
        "teacher",
        "scheduled_start",
        "scheduled_end",
        "is_open",
        "is_cancelled",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("title"),
            FieldPanel("description"),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("scheduled_start"), FieldPanel("scheduled_end")]),
                    FieldRowPanel([FieldPanel("is_open"), FieldPanel("is_cancelled")]),
                ],
                heading=_("When"),
            ),
            FieldPanel("teacher"),
            FieldPanel("co_teachers"),
            FieldPanel("cover_image"),
        ],
        base_form_class=LessonAdminForm,
    )

    delete_view_class = LessonDeleteView

    def get_queryset(self, request):
        return Lesson.objects.select_related("subject", "teacher")


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
    form_fields: list[str] = []  # not editable: see ServerOwnedPermissionPolicy
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


class RecordingIssueIndexView(IndexView):
    """Each finding about a recording offers that recording's retry (which recovers it)."""

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.recording_id and instance.recording.status != RecordingStatus.READY:
            url = reverse("recordings:retry", args=[instance.recording_id])
            buttons.append(MenuItem(_("Retry recording"), url=url, icon_name="rotate", priority=15))
        return buttons


class RecordingCheckIssueViewSet(ServerOwnedViewSet):
    """The hourly recording check's findings, replaced at each run (read-only)."""

    model = RecordingCheckIssue
    icon = "warning"
    menu_label = _("Recording check")
    form_fields: list[str] = []
    index_view_class = RecordingIssueIndexView
    list_display = [
        "__str__",
        Column("recording", label=_("Recording")),
        Column("size_bytes", label=_("Size in storage (bytes)")),
        "detail",
        zoned_column("found_at", _("Found")),
    ]
    list_filter = ["kind"]
    search_fields = ["name", "detail"]
    list_export = ["kind", "name", "recording", "size_bytes", "detail", "found_at"]

    select_related = ("recording__room__lesson",)


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
        SubjectViewSet("subjects"),
        EnrollmentViewSet("enrollments"),
        GuardianshipViewSet("guardianships"),
        RoomViewSet("rooms"),
        RecordingViewSet("recordings"),
        RecordingCheckIssueViewSet("recording_check"),
        AttendanceViewSet("attendance"),
        JoinAuditViewSet("join_decisions"),
        ApiTokenViewSet("api_tokens"),
    )
