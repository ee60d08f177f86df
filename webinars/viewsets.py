"""Wagtail admin for the timetable and its rooms, grouped under one "Webinars" menu (SPEC §9)."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from webinars.admin_rooms import AttendanceViewSet, JoinAuditViewSet, RecordingViewSet, RoomViewSet
from webinars.admin_rooms.screens import zoned_column
from webinars.admin_views import LessonDeleteView
from webinars.forms import LessonAdminForm
from webinars.models import Enrollment, Guardianship, Lesson, Subject

User = get_user_model()


class DateRangeFilterSet(WagtailFilterSet):
    """Base: a date-range filter on the model's ``scheduled_start``."""

    scheduled_start = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )


# --- Subjects, enrollments, guardianships -------------------------------------------------------


class SubjectViewSet(ModelViewSet):
    model = Subject
    icon = "folder-open-1"
    form_fields = ["name", "code"]
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    list_export = ["name", "code"]


class EnrollmentFilterSet(WagtailFilterSet):
    class Meta:
        model = Enrollment
        fields = ["subject"]


class EnrollmentViewSet(ModelViewSet):
    model = Enrollment
    icon = "group"
    form_fields = ["student", "subject"]
    list_display = ["student", "subject"]
    filterset_class = EnrollmentFilterSet
    search_fields = ["student__username", "student__first_name", "student__last_name"]
    list_export = ["student", "subject"]


class GuardianshipViewSet(ModelViewSet):
    model = Guardianship
    icon = "user"
    form_fields = ["parent", "child"]
    list_display = ["parent", "child"]
    search_fields = ["parent__username", "parent__last_name", "child__username", "child__last_name"]
    list_export = ["parent", "child"]


# --- Lessons --------------------------------------------------------------------------------


class LessonFilterSet(DateRangeFilterSet):
    teacher = django_filters.ModelChoiceFilter(
        label=_("Teacher"), queryset=User.objects.filter(lessons_taught__isnull=False).distinct()
    )

    class Meta:
        model = Lesson
        fields = ["subject", "teacher", "scheduled_start", "is_open", "is_cancelled"]


class LessonViewSet(ModelViewSet):
    model = Lesson
    icon = "date"
    list_display = [
        "title",
        "subject",
        "teacher",
        zoned_column("scheduled_start", _("Starts")),
        zoned_column("scheduled_end", _("Ends")),
        Column("is_open", label=_("Open")),
        Column("is_cancelled", label=_("Cancelled")),
    ]
    filterset_class = LessonFilterSet
    search_fields = ["title", "description", "subject__name", "teacher__last_name"]
    list_export = [
        "title",
        "subject",
        "teacher",
        "scheduled_start",
        "scheduled_end",
        "is_open",
        "is_cancelled",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("title"),
            FieldPanel("description"),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("scheduled_start"), FieldPanel("scheduled_end")]),
                    FieldRowPanel([FieldPanel("is_open"), FieldPanel("is_cancelled")]),
                ],
                heading=_("When"),
            ),
            FieldPanel("teacher"),
            FieldPanel("co_teachers"),
            FieldPanel("cover_image"),
        ],
        base_form_class=LessonAdminForm,
    )

    delete_view_class = LessonDeleteView

    def get_queryset(self, request):
        return Lesson.objects.select_related("subject", "teacher")


# --- Rooms, recordings, attendance, join decisions: webinars/admin_rooms.py ---------------------


class ApiTokenViewSet(ModelViewSet):
    """Per-user API tokens: create one for a user; delete it to revoke."""

    model = Token
    icon = "key"
    menu_label = _("API tokens")
    form_fields = ["user"]
    list_display = ["user", "created"]
    search_fields = ["user__username"]
    copy_view_enabled = False
    inspect_view_enabled = True


class WebinarsViewSetGroup(ModelViewSetGroup):
    menu_label = _("Webinars")
    menu_icon = "media"
    menu_order = 200
    items = (
        LessonViewSet("lessons"),
        SubjectViewSet("subjects"),
        EnrollmentViewSet("enrollments"),
        GuardianshipViewSet("guardianships"),
        RoomViewSet("rooms"),
        RecordingViewSet("recordings"),
        AttendanceViewSet("attendance"),
        JoinAuditViewSet("join_decisions"),
        ApiTokenViewSet("api_tokens"),
    )
