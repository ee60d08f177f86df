"""Rooms in the admin: state in words, the public page as a link, actions where they apply."""

import django_filters
from django.conf import settings
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column, StatusTagColumn

from webinars.admin.common import (
    RowAction,
    SchoolIndexView,
    SchoolInspectView,
    join_link,
    public_page_link,
    zoned_column,
    zoned_heading,
)
from webinars.admin.screens import ServerOwnedViewSet, ShownPanel
from webinars.admin_views import RoomCloseView, RoomOpenInJitsiView, RoomRegenerateLinkView
from webinars.choices import RoomStatus
from webinars.models import Room
from webinars.wording import zoned


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
