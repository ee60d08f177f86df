"""Weekly series and school closures in the admin: saving either one rewrites lessons.

Each save or delete is one call into ``webinars.services.series`` (logged like any admin
save), and its message says what happened to the lessons.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import CreateView, DeleteView, EditView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log

from webinars.admin.common import (
    PersonFilter,
    SchoolModelViewSet,
    person_column,
    yes_no_column,
)
from webinars.admin.people import teacher_chooser
from webinars.admin_views import LessonDeleteView
from webinars.forms import LessonSeriesAdminForm
from webinars.models import LessonSeries, SchoolClosure
from webinars.people import TEACHERS
from webinars.services.series import (
    closure_create,
    closure_delete,
    closure_update,
    series_delete,
    series_generate,
    series_update,
)

# --- Weekly series ------------------------------------------------------------------------


class SeriesSaveMixin:
    """Saving a series regenerates its lessons: one service call, logged like any admin save."""

    log_action = ""

    def save_instance(self):
        write = series_update if self.form.instance.pk else series_generate
        self.counts = write(
            series=self.form.instance,
            co_teacher_ids=self.form.co_teacher_ids(),
            allow_past=bool(self.form.cleaned_data.get("allow_past")),
        )
        log(instance=self.form.instance, action=self.log_action, user=self.request.user)
        return self.form.instance

    def get_success_message(self, *args):
        counts = self.counts
        return _(
            "Series “%(series)s” saved: %(created)s lessons created, %(updated)s updated, "
            "%(cancelled)s cancelled."
        ) % {
            "series": self.object,
            "created": counts.created,
            "updated": counts.updated,
            "cancelled": counts.cancelled,
        }


class SeriesCreateView(SeriesSaveMixin, CreateView):
    log_action = "wagtail.create"


class SeriesEditView(SeriesSaveMixin, EditView):
    log_action = "wagtail.edit"


class SeriesDeleteView(LessonDeleteView):
    """Deleting a series deletes its lessons, refused while one has a READY recording."""

    def delete_action(self):
        series_delete(series=self.object)


class LessonSeriesFilterSet(django_filters.FilterSet):
    teacher = PersonFilter(group=TEACHERS, label=_("Teacher"))

    class Meta:
        model = LessonSeries
        fields = ["subject", "school_class", "teacher", "weekday", "is_open"]


class LessonSeriesViewSet(SchoolModelViewSet):
    model = LessonSeries
    icon = "repeat"
    list_select_related = ("subject", "teacher", "school_class")
    menu_label = _("Weekly series")
    list_display = [
        "__str__",
        "subject",
        Column("school_class", label=_("Class"), sort_key="school_class__name"),
        person_column("teacher", _("Teacher")),
        Column("weekday", label=_("Weekday"), accessor="get_weekday_display", sort_key="weekday"),
        Column("first_date", label=_("First date"), sort_key="first_date"),
        Column("last_date", label=_("Last date"), sort_key="last_date"),
        yes_no_column("is_open", _("Open")),
    ]
    list_filter = ["subject", "school_class", "weekday", "is_open"]
    search_fields = ["title", "ref", "subject__name", "teacher__last_name"]
    list_export = [
        "ref",
        "subject",
        "school_class",
        "teacher",
        "weekday",
        "start_time",
        "end_time",
        "first_date",
        "last_date",
        "is_open",
        "title",
    ]
    inspect_view_enabled = True
    add_view_class = SeriesCreateView
    edit_view_class = SeriesEditView
    delete_view_class = SeriesDeleteView
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("school_class"),
            FieldPanel("title"),
            MultiFieldPanel(
                [
                    FieldPanel("weekday"),
                    FieldRowPanel([FieldPanel("start_time"), FieldPanel("end_time")]),
                    FieldRowPanel([FieldPanel("first_date"), FieldPanel("last_date")]),
                    FieldPanel("allow_past"),
                ],
                heading=_("When"),
            ),
            FieldPanel("teacher", widget=teacher_chooser.widget_class),
            FieldPanel("co_teachers"),
            FieldPanel("is_open"),
            FieldPanel("ref"),
        ],
        base_form_class=LessonSeriesAdminForm,
    )


# --- Closures -----------------------------------------------------------------------------


class ClosureCreateView(CreateView):
    """A new closure cancels the lessons inside it that have not started (one service call)."""

    def save_instance(self):
        closure = self.form.instance
        self.form.instance, self.cancelled = closure_create(
            start_date=closure.start_date, end_date=closure.end_date, reason=closure.reason
        )
        log(instance=self.form.instance, action="wagtail.create", user=self.request.user)
        return self.form.instance

    def get_success_message(self, instance):
        return _("Closure “%(closure)s” added: %(count)s lessons cancelled.") % {
            "closure": instance,
            "count": self.cancelled,
        }


class ClosureEditView(EditView):
    def save_instance(self):
        self.revived, self.cancelled = closure_update(closure=self.form.instance)
        log(instance=self.form.instance, action="wagtail.edit", user=self.request.user)
        return self.form.instance

    def get_success_message(self):
        return _(
            "Closure “%(closure)s” saved: %(revived)s lessons back, %(cancelled)s cancelled."
        ) % {"closure": self.object, "revived": self.revived, "cancelled": self.cancelled}


class ClosureDeleteView(DeleteView):
    """Removing a closure brings back the series' lessons it had cancelled."""

    def delete_action(self):
        closure_delete(closure=self.object)


class SchoolClosureViewSet(ModelViewSet):
    model = SchoolClosure
    icon = "calendar-alt"
    menu_label = _("Closures")
    form_fields = ["start_date", "end_date", "reason"]
    list_display = ["reason", "start_date", "end_date"]
    search_fields = ["reason"]
    list_export = ["start_date", "end_date", "reason"]
    add_view_class = ClosureCreateView
    edit_view_class = ClosureEditView
    delete_view_class = ClosureDeleteView
    copy_view_enabled = False
