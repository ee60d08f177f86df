"""API views: the caller — who they are (``GET me/``) and their calendar link's renewal.

``GET me/`` keeps its first fields (id, username, name, is_staff, groups) and adds what an
app needs to lay itself out: the caller's school roles (codes and words), a student's classes,
a parent's children and the personal calendar feed's URL (docs/calendars.md). The caller's
timetable is ``GET me/lessons/`` (``webinars.api.lessons``).

``POST me/calendar-token/`` gives the feed a new secret, through the same service as the
"new link" button of ``/my/``: the old URL answers 404 at once.
"""

from django.conf import settings
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars.api.schema import ErrorSerializer
from webinars.api.serializers import PersonSerializer, SchoolClassRefSerializer, WordsSerializer
from webinars.people import PARENTS, STUDENTS, TEACHERS
from webinars.roles import is_school_staff
from webinars.selectors.lessons import children_of, classes_of
from webinars.services.calendars import calendar_token_for, calendar_token_regenerate

# A person's school roles, in the order an app would pick its first screen by.
SCHOOL_ROLES = {
    "staff": _("School staff"),
    "teacher": _("Teacher"),
    "student": _("Student"),
    "parent": _("Parent"),
}
_ROLE_GROUPS = {"teacher": TEACHERS, "student": STUDENTS, "parent": PARENTS}


def school_roles(*, user, group_names: set[str]) -> list[dict]:
    """``[{"code", "name"}]`` of the caller's school roles: staff (the staff-role groups,
    ``is_staff`` or superuser: ``roles.is_school_staff``), then Teachers, Students, Parents."""
    codes = []
    if is_school_staff(
        is_staff=user.is_staff, is_superuser=user.is_superuser, group_names=group_names
    ):
        codes.append("staff")
    codes += [code for code, group in _ROLE_GROUPS.items() if group in group_names]
    return [{"code": code, "name": str(SCHOOL_ROLES[code])} for code in codes]


def calendar_url(token) -> str:
    """The personal feed's absolute URL, on PORTAL_BASE_URL."""
    path_ = reverse("api-calendar-personal", kwargs={"token": token.token})
    return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path_}"


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    is_staff = serializers.BooleanField()
    groups = serializers.ListField(child=serializers.CharField())
    roles = WordsSerializer(
        many=True, help_text="codes: staff, teacher, student, parent (with their words)."
    )
    classes = SchoolClassRefSerializer(
        many=True, help_text="A student's classes (members of Students)."
    )
    children = PersonSerializer(many=True, help_text="A parent's children (members of Parents).")
    calendar_url = serializers.URLField(help_text="Your personal iCal feed (keep it private).")


CALENDAR_TOKEN = inline_serializer("CalendarToken", {"calendar_url": serializers.URLField()})
NOT_SIGNED_IN = OpenApiResponse(ErrorSerializer, description="Not signed in.")


class MeApi(APIView):
    """Who the credentials belong to: school roles, classes, children, the calendar feed."""

    @extend_schema(responses={200: MeSerializer, 401: NOT_SIGNED_IN})
    def get(self, request):
        user = request.user
        groups = sorted(group.name for group in user.groups.all())
        body = {
            "id": user.pk,
            "username": user.get_username(),
            "name": user.get_full_name(),
            "is_staff": user.is_staff,
            "groups": groups,
            "roles": school_roles(user=user, group_names=set(groups)),
            # read only for members of Students and Parents (a cheap call for everyone else)
            "classes": SchoolClassRefSerializer(
                classes_of(user=user) if STUDENTS in groups else [], many=True
            ).data,
            "children": PersonSerializer(
                children_of(user=user) if PARENTS in groups else [], many=True
            ).data,
            "calendar_url": calendar_url(calendar_token_for(user=user)),
        }
        return Response(body)


class CalendarTokenApi(APIView):
    """A new secret for your calendar feed: the old URL stops working at once."""

    @extend_schema(request=None, responses={200: CALENDAR_TOKEN, 401: NOT_SIGNED_IN})
    def post(self, request):
        token = calendar_token_regenerate(user=request.user)
        return Response({"calendar_url": calendar_url(token)})


urlpatterns = [
    path("me/", MeApi.as_view(), name="api-me"),
    path("me/calendar-token/", CalendarTokenApi.as_view(), name="api-me-calendar-token"),
]
