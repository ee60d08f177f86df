"""API views: discovery and lists — lessons, subjects, classes, rooms, the caller's timetable.

Every list is paginated the same way (``ListPagination``: ``count``, ``next``, ``previous``,
``results``; ``page``, ``page_size`` up to 100, 50 by default) and costs the same number of
queries whatever the page size. Filters are read by one query serializer per list, so a bad
value is a 400 naming the parameter (``{"detail": "Invalid input: from.", "errors": …}``).

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
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.fields import empty
from rest_framework.pagination import PageNumberPagination

from webinars import roles
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
from webinars.models import Lesson
from webinars.selectors.lessons import (
    classes_list,
    lesson_for_lister,
    lessons_for_lister,
    lister_for,
    rooms_for_lister,
    subjects_list,
)
from webinars.selectors.viewer import viewer_facts_from_ties
from webinars.timezones import school_zone

MAX_PAGE_SIZE = 100
TIMETABLE_DAYS = 7


class ListPagination(PageNumberPagination):
    """``?page=`` and ``?page_size=`` (1–100, 50 by default); a page past the last is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


ERROR = INVALID = ErrorSerializer  # the API's one error body (webinars.api.schema)
LIST_ERRORS = {
    status.HTTP_400_BAD_REQUEST: OpenApiResponse(INVALID, description="A filter's bad value."),
    status.HTTP_401_UNAUTHORIZED: OpenApiResponse(ERROR, description="Not signed in."),
    status.HTTP_404_NOT_FOUND: OpenApiResponse(ERROR, description="No such page."),
}


# --- Query parameters -------------------------------------------------------------------------


class QueryBooleanField(serializers.BooleanField):
    """true/false (1/0, yes/no); absent means "either" (DRF's own field takes absent as false
    in a query string)."""

    default_empty_html = empty


@extend_schema_field(
    {
        "type": "string",
        "description": "An ISO 8601 date-time with a UTC offset, or a date (the school's zone).",
        "example": "2026-09-12",
    }
)
class MomentField(serializers.Field):
    """A moment: an aware ISO 8601 date-time, or a date meaning the start of that day in the
    school's zone (``day_after``: the start of the next day, so ``to=2026-09-12`` includes it)."""

    default_error_messages = {
        "invalid": _(
            "Give a date (2026-09-12) or a date and time with a UTC offset "
            "(2026-09-12T10:00:00+02:00)."
        ),
        "naive": _(
            "Include a UTC offset, e.g. 2026-09-12T10:00:00+02:00 (naive times are "
            "ambiguous), or give a date."
        ),
    }

    def __init__(self, *, day_after: bool = False, **kwargs):
        self.day_after = day_after
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            day = parse_date(text)
            moment = None if day is not None else parse_datetime(text)
        except ValueError:  # well-formed but impossible: month 13, hour 25
            self.fail("invalid")
        if day is not None:
            if self.day_after:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=school_zone()).astimezone(UTC)
        if moment is None:
            self.fail("invalid")
        if timezone.is_naive(moment):
            self.fail("naive")
        return moment.astimezone(UTC)

    def to_representation(self, value):
        return value.isoformat()


class ListQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, help_text="1 is the first page.")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, help_text="Rows per page (50)."
    )


class PeriodQuerySerializer(ListQuerySerializer):
    """``from`` and ``to`` (Python keywords, so added in ``get_fields``): what overlaps them."""

    period_help = ("Overlapping from this moment.", "Overlapping until this moment.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = MomentField(required=False, help_text=self.period_help[0])
        fields["to"] = MomentField(required=False, day_after=True, help_text=self.period_help[1])
        return fields

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"to": [_("Must be after from.")]})
        return attrs


class LessonQuerySerializer(PeriodQuerySerializer):
    subject = serializers.CharField(
        required=False, max_length=120, help_text="A subject's id or code (any case)."
    )
    teacher = serializers.IntegerField(required=False, min_value=1, help_text="A teacher's id.")
    is_open = QueryBooleanField(required=False, help_text="true: open lessons only; false: none.")
    mine = QueryBooleanField(
        required=False, help_text="1: only lessons you teach or are expected in (or your child)."
    )
    ordering = serializers.ChoiceField(
        choices=["scheduled_start", "-scheduled_start"],
        required=False,
        help_text="By start time (default scheduled_start).",
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.IntegerField(
            required=False, min_value=1, help_text="A class's id."
        )
        return fields


class AnyCaseChoiceField(serializers.ChoiceField):
    """A choice of upper-case codes, given in any case (``open`` is ``OPEN``)."""

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).upper())


class RoomQuerySerializer(PeriodQuerySerializer):
    status = AnyCaseChoiceField(
        choices=RoomStatus.choices, required=False, help_text="The room's status (any case)."
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )


class TimetableQuerySerializer(PeriodQuerySerializer):
    period_help = (
        "Overlapping from this moment (default: today, in the school's zone).",
        f"Overlapping until this moment (default: {TIMETABLE_DAYS} days after from).",
    )
    tz = serializers.CharField(
        required=False, allow_blank=True, help_text="Zone of the times (default UTC)."
    )


def _query(view, serializer_class) -> dict:
    """The view's validated query parameters (400 naming the bad ones); ``tz`` checked too."""
    query = serializer_class(data=view.request.query_params)
    query.is_valid(raise_exception=True)
    requested_zone(view.request)
    return query.validated_data


def _overlapping(rows, params: dict, *, start: str = "scheduled_start", end: str = "scheduled_end"):
    if params.get("from") is not None:
        rows = rows.filter(**{f"{end}__gt": params["from"]})
    if params.get("to") is not None:
        rows = rows.filter(**{f"{start}__lt": params["to"]})
    return rows


# --- Lesson rows, read as values (the list's one trick) ---------------------------------------

# What ``lesson_rows`` reads of each lesson: the columns ``LessonRowSerializer`` shows.
LESSON_ROW_COLUMNS = (
    "id",
    "title",
    "subject__id",
    "subject__name",
    "subject__code",
    "school_class__id",
    "school_class__name",
    "teacher__id",
    "teacher__username",
    "teacher__first_name",
    "teacher__last_name",
    "scheduled_start",
    "scheduled_end",
    "is_open",
    "is_cancelled",
    "room__id",
    "room__status",
    "room__is_open",
    "room__public_slug",
)


def _name(username: str, first_name: str, last_name: str) -> str:
    """``serializers.person_name`` of a user read as values: ``get_full_name()`` (first and
    last, stripped) or else the username."""
    return f"{first_name} {last_name}".strip() or username


class _LessonRows:
    """``lessons`` for the paginator: counted as they are (``SELECT COUNT(*)`` without the
    columns' joins), sliced as ``LESSON_ROW_COLUMNS`` tuples."""

    def __init__(self, lessons):
        self.lessons = lessons
        self.ordered = lessons.ordered

    def count(self) -> int:
        return self.lessons.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        return list(self.lessons.prefetch_related(None).values_list(*LESSON_ROW_COLUMNS)[index])


def lesson_rows(lessons, *, paginate, zone: ZoneInfo) -> list[dict]:
    """The page ``paginate`` picks of ``lessons`` (a ``lessons_for_lister`` queryset, ordered),
    each row exactly as ``LessonRowSerializer`` renders it with times in ``zone``.

    Why not the serializer: ``GET /api/lessons/`` is the list a school's apps page through,
    and on 50 rows building 250 model instances (lesson, subject, teacher, class, room), the
    co-teachers' prefetch machinery and 600 serializer fields took 16–25 ms in-process where
    the page's two queries take 2 ms (bench/bench_api_lists.py's database). Here the same
    columns come as tuples (``values_list``: the same joins, filters and ordering; the count
    is the lessons' own, without the joins), the co-teachers of the page in one query ordered
    as the prefetch orders them, and the rows are shaped once. The query count is unchanged.
    A test compares both paths row by row, on SQLite and PostgreSQL.
    """
    page = paginate(_LessonRows(lessons))
    co_teachers: dict[int, list[dict]] = {}
    if page:
        links = (
            Lesson.co_teachers.through.objects.filter(lesson_id__in=[row[0] for row in page])
            .order_by("user__last_name", "user__first_name", "user__username")
            .values_list(
                "lesson_id", "user__id", "user__username", "user__first_name", "user__last_name"
            )
        )
        for lesson_id, user_id, username, first, last in links:
            co_teachers.setdefault(lesson_id, []).append(
                {"id": user_id, "name": _name(username, first, last)}
            )
    base_url = settings.PORTAL_BASE_URL.rstrip("/")
    rows = []
    for (
        lesson_id,
        title,
        subject_id,
        subject_name,
        subject_code,
        class_id,
        class_name,
        teacher_id,
        username,
        first_name,
        last_name,
        start,
        end,
        is_open,
        is_cancelled,
        room_id,
        room_status,
        room_is_open,
        room_slug,
    ) in page:
        public = room_id is not None and is_open and room_is_open and room_slug
        rows.append(
            {
                "id": lesson_id,
                "title": title,
                "subject": {"id": subject_id, "name": subject_name, "code": subject_code},
                "class": None if class_id is None else {"id": class_id, "name": class_name},
                "teacher": {"id": teacher_id, "name": _name(username, first_name, last_name)},
                "co_teachers": co_teachers.get(lesson_id, []),
                "scheduled_start": start.astimezone(zone).isoformat(),
                "scheduled_end": end.astimezone(zone).isoformat(),
                "is_open": is_open,
                "is_cancelled": is_cancelled,
                "room": None if room_id is None else {"id": room_id, "status": room_status},
                "public_join_url": (
                    f"{base_url}{reverse('webinars:join', kwargs={'slug': room_slug})}"
                    if public
                    else None
                ),
            }
        )
    return rows


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
        params = _query(self, LessonQuerySerializer)
        lister = lister_for(user=self.request.user)
        lessons = lessons_for_lister(lister=lister, mine=bool(params.get("mine")))
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
        lessons = _overlapping(lessons, params)
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
            404: OpenApiResponse(ERROR, description="No such lesson (or not yours to see)."),
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
        _query(self, ListQuerySerializer)
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
        _query(self, ListQuerySerializer)
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
        params = _query(self, RoomQuerySerializer)
        rooms = rooms_for_lister(lister=lister_for(user=self.request.user))
        if params.get("status"):
            rooms = rooms.filter(status=params["status"])
        return _overlapping(rooms, params).order_by("scheduled_start", "id")


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
        params = _query(self, TimetableQuerySerializer)
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
        return _overlapping(lessons, {"from": start, "to": end}).order_by("scheduled_start", "id")

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
