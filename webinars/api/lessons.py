"""API views: discovery and lists — lessons, subjects, classes, rooms, the caller's timetable.

Every list is paginated and filtered the same way (``webinars.api.listing``) and costs the
same number of queries whatever the page size; the lessons' rows are read as values
(``webinars.api.lesson_rows``).

Who sees what (docs/api.md, ``webinars.selectors.lessons``):

- lessons (timetable information: title, time, subject, teacher's name): school staff and
  teachers see every lesson; students, parents and anyone else signed in see the lessons they
  are tied to (teach, co-teach, are expected in, or their child is) and the open lessons. A
  lesson they may not see is a 404, as if it did not exist.
- rooms (they name the video room): exactly ``roles.may_read_room``.
- subjects: everyone signed in. Classes: everyone signed in; the student count for school
  staff only (a class's size is not the others' business).
- ``me/lessons/``: the caller's own timetable (the lessons they are tied to; school staff:
  every lesson), with their role, the room's status and ``can_join_now``.
"""

from datetime import datetime, time, timedelta

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound

from webinars import roles
from webinars.api.lesson_rows import lesson_rows
from webinars.api.listing import (
    LIST_ERRORS,
    TIMETABLE_DAYS,
    LessonQuerySerializer,
    ListPagination,
    ListQuerySerializer,
    RoomQuerySerializer,
    TimetableQuerySerializer,
    list_query,
    overlapping,
)
from webinars.api.schema import ErrorSerializer
from webinars.api.serializers import (
    UTC,
    LessonRowSerializer,
    RoomSerializer,
    SchoolClassRefSerializer,
    SubjectSerializer,
    TimetableRowSerializer,
    ZonedTimesMixin,
    lesson_room,
    requested_zone,
)
from webinars.choices import RoomStatus
from webinars.lifecycle import room_window
from webinars.selectors.lessons import (
    classes_list,
    lesson_for_lister,
    lessons_for_lister,
    lessons_visible,
    lister_for,
    rooms_for_lister,
    subjects_list,
)
from webinars.selectors.viewer import viewer_facts_from_ties
from webinars.timezones import school_zone

# --- Views ------------------------------------------------------------------------------------


class ListApi(generics.ListAPIView):
    pagination_class = ListPagination

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["zone"] = requested_zone(self.request)
        return context


class LessonListApi(ZonedTimesMixin, ListApi):
    """Lessons, by start time. School staff and teachers see every lesson; students, parents and
    anyone else signed in see the lessons they are tied to (teach, co-teach, are expected in, or
    a child of theirs is) and the open lessons (docs/api.md)."""

    serializer_class = LessonRowSerializer

    @extend_schema(
        parameters=[LessonQuerySerializer],
        responses={200: LessonRowSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        """``ListAPIView.list`` with the rows of ``lesson_rows`` (its docstring)."""
        lessons = self.filter_queryset(self.get_queryset())
        rows = lesson_rows(lessons, paginate=self.paginate_queryset, zone=requested_zone(request))
        return self.get_paginated_response(rows)

    def get_queryset(self):
        params = list_query(self, LessonQuerySerializer)
        lister = lister_for(user=self.request.user)
        lessons = lessons_visible(lister=lister, mine=bool(params.get("mine")))
        subject = params.get("subject")
        if subject is not None:
            subject = subject.strip()
            if subject.isdigit():
                lessons = lessons.filter(subject_id=int(subject))
            else:
                lessons = lessons.filter(subject__code__iexact=subject)
        if params.get("teacher") is not None:
            lessons = lessons.filter(teacher_id=params["teacher"])
        if params.get("class") is not None:
            lessons = lessons.filter(school_class_id=params["class"])
        if params.get("is_open") is not None:
            lessons = lessons.filter(is_open=params["is_open"])
        lessons = overlapping(lessons, params)
        if params.get("ordering", "scheduled_start").startswith("-"):
            return lessons.order_by("-scheduled_start", "-id")
        return lessons.order_by("scheduled_start", "id")


class LessonDetailApi(ZonedTimesMixin, generics.RetrieveAPIView):
    """One lesson, as the list shows it; 404 when it does not exist or is not yours to see."""

    serializer_class = LessonRowSerializer

    @extend_schema(
        parameters=[OpenApiParameter("tz", str, description="Zone of the times (default UTC).")],
        responses={
            200: LessonRowSerializer,
            401: LIST_ERRORS[status.HTTP_401_UNAUTHORIZED],
            404: OpenApiResponse(
                ErrorSerializer, description="No such lesson (or not yours to see)."
            ),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["zone"] = requested_zone(self.request)
        return context

    def get_object(self):
        lesson = lesson_for_lister(
            lister=lister_for(user=self.request.user), lesson_id=self.kwargs["lesson_id"]
        )
        if lesson is None:
            raise NotFound(_("No such lesson."))
        return lesson


class SubjectListApi(ListApi):
    """Every subject: id, name, code (by name)."""

    serializer_class = SubjectSerializer

    @extend_schema(
        parameters=[ListQuerySerializer],
        responses={200: SubjectSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        list_query(self, ListQuerySerializer)
        return subjects_list()


class SchoolClassRowSerializer(SchoolClassRefSerializer):
    # not required: DRF leaves it out of the rows that have no count (everyone but staff)
    student_count = serializers.IntegerField(
        read_only=True, required=False, help_text="School staff only."
    )

    class Meta(SchoolClassRefSerializer.Meta):
        fields = ["id", "name", "student_count"]
        read_only_fields = fields


class SchoolClassListApi(ListApi):
    """Every class: id and name, by name; school staff also get ``student_count``."""

    serializer_class = SchoolClassRowSerializer

    @extend_schema(
        parameters=[ListQuerySerializer],
        responses={200: SchoolClassRowSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        list_query(self, ListQuerySerializer)
        lister = lister_for(user=self.request.user)
        return classes_list(with_counts=lister.facts.is_school_staff)


class RoomListApi(ZonedTimesMixin, ListApi):
    """The rooms you may read (``roles.may_read_room``: school staff every room), by start time;
    each as ``GET /api/rooms/{id}/`` shows it."""

    serializer_class = RoomSerializer

    @extend_schema(
        parameters=[RoomQuerySerializer], responses={200: RoomSerializer(many=True), **LIST_ERRORS}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = list_query(self, RoomQuerySerializer)
        rooms = rooms_for_lister(lister=lister_for(user=self.request.user))
        if params.get("status"):
            rooms = rooms.filter(status=params["status"])
        return overlapping(rooms, params).order_by("scheduled_start", "id")


class TimetableApi(ZonedTimesMixin, ListApi):
    """Your timetable: the lessons you are tied to (school staff: every lesson) overlapping
    ``from``–``to`` (default today and the next 7 days, in the school's zone), by start time,
    each with your role (as the Join button gives it), the room's status and ``can_join_now``."""

    serializer_class = TimetableRowSerializer

    @extend_schema(
        parameters=[TimetableQuerySerializer],
        responses={200: TimetableRowSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = list_query(self, TimetableQuerySerializer)
        start = params.get("from")
        if start is None:
            today = timezone.now().astimezone(school_zone()).date()
            start = datetime.combine(today, time.min, tzinfo=school_zone()).astimezone(UTC)
        end = params.get("to") or start + timedelta(days=TIMETABLE_DAYS)
        if end <= start:
            raise serializers.ValidationError({"to": [_("Must be after from.")]})
        self.lister = lister_for(user=self.request.user)
        lessons = lessons_for_lister(
            lister=self.lister, mine=not self.lister.facts.is_school_staff, ties=True
        )
        return overlapping(lessons, {"from": start, "to": end}).order_by("scheduled_start", "id")

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        now = timezone.now()
        for lesson in page:
            facts = viewer_facts_from_ties(viewer=self.lister.facts, lesson=lesson)
            decision = roles.decide_join(facts)
            lesson.my_role = decision.role
            room = lesson_room(lesson)
            if room is None:
                window_start, window_end = room_window(lesson.scheduled_start, lesson.scheduled_end)
            else:
                window_start, window_end = room.window_start, room.window_end
            refusal = roles.decide_window(
                room_status=RoomStatus.SCHEDULED if room is None else room.status,
                is_cancelled=lesson.is_cancelled,
                window_start=window_start,
                window_end=window_end,
                now=now,
            )
            lesson.can_join_now = decision.granted and refusal is None
        return page


urlpatterns = [
    path("lessons/", LessonListApi.as_view(), name="api-lessons"),
    path("lessons/<int:lesson_id>/", LessonDetailApi.as_view(), name="api-lesson-detail"),
    path("subjects/", SubjectListApi.as_view(), name="api-subjects"),
    path("classes/", SchoolClassListApi.as_view(), name="api-classes"),
    path("rooms/", RoomListApi.as_view(), name="api-rooms"),
    path("me/lessons/", TimetableApi.as_view(), name="api-me-lessons"),
]
