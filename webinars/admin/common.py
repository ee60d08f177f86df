"""Pieces every Webinars admin screen shares: columns and pages that read like the school's.

Times in the school's zone with the zone named, people by full name, Yes/No for flags, on list,
inspect and export alike.
"""

from datetime import datetime

import django_filters
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from webinars.forms import PersonChoiceField
from webinars.people import people_in, person_label
from webinars.timezones import school_time


def zoned_column(name: str, label: str) -> Column:
    """A datetime column shown in the school's zone, with the zone named in the heading."""
    return Column(
        name,
        label=f"{label} ({settings.TIME_ZONE})",
        accessor=lambda obj: school_time(getattr(obj, name)),
        sort_key=name,
    )


def yes_no(value) -> str:
    return _("Yes") if value else _("No")


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


# Spreadsheet exports say the same as the screens: Yes/No, school time, people by name.
SCHOOL_EXPORT_PREPROCESS = {
    bool: {"csv": yes_no, "xlsx": yes_no},
    datetime: {"csv": school_time, "xlsx": school_time},
    AbstractBaseUser: {"csv": person_label, "xlsx": person_label},
}


class SchoolExportMixin:
    """For index views: exported cells read like the list (see SCHOOL_EXPORT_PREPROCESS)."""

    custom_value_preprocess = {**IndexView.custom_value_preprocess, **SCHOOL_EXPORT_PREPROCESS}


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


class ActionsIndexView(SchoolExportMixin, IndexView):
    """An index whose rows' "more" menu offers the viewset's extra actions, and whose rows come
    with their related rows (``list_select_related``: one query for the page, not one per row).
    """

    row_actions: list[tuple[str, str, str]] = []  # (url name, label, icon)
    list_select_related: tuple[str, ...] = ()

    def get_base_queryset(self):
        return super().get_base_queryset().select_related(*self.list_select_related)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        for name, label, icon in self.row_actions:
            namespace = self.index_url_name.split(":")[0]
            url = reverse(f"{namespace}:{name}", args=[instance.pk])
            buttons.append(MenuItem(label, url=url, icon_name=icon, priority=15))
        return buttons


class SchoolInspectView(InspectView):
    """Inspect pages in the school's words: zone-named times, Yes/No, people by name."""

    def get_field_display_value(self, field_name, field):
        value = getattr(self.object, field_name, None)
        if isinstance(value, datetime):
            return f"{school_time(value)} ({settings.TIME_ZONE})"
        if isinstance(value, bool) and not getattr(field, "choices", None):
            return yes_no(value)
        if isinstance(value, AbstractBaseUser):
            return person_label(value)
        if isinstance(value, models.Manager) and issubclass(value.model, AbstractBaseUser):
            return ", ".join(person_label(user) for user in value.all()) or "-"
        return super().get_field_display_value(field_name, field)


class SchoolModelViewSet(ModelViewSet):
    """A viewset whose index is an ``ActionsIndexView`` given the viewset's related rows."""

    index_view_class = ActionsIndexView
    list_select_related: tuple[str, ...] = ()

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(list_select_related=self.list_select_related, **kwargs)
