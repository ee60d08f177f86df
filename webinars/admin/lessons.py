"""Lessons in the admin (weekly series and closures are in ``webinars.admin.series``).

The lesson list opens on what is coming: lessons not yet over, soonest first, then the past,
most recent first (any column heading sorts by that column instead). Its header offers the
timetable import and the snow day; a lesson's edit page shows its room and who attended.
"""

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList, Panel
from wagtail.admin.ui.tables import Column
from wagtail.admin.widgets.button import HeaderButton

from webinars.admin.common import (
    DateRangeFilterSet,
    PersonFilter,
    SchoolIndexView,
    SchoolModelViewSet,
    person_column,
    yes_no_column,
    zoned_column,
)
from webinars.admin.imports import SnowDayView, TimetableImportView
from webinars.admin.people import people_search, teacher_chooser
from webinars.admin_views import LessonDeleteView
from webinars.forms import LessonAdminForm
from webinars.models import MAX_LESSON_DURATION, Lesson, Subject
from webinars.people import TEACHERS, people_in
from webinars.selectors.lesson_room import lesson_room_summary

# --- Lessons ------------------------------------------------------------------------------


class LessonFilterSet(DateRangeFilterSet):
    teacher = PersonFilter(group=TEACHERS, label=_("Teacher"))

    class Meta:
        model = Lesson
        fields = [
            "subject",
            "school_class",
            "teacher",
            "scheduled_start",
            "is_open",
            "is_cancelled",
        ]


class UpcomingThenPast:
    """The lesson list's default order, read as two range scans of the start-time index.

    "What is coming, soonest first, then the past, latest first" as one ORDER BY sorts the
    whole timetable on every page view; as two slices of index ranges it reads only the page
    (a lesson lasts at most 12 hours, so one not yet over started less than 12 hours ago).
    Django's paginator needs only ``count()`` and slicing.
    """

    ordered = True

    def __init__(self, queryset, *, now):
        self.coming = queryset.filter(
            scheduled_end__gte=now, scheduled_start__gte=now - MAX_LESSON_DURATION
        ).order_by("scheduled_start", "pk")
        self.past = queryset.filter(scheduled_end__lt=now, scheduled_start__lt=now).order_by(
            "-scheduled_start", "-pk"
        )

    @cached_property
    def coming_count(self) -> int:
        return self.coming.count()

    def count(self) -> int:
        return self.coming_count + self.past.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        split = self.coming_count
        rows = list(self.coming[start:stop]) if start < split else []
        if stop is None or stop > split:
            rows += list(self.past[max(start - split, 0) : None if stop is None else stop - split])
        return rows


class LessonIndexView(SchoolIndexView):
    def search_queryset(self, queryset):
        """Title, or a teacher's or subject's name: the people and subjects matching are found
        first (small tables), so the lessons are scanned once with no join per row."""
        if not self.is_searching:
            return queryset
        query = self.search_query
        teachers = people_search(people_in(TEACHERS), query).values("pk")
        subjects = Subject.objects.filter(Q(name__icontains=query) | Q(code__iexact=query))
        return queryset.filter(
            Q(title__icontains=query)
            | Q(teacher__in=teachers)
            | Q(subject__in=subjects.values("pk"))
        )

    @property
    def upcoming_first(self) -> bool:
        return self.request.GET.get("ordering") not in self.get_valid_orderings()

    def paginate_queryset(self, queryset, page_size):
        # A search scans every title anyway: one sorted scan beats four range reads there.
        if self.upcoming_first and not (self.is_export or self.is_searching):
            queryset = UpcomingThenPast(queryset, now=timezone.now())
        return super().paginate_queryset(queryset, page_size)

    def order_queryset(self, queryset):
        if not self.upcoming_first:
            return super().order_queryset(queryset)
        now = timezone.now()
        return queryset.annotate(
            _over=Case(
                When(scheduled_end__lt=now, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            _coming=Case(When(scheduled_end__gte=now, then=F("scheduled_start"))),
        ).order_by("_over", F("_coming").asc(nulls_last=True), "-scheduled_start", "-pk")

    @property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Import timetable"), url=reverse("lessons:import_timetable"), icon_name="upload"
            ),
            HeaderButton(_("Snow day"), url=reverse("lessons:snow_day"), icon_name="warning"),
        ]


class LessonRoomPanel(Panel):
    """Read-only: the lesson's room (status, links) and a summary of who attended."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "webinars/admin/lesson_room_panel.html"

        def is_shown(self):
            return bool(self.instance and self.instance.pk)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context.update(lesson_room_summary(lesson=self.instance))
            return context


class LessonViewSet(SchoolModelViewSet):
    model = Lesson
    icon = "date"
    list_select_related = ("subject", "teacher", "school_class")
    list_display = [
        "title",
        "subject",
        Column("school_class", label=_("Class"), sort_key="school_class__name"),
        person_column("teacher", _("Teacher")),
        zoned_column("scheduled_start", _("Starts")),
        zoned_column("scheduled_end", _("Ends")),
        yes_no_column("is_open", _("Open")),
        yes_no_column("is_cancelled", _("Cancelled")),
    ]
    filterset_class = LessonFilterSet
    # What people search a timetable by (see LessonIndexView.search_queryset); descriptions
    # are long text, and scanning them too doubled the search's cost at 100,000 lessons.
    search_fields = ["title", "subject__name", "teacher__last_name"]
    list_export = [
        "title",
        "subject",
        "school_class",
        "teacher",
        "scheduled_start",
        "scheduled_end",
        "is_open",
        "is_cancelled",
    ]
    export_headings = {"scheduled_start": _("Starts"), "scheduled_end": _("Ends")}
    export_filename = "lessons"
    inspect_view_enabled = True
    inspect_view_fields = [
        "title",
        "subject",
        "school_class",
        "teacher",
        "co_teachers",
        "scheduled_start",
        "scheduled_end",
        "is_open",
        "is_cancelled",
        "series",
        "detached_from_series",
        "description",
    ]
    index_view_class = LessonIndexView
    delete_view_class = LessonDeleteView
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("title"),
            FieldPanel("description"),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("scheduled_start"), FieldPanel("scheduled_end")]),
                    FieldRowPanel([FieldPanel("is_open"), FieldPanel("is_cancelled")]),
                    FieldPanel("allow_past"),
                ],
                heading=_("When"),
            ),
            FieldPanel("school_class"),
            FieldPanel("teacher", widget=teacher_chooser.widget_class),
            FieldPanel("co_teachers"),
            FieldPanel("cover_image"),
            LessonRoomPanel(heading=_("Room and attendance")),
        ],
        base_form_class=LessonAdminForm,
    )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("import/", TimetableImportView.as_view(), name="import_timetable"),
            path("snow-day/", SnowDayView.as_view(), name="snow_day"),
        ]
