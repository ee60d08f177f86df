"""Pieces every Webinars admin screen shares, so each reads like the school's: times in the
school's zone with the zone named, people by full name, Yes/No for flags, links where a person
would click, row actions only where they apply, and exports that say what the screen says (on
list, inspect and export alike).
"""

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

import django_filters
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.coreutils import multigetattr

from webinars.forms import PersonChoiceField
from webinars.models import Room
from webinars.people import people_in, person_label
from webinars.timezones import school_time, school_zone
from webinars.wording import yes_no, zoned


def zoned_heading(label: str) -> str:
    """A heading naming the zone, translated when shown (not when the module is imported)."""
    return format_lazy("{} ({})", label, settings.TIME_ZONE)


def zoned_column(name: str, label: str) -> Column:
    """A datetime column shown in the school's zone, with the zone named in the heading."""
    return Column(
        name,
        label=zoned_heading(label),
        accessor=lambda obj: school_time(getattr(obj, name)),
        sort_key=name,
    )


def yes_no_column(name: str, label: str) -> Column:
    return Column(name, label=label, accessor=lambda obj: yes_no(getattr(obj, name)), sort_key=name)


def person_column(name: str, label: str, *, sort_key: str | None = None) -> Column:
    """A person shown as "Full Name (username)", sorted by surname."""
    return Column(
        name,
        label=label,
        accessor=lambda obj: person_label(getattr(obj, name)),
        sort_key=sort_key or f"{name}__last_name",
    )


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


# Spreadsheet exports say the same as the screens: Yes/No, school time, people by name.
SCHOOL_EXPORT_PREPROCESS = {
    bool: {"csv": yes_no, "xlsx": yes_no},
    datetime: {
        "csv": lambda value: school_time(value, "%Y-%m-%d %H:%M:%S"),
        "xlsx": _export_time,
    },
    AbstractBaseUser: {"csv": person_label, "xlsx": person_label},
}


class PersonFilter(django_filters.ModelChoiceFilter):
    """Choose one person of a group, listed by name."""

    field_class = PersonChoiceField

    def __init__(self, *, group: str, **kwargs):
        super().__init__(queryset=people_in(group), **kwargs)


class DateRangeFilterSet(WagtailFilterSet):
    """Base: a date-range filter on the model's ``scheduled_start``."""

    scheduled_start = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )


class RowAction(NamedTuple):
    """An extra action in a row's "more" menu: a URL name of the viewset (taking the row's pk),
    its label and icon, and when it applies to a row."""

    url_name: str
    label: str
    icon: str
    applies: Callable[[object], bool] = lambda obj: True


class SchoolIndexView(IndexView):
    """A list whose rows offer the actions that apply to them and come with their related rows
    (``list_select_related``: one query for the page, not one per row), and whose exports say
    what the screen says: words from ``export_values``, Yes/No, school time without
    microseconds, people by name, and a file named for the list and the day
    (``join-decisions-2026-12-01.csv``)."""

    row_actions: list[RowAction] = []
    list_select_related: tuple[str, ...] = ()
    export_values: dict[str, Callable[[object], object]] = {}
    custom_value_preprocess = {**IndexView.custom_value_preprocess, **SCHOOL_EXPORT_PREPROCESS}

    def get_base_queryset(self):
        return super().get_base_queryset().select_related(*self.list_select_related)

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
    """Inspect pages in the school's words: zone-named times, Yes/No, people by name, rooms
    as links. ``labels`` names fields that are not model fields; ``get_<name>_display_value``
    methods say the special ones."""

    labels: dict[str, str] = {}

    def get_field_label(self, field_name, field):
        if field_name in self.labels:
            return self.labels[field_name]
        return super().get_field_label(field_name, field)

    def get_field_display_value(self, field_name, field):
        if getattr(self, f"get_{field_name}_display_value", None) is None:
            value = getattr(self.object, field_name, None)
            if value is None:  # not yet (a room's "closed at"), not set: a dash, not "None"
                return "—"
            if isinstance(value, datetime):
                return zoned(value)
            if isinstance(value, bool) and not getattr(field, "choices", None):
                return yes_no(value)
            if field is not None and field.is_relation and field.related_model is Room:
                return room_link(value)
            if isinstance(value, AbstractBaseUser) or (value is None and field_name == "user"):
                return person_label(value) or "—"
            if isinstance(value, models.Manager) and issubclass(value.model, AbstractBaseUser):
                return ", ".join(person_label(user) for user in value.all()) or "—"
        return super().get_field_display_value(field_name, field)


class SchoolModelViewSet(ModelViewSet):
    """A viewset whose index is a ``SchoolIndexView`` given the viewset's related rows."""

    index_view_class = SchoolIndexView
    inspect_view_class = SchoolInspectView
    list_select_related: tuple[str, ...] = ()

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(list_select_related=self.list_select_related, **kwargs)
