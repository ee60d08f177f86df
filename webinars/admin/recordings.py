"""Recordings in the admin: length, size and the ingest's details in words; retry where it helps."""

import django_filters
from django.template.defaultfilters import filesizeformat
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column

from webinars.admin.common import (
    RowAction,
    SchoolIndexView,
    SchoolInspectView,
    zoned_column,
    zoned_heading,
)
from webinars.admin.screens import ServerOwnedViewSet
from webinars.admin_views import RecordingRetryView
from webinars.choices import RecordingStatus
from webinars.models import Recording
from webinars.wording import duration_in_words, recording_details


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
