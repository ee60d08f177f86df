"""Wagtail admin: the register reports and the log of notices (docs/register.md, notices.md).

- Reports → Register: one row per expected participant and lesson; Reports → Attendance by
  student: lessons expected, attended, late, left early, absent, minutes. Both filter by
  subject, teacher and date range (a term at a time; the last 30 days unless chosen), show
  times in the school's zone (named in the headings) and export through Wagtail's own XLSX/CSV
  buttons. The class filter picks the lessons held for that class (lessons naming a class
  expect its students; the others their subject's enrolled students, docs/register.md).
- Reports → Notices sent: who was told what and when; read only.

Registered by ``wagtail_hooks`` importing this module.
"""

from datetime import timedelta

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from webinars.models import Attendance, Lesson, Notice, SchoolClass
from webinars.selectors.register_reports import register_report_rows, student_summary_rows
from webinars.timezones import school_time

User = get_user_model()
DEFAULT_SPAN = timedelta(days=30)
ZONE = settings.TIME_ZONE


def _teachers(request):
    return User.objects.filter(lessons_taught__isnull=False).distinct().order_by("last_name")


class RegisterFilterSet(WagtailFilterSet):
    scheduled_start = django_filters.DateFromToRangeFilter(
        label=_("Lessons between"), widget=DateRangePickerWidget
    )
    teacher = django_filters.ModelChoiceFilter(
        label=_("Teacher"), queryset=_teachers, method="taught_by"
    )
    school_class = django_filters.ModelChoiceFilter(
        label=_("Class"), queryset=SchoolClass.objects.order_by("name")
    )

    class Meta:
        model = Lesson
        fields = ["school_class", "subject", "teacher", "scheduled_start"]

    def taught_by(self, queryset, name, value):
        return queryset.filter(Q(teacher=value) | Q(co_teachers=value)).distinct()


class _RegisterReport(ReportView):
    """Lessons held (not cancelled), filtered, expanded into rows by a selector."""

    filterset_class = RegisterFilterSet
    permission_policy = ModelPermissionPolicy(Attendance)
    any_permission_required = ["view", "change"]
    paginate_by = 50
    rows = staticmethod(register_report_rows)

    def get_queryset(self):
        lessons = Lesson.objects.filter(is_cancelled=False).select_related(
            "subject", "teacher", "room", "school_class"
        )
        chosen = self.filters.form.cleaned_data if self.filters and self.filters.is_valid() else {}
        if not chosen.get("scheduled_start"):
            lessons = lessons.filter(scheduled_start__gte=timezone.now() - DEFAULT_SPAN)
        return lessons.order_by("scheduled_start", "id")

    def get_filtered_queryset(self):
        return self.rows(list(self.filter_queryset(self.get_queryset())))

    def get_filename(self):
        return f"{self.export_filename}-{timezone.localdate():%Y-%m-%d}"


def _zoned(label):
    """A column heading with the zone named, lazy: an f-string here would fix the heading's
    language when the module is imported (English), whatever the admin user reads."""
    return format_lazy("{} ({})", label, ZONE)


class RegisterReportView(_RegisterReport):
    page_title = _("Register")
    header_icon = "tasks"
    index_url_name = "webinars_register_report"
    index_results_url_name = "webinars_register_report_results"
    export_filename = "register"
    columns = [
        Column("lesson_start", label=_zoned(_("Lesson starts"))),
        Column("lesson", label=_("Lesson")),
        Column("school_class", label=_("Class")),
        Column("subject", label=_("Subject")),
        Column("teacher", label=_("Teacher")),
        Column("student", label=_("Student")),
        Column("status_label", label=_("Status")),
        Column("first_join", label=_zoned(_("First join"))),
        Column("last_leave", label=_zoned(_("Last leave"))),
        Column("minutes", label=_("Minutes")),
    ]
    list_export = [
        "lesson_start",
        "lesson",
        "school_class",
        "subject",
        "teacher",
        "student",
        "status_label",
        "status",
        "first_join",
        "last_leave",
        "minutes",
    ]
    export_headings = {
        "lesson_start": _zoned(_("Lesson starts")),
        "lesson": _("Lesson"),
        "school_class": _("Class"),
        "subject": _("Subject"),
        "teacher": _("Teacher"),
        "student": _("Student"),
        "status_label": _("Status"),
        "status": _("Status code"),
        "first_join": _zoned(_("First join")),
        "last_leave": _zoned(_("Last leave")),
        "minutes": _("Minutes"),
    }


class StudentSummaryReportView(_RegisterReport):
    page_title = _("Attendance by student")
    header_icon = "user"
    index_url_name = "webinars_student_summary_report"
    index_results_url_name = "webinars_student_summary_report_results"
    export_filename = "attendance-by-student"
    rows = staticmethod(student_summary_rows)
    _fields = {
        "student": _("Student"),
        "expected": _("Lessons expected"),
        "attended": _("Attended"),
        "late": _("Late"),
        "left_early": _("Left early"),
        "absent": _("Absent"),
        "minutes": _("Minutes"),
    }
    columns = [Column(name, label=label) for name, label in _fields.items()]
    list_export = list(_fields)
    export_headings = _fields


class ReportMenuItem(MenuItem):
    def is_shown(self, request):
        return _RegisterReport.permission_policy.user_has_any_permission(
            request.user, _RegisterReport.any_permission_required
        )


def _report_urls(prefix: str, view, name: str) -> list:
    return [
        path(f"reports/{prefix}/", view.as_view(), name=name),
        path(f"reports/{prefix}/results/", view.as_view(results_only=True), name=f"{name}_results"),
    ]


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        *_report_urls("register", RegisterReportView, "webinars_register_report"),
        *_report_urls("students", StudentSummaryReportView, "webinars_student_summary_report"),
    ]


@hooks.register("register_reports_menu_item")
def register_register_menu_item():
    return ReportMenuItem(
        _("Register"), reverse("webinars_register_report"), name="register", icon_name="tasks"
    )


@hooks.register("register_reports_menu_item")
def register_student_summary_menu_item():
    return ReportMenuItem(
        _("Attendance by student"),
        reverse("webinars_student_summary_report"),
        name="attendance-by-student",
        icon_name="user",
    )


# --- Notices: who was told what and when -------------------------------------------------------


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Written by the portal only: listed, inspected and exported, never edited."""

    def user_has_permission(self, user, action):
        return action in {"view", "change"} and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return super().user_has_any_permission(user, [a for a in actions if a == "view"])


register_permission_policy(Notice, ReadOnlyPermissionPolicy(Notice))


class NoticeFilterSet(WagtailFilterSet):
    class Meta:
        model = Notice
        fields = ["kind", "status"]


class NoticeViewSet(ModelViewSet):
    model = Notice
    icon = "mail"
    menu_label = _("Notices")
    add_to_admin_menu = False  # listed under Reports, beside the register
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields: list = []
    list_display = [
        Column("person", label=_("Person")),
        Column("kind", label=_("Notice"), accessor="get_kind_display", sort_key="kind"),
        Column("lesson", label=_("Lesson")),
        Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
        Column(
            "sent_at",
            label=_zoned(_("Sent at")),
            accessor=lambda notice: school_time(notice.sent_at),
            sort_key="sent_at",
        ),
        Column("email", label=_("Sent to")),
        Column("language", label=_("Language")),
    ]
    filterset_class = NoticeFilterSet
    search_fields = ["person__username", "person__last_name", "email", "lesson__title"]
    list_export = ["person", "kind", "lesson", "version", "status", "email", "language", "sent_at"]

    def get_queryset(self, request):
        return Notice.objects.select_related("person", "lesson__subject")


@hooks.register("register_admin_viewset")
def register_notice_viewset():
    return NoticeViewSet("notices")


class NoticeMenuItem(MenuItem):
    def is_shown(self, request):
        return ReadOnlyPermissionPolicy(Notice).user_has_permission(request.user, "view")


@hooks.register("register_reports_menu_item")
def register_notice_menu_item():
    return NoticeMenuItem(
        _("Notices sent"), reverse("notices:index"), name="notices", icon_name="mail"
    )
