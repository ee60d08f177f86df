"""Pieces every screen of the system's rows shares: school time with the zone named, links
where a person would click, Yes/No, row actions that apply, exports in words."""

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.coreutils import multigetattr
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.models import Attendance, JoinAudit, Recording, RecordingCheckIssue, Room
from webinars.timezones import school_time, school_zone
from webinars.wording import person_in_words, yes_no, zoned


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
        label=zoned_heading(label),
        accessor=lambda obj: school_time(getattr(obj, name)),
        sort_key=name,
    )


def zoned_heading(label: str) -> str:
    """A heading naming the zone, translated when shown (not when the module is imported)."""
    return format_lazy("{} ({})", label, settings.TIME_ZONE)


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
