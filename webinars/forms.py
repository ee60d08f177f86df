"""Admin forms: the lesson form reads times in the school's zone and stores UTC."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from webinars.timezones import UTC, school_zone

SCHOOL_DATETIME_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d.%m.%Y %H:%M",
]


class SchoolDateTimeField(forms.DateTimeField):
    """Accepts ``YYYY-MM-DDTHH:MM``, ``YYYY-MM-DD HH:MM`` and ``DD.MM.YYYY HH:MM``.

    The text is read as wall-clock time in the school's ``TIME_ZONE`` (whatever zone the admin
    user prefers), so a timetable typed from the paper schedule lands at the right instant.
    Times that do not exist or are ambiguous at a DST change are refused by Django's own check.
    """

    widget = forms.DateTimeInput(
        format="%Y-%m-%d %H:%M", attrs={"placeholder": "YYYY-MM-DD HH:MM", "autocomplete": "off"}
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", SCHOOL_DATETIME_FORMATS)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        with timezone.override(school_zone()):
            return super().prepare_value(value)

    def to_python(self, value):
        with timezone.override(school_zone()):
            result = super().to_python(value)
        return result.astimezone(UTC) if result else result


def _time_help() -> str:
    return _("Time in %(zone)s. Formats: 2026-09-01 08:30, 2026-09-01T08:30, 01.09.2026 08:30.") % {
        "zone": school_zone().key
    }


class LessonAdminForm(WagtailAdminModelForm):
    scheduled_start = SchoolDateTimeField(label=_("Starts at"))
    scheduled_end = SchoolDateTimeField(label=_("Ends at"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("scheduled_start", "scheduled_end"):
            self.fields[name].help_text = _time_help()
