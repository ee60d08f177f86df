"""The school's people in the admin: a list per group, and choosers that offer only that group.

Accounts themselves are edited in Wagtail's own Users screens (groups, passwords, activity);
these lists show a group the way the school talks about it, with classes and children, and can
email someone a link to choose their password.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.admin.widgets.chooser import BaseChooser

from webinars.admin.common import RowAction, SchoolIndexView
from webinars.admin.imports import PeopleImportView
from webinars.admin_views import ConfirmActionView
from webinars.people import PARENTS, STUDENTS, TEACHERS, people_in, person_label
from webinars.services.accounts import people_send_password_link

User = get_user_model()


def people_search(queryset, query: str):
    """Every word of ``query`` must match a name, the username or the email."""
    for word in query.split():
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    return queryset


# --- Choosers -----------------------------------------------------------------------------


class PersonSearchForm(BaseFilterForm):
    q = forms.CharField(
        label=_("Search by name, username or email"),
        widget=forms.TextInput(attrs={"placeholder": _("Search")}),
        required=False,
    )

    def filter(self, objects):
        query = self.cleaned_data.get("q")
        if query:
            self.is_searching, self.search_query = True, query
            objects = people_search(objects, query)
        return objects


class _PersonColumns:
    """The chooser lists people as "Full Name (username)" and their email."""

    filter_form_class = PersonSearchForm

    @property
    def columns(self):
        title = self.title_column  # Wagtail's, wired for single or multiple choice
        title.accessor = person_label
        title.label = _("Name")
        return [title, Column("email", label=_("Email"))]


class PersonChooseView(_PersonColumns, chooser_views.ChooseView):
    pass


class PersonChooseResultsView(_PersonColumns, chooser_views.ChooseResultsView):
    pass


class PersonChosenView(chooser_views.ChosenView):
    def get_display_title(self, instance):
        return person_label(instance)


class PersonChooserWidget(BaseChooser):
    def get_display_title(self, instance):
        return person_label(instance)


class PersonChooserViewSet(ChooserViewSet):
    """A searchable chooser of one group's members (the widget of a person field)."""

    model = User
    group = ""
    icon = "user"
    register_widget = False  # other User fields keep Wagtail's own widgets
    choose_view_class = PersonChooseView
    choose_results_view_class = PersonChooseResultsView
    chosen_view_class = PersonChosenView
    base_widget_class = PersonChooserWidget
    per_page = 20
    # Wagtail's ChooserViewSet sets these with a non-lazy gettext when it is imported, so they
    # stay in English whatever the admin user reads: lazy ones here follow the request.
    choose_another_text = _("Choose another")
    edit_item_text = _("Edit")

    def get_object_list(self):
        return people_in(self.group)


teacher_chooser = PersonChooserViewSet(
    "choose_teacher", group=TEACHERS, choose_one_text=_("Choose a teacher")
)
student_chooser = PersonChooserViewSet(
    "choose_student", group=STUDENTS, choose_one_text=_("Choose a student")
)
parent_chooser = PersonChooserViewSet(
    "choose_parent", group=PARENTS, choose_one_text=_("Choose a parent")
)
PERSON_CHOOSERS = (teacher_chooser, student_chooser, parent_chooser)


# --- Lists of a group ---------------------------------------------------------------------


class PeopleIndexView(SchoolIndexView):
    model = User
    group = ""
    header_icon = "group"
    search_fields = ["first_name", "last_name", "username", "email"]
    edit_url_name = "wagtailusers_users:edit"
    delete_url_name = "wagtailusers_users:delete"
    import_url_name = ""
    default_ordering = "last_name"
    list_export = ["username", "first_name", "last_name", "email"]
    row_actions = [RowAction("password_link", _("Email a link to set the password"), "mail")]

    def get_base_queryset(self):
        queryset = people_in(self.group)
        if self.group == STUDENTS:
            queryset = queryset.prefetch_related("school_classes")
        elif self.group == PARENTS:
            queryset = queryset.prefetch_related("guardianships__child")
        return queryset

    def search_queryset(self, queryset):
        return people_search(queryset, self.search_query) if self.is_searching else queryset

    @property
    def columns(self):
        name = self._get_title_column("last_name", accessor=person_label)
        name.label = _("Name")
        columns = [
            name,
            Column("email", label=_("Email"), sort_key="email"),
        ]
        if self.group == STUDENTS:
            columns.append(
                Column(
                    "classes",
                    label=_("Class"),
                    accessor=lambda user: ", ".join(str(c) for c in user.school_classes.all()),
                )
            )
        elif self.group == PARENTS:
            columns.append(
                Column(
                    "children",
                    label=_("Children"),
                    accessor=lambda user: ", ".join(
                        person_label(g.child) for g in user.guardianships.all()
                    ),
                )
            )
        return columns

    @property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.import_url_name:
            buttons.append(
                HeaderButton(
                    _("Import people"), url=reverse(self.import_url_name), icon_name="upload"
                )
            )
        return buttons


class PersonPasswordLinkView(ConfirmActionView):
    model = User
    header_icon = "mail"
    action_label = _("Email a link to set the password")
    question = _("Email %(object)s a link to choose a new password?")

    def get_page_subtitle(self):
        return person_label(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["question"] = self.question % {"object": person_label(self.object)}
        return context

    def perform(self) -> str:
        if not people_send_password_link(users=[self.object]):
            raise ValidationError(
                _("%(person)s has no email address.") % {"person": person_label(self.object)}
            )
        return _("Link sent to %(email)s.") % {"email": self.object.email}


class PeopleViewSet(ViewSet):
    """The members of one school group, listed by name (menu: Teachers, Students, Parents)."""

    group = ""
    icon = "group"
    menu_label = ""

    def get_urlpatterns(self):
        index = {
            "group": self.group,
            "page_title": self.menu_label,
            "index_url_name": self.get_url_name("index"),
            "index_results_url_name": self.get_url_name("index_results"),
            "import_url_name": self.get_url_name("import"),
        }
        return [
            path("", PeopleIndexView.as_view(**index), name="index"),
            path(
                "results/",
                PeopleIndexView.as_view(**index, results_only=True),
                name="index_results",
            ),
            path(
                "import/",
                PeopleImportView.as_view(index_url_name=self.get_url_name("index")),
                name="import",
            ),
            path(
                "password-link/<int:pk>/",
                PersonPasswordLinkView.as_view(index_url_name=self.get_url_name("index")),
                name="password_link",
            ),
        ]


PEOPLE_VIEWSETS = (
    PeopleViewSet("teachers", group=TEACHERS, menu_label=_("Teachers"), icon="user"),
    PeopleViewSet("students", group=STUDENTS, menu_label=_("Students"), icon="group"),
    PeopleViewSet("parents", group=PARENTS, menu_label=_("Parents"), icon="group"),
)
