"""Subjects, classes, enrolments and guardianships in the admin: who belongs where.

Every person field is a chooser of the right group only (students, parents); the models refuse
a wrong pick too, so nothing but these screens' own validation is needed.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin import messages
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from webinars.admin.common import (
    RowAction,
    SchoolIndexView,
    SchoolModelViewSet,
    person_column,
)
from webinars.admin.people import parent_chooser, student_chooser
from webinars.forms import EnrolClassForm, SchoolClassAdminForm
from webinars.models import Enrollment, Guardianship, SchoolClass, Subject
from webinars.people import person_label
from webinars.services.series import class_enrol_in_subject


class SubjectViewSet(SchoolModelViewSet):
    model = Subject
    icon = "folder-open-1"
    form_fields = ["name", "code"]
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    list_export = ["name", "code"]
    export_filename = "subjects"


# --- Classes ------------------------------------------------------------------------------


class EnrolClassView(WagtailAdminTemplateMixin, FormView):
    """Enrol every student of a class in one subject (POST, CSRF-protected)."""

    template_name = "webinars/admin/enrol_class.html"
    form_class = EnrolClassForm
    header_icon = "group"
    page_title = _("Enrol the class in a subject")

    def dispatch(self, request, pk):
        self.school_class = get_object_or_404(SchoolClass, pk=pk)
        if not request.user.has_perm("webinars.add_enrollment"):
            raise PermissionDenied
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return str(self.school_class)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            school_class=self.school_class,
            students=[person_label(s) for s in self.school_class.students.all()],
            cancel_url=reverse("classes:index"),
            **kwargs,
        )

    def form_valid(self, form):
        subject = form.cleaned_data["subject"]
        added = class_enrol_in_subject(school_class=self.school_class, subject=subject)
        messages.success(
            self.request,
            _("%(count)s students of %(class)s newly enrolled in %(subject)s.")
            % {"count": added, "class": self.school_class, "subject": subject},
        )
        return redirect("classes:index")


class SchoolClassViewSet(SchoolModelViewSet):
    model = SchoolClass
    icon = "group"
    menu_label = _("Classes")
    list_display = [
        "name",
        Column("size", label=_("Students"), sort_key="size"),
    ]
    search_fields = ["name"]
    list_export = ["name", "students"]
    export_filename = "classes"
    inspect_view_enabled = True
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("students")], base_form_class=SchoolClassAdminForm
    )

    class index_view_class(SchoolIndexView):  # noqa: N801 - Wagtail's attribute name
        row_actions = [RowAction("enrol", _("Enrol the class in a subject"), "group")]

        def get_base_queryset(self):
            return super().get_base_queryset().annotate(size=Count("students"))

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("enrol/<int:pk>/", EnrolClassView.as_view(), name="enrol"),
        ]


# --- Enrolments and guardianships ---------------------------------------------------------


class EnrollmentFilterSet(django_filters.FilterSet):
    school_class = django_filters.ModelChoiceFilter(
        field_name="student__school_classes", queryset=SchoolClass.objects.all(), label=_("Class")
    )

    class Meta:
        model = Enrollment
        fields = ["subject", "school_class"]


class EnrollmentViewSet(SchoolModelViewSet):
    model = Enrollment
    list_select_related = ("student", "subject")
    icon = "group"
    list_display = ["__str__", person_column("student", _("Student")), "subject"]
    filterset_class = EnrollmentFilterSet
    search_fields = ["student__username", "student__first_name", "student__last_name"]
    list_export = ["student", "subject"]
    export_filename = "enrolments"
    edit_handler = ObjectList(
        [FieldPanel("student", widget=student_chooser.widget_class), FieldPanel("subject")]
    )


class GuardianshipFilterSet(django_filters.FilterSet):
    school_class = django_filters.ModelChoiceFilter(
        field_name="child__school_classes", queryset=SchoolClass.objects.all(), label=_("Class")
    )

    class Meta:
        model = Guardianship
        fields = ["school_class"]


class GuardianshipViewSet(SchoolModelViewSet):
    model = Guardianship
    list_select_related = ("parent", "child")
    icon = "user"
    list_display = [
        "__str__",
        person_column("parent", _("Parent")),
        person_column("child", _("Child")),
    ]
    filterset_class = GuardianshipFilterSet
    search_fields = [
        "parent__username",
        "parent__last_name",
        "child__username",
        "child__last_name",
    ]
    list_export = ["parent", "child"]
    export_filename = "parents-and-children"
    edit_handler = ObjectList(
        [
            FieldPanel("parent", widget=parent_chooser.widget_class),
            FieldPanel("child", widget=student_chooser.widget_class),
        ]
    )
