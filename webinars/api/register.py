"""API views: the register (docs/register.md) and where sessions' ends come from.

- ``GET rooms/{id}/register/`` (+ ``register.csv``): a lesson's register, for the lesson's
  teachers and school staff (``roles.may_read_attendance``); others 403.
- ``GET attendance/?student=&from=&to=``: one student's lines across lessons, for the student,
  their parents, their teachers (only the lessons they teach) and staff.
- ``POST webhooks/prosody/events/occupant/joined|left`` (and ``room/created|destroyed``):
  Prosody's event_sync component, ``Authorization: Bearer <PROSODY_EVENT_SECRET>``.
- ``POST rooms/{id}/left/``: the teacher's embedded room says they hung up.
"""

from datetime import date, datetime, time, timedelta

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars import roles
from webinars.api.negotiation import TextAnswerNegotiation
from webinars.api.parsers import webhook_body
from webinars.api.schema import text_response
from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin
from webinars.choices import JitsiEnv, RegisterStatus
from webinars.models import Room
from webinars.providers import WebhookInvalid, WebhookUnauthorized, provider_for_env
from webinars.recordings import webhook_events_handle
from webinars.selectors.register import (
    register_csv,
    register_rules,
    room_register,
    status_label,
    student_register,
    student_ties,
)
from webinars.selectors.viewer import viewer_facts_for
from webinars.services.register import session_end_embedded
from webinars.timezones import school_zone

MAX_RANGE_DAYS = 400


class RegisterLineSerializer(serializers.Serializer):
    name = serializers.CharField()
    user_id = serializers.IntegerField(allow_null=True)
    role = serializers.CharField(help_text="moderator, participant or observer ('' if expected)")
    status = serializers.ChoiceField(
        choices=RegisterStatus.choices, allow_null=True, help_text="null for others"
    )
    status_label = serializers.SerializerMethodField()
    late = serializers.BooleanField()
    left_early = serializers.BooleanField()
    first_join = ZonedDateTimeField(allow_null=True)
    last_leave = ZonedDateTimeField(allow_null=True, help_text="null: absent, or still in")
    minutes = serializers.IntegerField(help_text="minutes inside the lesson, stays merged")
    stays = serializers.IntegerField(source="presence.stays")

    def get_status_label(self, line) -> str | None:
        return status_label(line) if line.status else None


class RegisterSerializer(serializers.Serializer):
    room_id = serializers.IntegerField()
    lesson_id = serializers.IntegerField()
    title = serializers.CharField()
    scheduled_start = ZonedDateTimeField()
    scheduled_end = ZonedDateTimeField()
    is_final = serializers.BooleanField(help_text="the room has closed")
    late_after_min = serializers.IntegerField()
    left_early_before_min = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    expected = RegisterLineSerializer(many=True)
    others = RegisterLineSerializer(many=True)


def _register_or_403(request, room_id: int):
    room = get_object_or_404(Room.objects.select_related("lesson"), pk=room_id)
    if not roles.may_read_attendance(viewer_facts_for(room=room, user=request.user)):
        raise PermissionDenied("Only the lesson's teachers and school staff see its register.")
    entry = room_register(room=room)
    if entry is None:
        raise NotFound("A meeting has no register; see its attendance instead.")
    return room, entry


class RoomRegisterApi(ZonedTimesMixin, APIView):
    """The lesson's register: every expected participant with a status, then the others."""

    @extend_schema(responses=RegisterSerializer)
    def get(self, request, room_id: int):
        room, entry = _register_or_403(request, room_id)
        rules = register_rules()
        lesson = entry.lesson
        data = {
            "room_id": room.pk,
            "lesson_id": lesson.pk,
            "title": lesson.title,
            "scheduled_start": lesson.scheduled_start,
            "scheduled_end": lesson.scheduled_end,
            "is_final": entry.is_final,
            "late_after_min": int(rules.late_after.total_seconds() // 60),
            "left_early_before_min": int(rules.left_early_before.total_seconds() // 60),
            "counts": entry.register.counts(),
            "expected": entry.register.expected,
            "others": entry.register.others,
        }
        return Response(RegisterSerializer(data, context={"request": request}).data)


class RoomRegisterCsvApi(APIView):
    """The register as a spreadsheet (CSV): words in the caller's language, the school's zone."""

    content_negotiation_class = TextAnswerNegotiation

    @extend_schema(operation_id="rooms_register_csv", responses=text_response("text/csv", "CSV"))
    def get(self, request, room_id: int):
        room, entry = _register_or_403(request, room_id)
        response = HttpResponse(register_csv(entry), content_type="text/csv; charset=utf-8")
        day = entry.lesson.scheduled_start.astimezone(school_zone()).date()
        response["Content-Disposition"] = (
            f'attachment; filename="register-{day}-room-{room.pk}.csv"'
        )
        return response


# --- One student -------------------------------------------------------------------------------


def _day(request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        parsed = parse_date(raw)
    except ValueError:  # well formed, not a date (month 13)
        parsed = None
    if parsed is None:
        raise ValidationError({name: ["Use a date as YYYY-MM-DD."]})
    return parsed


def _student_id(request) -> int:
    raw = request.query_params.get("student", "")
    if not raw:
        raise ValidationError({"student": ["This parameter is required."]})
    if not raw.isdigit():
        raise ValidationError({"student": ["Give the student's numeric id."]})
    return int(raw)


class StudentLineSerializer(serializers.Serializer):
    lesson_id = serializers.IntegerField(source="lesson.pk")
    room_id = serializers.IntegerField(source="lesson.room.pk", allow_null=True, default=None)
    title = serializers.CharField(source="lesson.title")
    subject = serializers.CharField(source="lesson.subject.name")
    scheduled_start = ZonedDateTimeField(source="lesson.scheduled_start")
    scheduled_end = ZonedDateTimeField(source="lesson.scheduled_end")
    is_final = serializers.BooleanField()
    status = serializers.ChoiceField(choices=RegisterStatus.choices, source="line.status")
    status_label = serializers.SerializerMethodField()
    late = serializers.BooleanField(source="line.late")
    left_early = serializers.BooleanField(source="line.left_early")
    first_join = ZonedDateTimeField(source="line.first_join", allow_null=True)
    last_leave = ZonedDateTimeField(source="line.last_leave", allow_null=True)
    minutes = serializers.IntegerField(source="line.minutes")

    def get_status_label(self, item) -> str:
        return status_label(item.line)


class AttendancePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


class StudentAttendanceApi(ZonedTimesMixin, APIView):
    """One student's register lines, lesson by lesson, for lessons that started between
    ``from`` and ``to`` (school days, inclusive; default the last 30 days; at most 400 days)."""

    pagination_class = AttendancePagination

    @extend_schema(
        parameters=[
            OpenApiParameter("student", int, required=True),
            OpenApiParameter("from", date, description="YYYY-MM-DD, school's zone"),
            OpenApiParameter("to", date, description="YYYY-MM-DD, school's zone, inclusive"),
        ],
        responses=StudentLineSerializer(many=True),
    )
    def get(self, request):
        student_id = _student_id(request)
        today = timezone.now().astimezone(school_zone()).date()
        last = _day(request, "to", today)
        first = _day(request, "from", last - timedelta(days=30))
        if first > last:
            raise ValidationError({"from": ["Must not be after 'to'."]})
        if (last - first).days > MAX_RANGE_DAYS:
            raise ValidationError({"to": [f"Ask for at most {MAX_RANGE_DAYS} days at a time."]})
        viewer = viewer_facts_for(user=request.user)
        ties = student_ties(viewer_id=request.user.pk, student_id=student_id)
        if not roles.may_read_student_attendance(viewer, **ties):
            raise PermissionDenied("Only the student, their parents, teachers and staff see this.")
        only_taught = ties["teaches_student"] and not (
            viewer.is_school_staff or ties["is_student"] or ties["is_parent"]
        )
        zone = school_zone()
        items = student_register(
            student_id=student_id,
            start=datetime.combine(first, time.min, tzinfo=zone),
            end=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
            taught_by=request.user.pk if only_taught else None,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, request, view=self)
        data = StudentLineSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


# --- Where sessions end ------------------------------------------------------------------------


class ProsodyEventsApi(APIView):
    """Prosody's event_sync posts (docs/register.md): occupants joining and leaving a room
    become sessions; room events are recorded. 401 without the right Bearer secret, 400 naming
    the field for a body the portal cannot read; a repeat of the same event changes nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    reads_raw_body = True  # what was signed: no parser, so never a 415 (webinars.api.schema)

    @extend_schema(
        request=inline_serializer(
            "ProsodyEvent",
            {"event_name": serializers.CharField(), "room_name": serializers.CharField()},
        ),
        responses={
            200: inline_serializer(
                "ProsodyEventReceived",
                {"detail": serializers.CharField(), "duplicate": serializers.BooleanField()},
            ),
            401: OpenApiResponse(description="Missing or wrong Bearer secret."),
        },
    )
    def post(self, request, scope: str, action: str):
        provider = provider_for_env(JitsiEnv.SELF_HOSTED)
        try:
            body = webhook_body(request=request, view=self)
            events = provider.parse_webhook(headers=request.headers, body=body)
        except WebhookUnauthorized as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_401_UNAUTHORIZED)
        except WebhookInvalid as exc:
            raise ValidationError({exc.field: [exc.message]})
        outcomes = webhook_events_handle(provider=provider, events=events)
        duplicate = bool(outcomes) and all(outcome.duplicate for outcome in outcomes)
        return Response({"detail": "duplicate" if duplicate else "ok", "duplicate": duplicate})


class RoomLeftApi(APIView):
    """The embedded room's ``videoConferenceLeft``: the caller's open sessions in the room end
    now. Session-authenticated (CSRF token in ``X-CSRFToken`` or the form); JSON or a form,
    so the page can also send it with ``navigator.sendBeacon`` as it closes."""

    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=None,
        responses=inline_serializer("RoomLeft", {"ended": serializers.IntegerField()}),
    )
    def post(self, request, room_id: int):
        room = get_object_or_404(Room, pk=room_id)
        return Response({"ended": session_end_embedded(room=room, user=request.user)})


urlpatterns = [
    path("rooms/<int:room_id>/register/", RoomRegisterApi.as_view(), name="api-room-register"),
    path(
        "rooms/<int:room_id>/register.csv",
        RoomRegisterCsvApi.as_view(),
        name="api-room-register-csv",
    ),
    path("rooms/<int:room_id>/left/", RoomLeftApi.as_view(), name="api-room-left"),
    path("attendance/", StudentAttendanceApi.as_view(), name="api-student-attendance"),
    # event_sync appends these to its api_prefix, without a trailing slash
    *(
        path(
            f"webhooks/prosody/events/{scope}/{action}",
            ProsodyEventsApi.as_view(),
            {"scope": scope, "action": action},
            name=f"api-webhooks-prosody-{scope}-{action}",
        )
        for scope, actions in (("occupant", ("joined", "left")), ("room", ("created", "destroyed")))
        for action in actions
    ),
]
