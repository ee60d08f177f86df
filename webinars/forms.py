"""Admin forms: times read in the school's zone, people picked from their group only."""

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from webinars.models import Subject
from webinars.people import STUDENTS, TEACHERS, people_in, person_label
from webinars.services.series import lesson_detach_if_edited, series_validate
from webinars.timezones import UTC, school_zone

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

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


# --- People pickers -----------------------------------------------------------------------


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several people of one group, named "Full Name (username)", with a filter box to search.

    The widget is Django's own filtered two-list picker (with Django's JavaScript catalogue, for
    its words); the queryset is the group, so nobody else can be submitted.
    """

    def __init__(self, *, group: str, label, **kwargs):
        kwargs.setdefault("required", False)
        widget = PeoplePicker(verbose_name=label, is_stacked=False)  # lazy: the reader's language
        super().__init__(queryset=people_in(group), label=label, widget=widget, **kwargs)

    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class PeoplePicker(FilteredSelectMultiple):
    """Django's picker with its words translated: Django's JavaScript catalogue comes first
    (Wagtail's own catalogue lacks the picker's "Choose all", "Filter", …)."""

    @property
    def media(self):
        catalogue = forms.Media(js=[reverse("webinars_widgets_jsi18n")])
        return catalogue + super().media + forms.Media(css={"all": ["admin/css/widgets.css"]})


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class PastLessonsMixin(forms.Form):
    """A tick box that makes creating lessons in the past a decision, not an accident."""

    allow_past = forms.BooleanField(
        label=_("Create lessons in the past"),
        required=False,
        help_text=_("Tick to add lessons whose time has already passed (e.g. to keep a record)."),
    )


class LessonAdminForm(PastLessonsMixin, WagtailAdminModelForm):
    scheduled_start = SchoolDateTimeField(label=_("Starts at"))
    scheduled_end = SchoolDateTimeField(label=_("Ends at"))
    co_teachers = PersonMultipleChoiceField(group=TEACHERS, label=_("Co-teachers"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("scheduled_start", "scheduled_end"):
            self.fields[name].help_text = _time_help()
        if self.instance.pk:
            del self.fields["allow_past"]  # only creating a lesson in the past needs the tick

    def clean(self):
        cleaned = super().clean()
        self.instance.allow_past = bool(cleaned.get("allow_past"))
        co_teachers = cleaned.get("co_teachers")
        if co_teachers is not None:
            self.instance.planned_co_teacher_ids = {user.pk for user in co_teachers}
        return cleaned

    def save(self, commit=True):
        lesson_detach_if_edited(lesson=self.instance, changed=self.changed_data)
        return super().save(commit=commit)


class LessonSeriesAdminForm(PastLessonsMixin, WagtailAdminModelForm):
    """The series form; saving goes through ``series_generate``/``series_update`` (the view)."""

    co_teachers = PersonMultipleChoiceField(group=TEACHERS, label=_("Co-teachers"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = school_zone().key
        for name in ("start_time", "end_time"):
            self.fields[name].help_text = _("Wall-clock time in %(zone)s, e.g. 08:30.") % {
                "zone": zone
            }

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            self.plan = series_validate(
                series=self.instance,
                co_teacher_ids=self.co_teacher_ids(),
                allow_past=bool(self.cleaned_data.get("allow_past")),
            )
        except ValidationError as error:
            self.add_error(None, error)

    def co_teacher_ids(self) -> set[int]:
        return {user.pk for user in self.cleaned_data.get("co_teachers") or ()}


class SchoolClassAdminForm(WagtailAdminModelForm):
    students = PersonMultipleChoiceField(group=STUDENTS, label=_("Students"))


class EnrolClassForm(forms.Form):
    subject = forms.ModelChoiceField(queryset=Subject.objects.all(), label=_("Subject"))


class SpreadsheetUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=_("A .csv (UTF-8) or .xlsx file; see the formats below.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."))
        return upload


class TimetableUploadForm(PastLessonsMixin, SpreadsheetUploadForm):
    pass


class PeopleUploadForm(SpreadsheetUploadForm):
    send_links = forms.BooleanField(
        label=_("Email new accounts a link to choose their password"), required=False
    )


class SnowDayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        widget=forms.DateInput(attrs={"placeholder": "YYYY-MM-DD", "autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, initial=_("Snow day"))
