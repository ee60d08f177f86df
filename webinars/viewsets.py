"""Wagtail admin for the timetable and its rooms, grouped under one "Webinars" menu."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSetGroup

from webinars.admin.common import SchoolIndexView, zoned_column
from webinars.admin.joins import AttendanceViewSet, JoinAuditViewSet
from webinars.admin.lessons import LessonViewSet
from webinars.admin.people import PEOPLE_VIEWSETS, PERSON_CHOOSERS
from webinars.admin.recordings import RecordingViewSet
from webinars.admin.rooms import RoomViewSet
from webinars.admin.school import (
    EnrollmentViewSet,
    GuardianshipViewSet,
    SchoolClassViewSet,
    SubjectViewSet,
)
from webinars.admin.screens import ServerOwnedViewSet
from webinars.admin.series import LessonSeriesViewSet, SchoolClosureViewSet
from webinars.admin.tokens import ApiTokenViewSet
from webinars.choices import RecordingStatus
from webinars.models import RecordingCheckIssue


class RecordingIssueIndexView(SchoolIndexView):
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
    export_filename = "recording-check"

    select_related = ("recording__room__lesson",)


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
        RecordingCheckIssueViewSet("recording_check"),
        AttendanceViewSet("attendance"),
        JoinAuditViewSet("join_decisions"),
        ApiTokenViewSet("api_tokens"),
        *PERSON_CHOOSERS,
    )

    def get_submenu_items(self):
        """The person choosers are registered with the group but have no menu entry."""
        listed = [item for item in self.registerables if item not in PERSON_CHOOSERS]
        return [item.get_menu_item(order=n) for n, item in enumerate(listed, start=1)]
