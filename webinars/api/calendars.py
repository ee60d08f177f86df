"""API views: calendar feeds (docs/calendars.md) and attendance reports."""

import csv
import io

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from webinars import roles
from webinars.api.negotiation import TextAnswerNegotiation
from webinars.api.schema import text_response
from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin
from webinars.models import Attendance, CalendarToken, Room
from webinars.selectors.calendars import (
    feed_ics,
    open_lesson_events,
    personal_events,
    room_event,
)
from webinars.selectors.viewer import viewer_facts_for

ICS = "text/calendar; charset=utf-8"
ICS_RESPONSE = text_response("text/calendar", "iCalendar (RFC 5545)")


def _base_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _ics(*, name: str, events) -> HttpResponse:
    return HttpResponse(feed_ics(name=name, events=events), content_type=ICS)


class PersonalCalendarApi(APIView):
    """A user's lessons as an iCal subscription; the token in the URL is the only credential
    (regenerated from "My lessons": the old URL answers 404 at once)."""

    content_negotiation_class = TextAnswerNegotiation

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="calendar_personal_ics", responses=ICS_RESPONSE)
    def get(self, request, token: str):
        owner = CalendarToken.objects.select_related("user").filter(token=token).first()
        if owner is None or not owner.user.is_active:
            raise Http404
        user = owner.user
        return _ics(
            name=f"Lessons of {user.get_full_name() or user.get_username()}",
            events=personal_events(user=user, base_url=_base_url(request)),
        )


class OpenLessonsCalendarApi(APIView):
    """Every open lesson (two weeks back, two months ahead), for anyone; throttled."""

    content_negotiation_class = TextAnswerNegotiation

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(operation_id="calendar_open_lessons_ics", responses=ICS_RESPONSE)
    def get(self, request):
        return _ics(
            name=f"{settings.WAGTAIL_SITE_NAME}: open lessons",
            events=open_lesson_events(base_url=_base_url(request)),
        )


class RoomCalendarApi(APIView):
    """One room as an iCal event, for anyone who may join it (open rooms: anyone)."""

    content_negotiation_class = TextAnswerNegotiation

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="rooms_calendar_ics",
        responses={
            **ICS_RESPONSE,
            403: OpenApiResponse(description="You may not see this room."),
        },
    )
    def get(self, request, room_id: int):
        room = get_object_or_404(Room.objects.select_related("lesson__subject"), pk=room_id)
        if not roles.may_read_room_calendar(viewer_facts_for(room=room, user=request.user)):
            raise PermissionDenied("You may not see this room.")
        return _ics(
            name=room.display_title, events=[room_event(room=room, base_url=_base_url(request))]
        )


class AttendanceSerializer(serializers.ModelSerializer):
    joined_at = ZonedDateTimeField()
    left_at = ZonedDateTimeField(allow_null=True, help_text="null while still in the room")
    duration_secs = serializers.SerializerMethodField()

    class Meta:
        model = Attendance
        fields = ["user", "display_name", "role", "joined_at", "left_at", "duration_secs", "source"]

    def get_duration_secs(self, row) -> int | None:
        return int(row.duration.total_seconds()) if row.duration else None


class RoomAttendanceApi(ZonedTimesMixin, APIView):
    """Who was in the room and for how long; for the room's moderators and school staff."""

    @extend_schema(responses=AttendanceSerializer(many=True))
    def get(self, request, room_id: int):
        return Response(self.rows(request, room_id)[1])

    @staticmethod
    def rows(request, room_id: int):
        room = get_object_or_404(Room.objects.select_related("lesson"), pk=room_id)
        if not roles.may_read_attendance(viewer_facts_for(room=room, user=request.user)):
            raise PermissionDenied("Only the room's teachers and school staff see attendance.")
        rows = AttendanceSerializer(
            room.attendances.all(), many=True, context={"request": request}
        ).data
        return room, rows


class RoomAttendanceCsvApi(ZonedTimesMixin, APIView):
    """The same rows as ``attendance/``, as a spreadsheet (CSV, one column per field)."""

    content_negotiation_class = TextAnswerNegotiation

    @extend_schema(
        operation_id="rooms_attendance_csv",
        responses=text_response("text/csv", "CSV with a header row"),
    )
    def get(self, request, room_id: int):
        room, rows = RoomAttendanceApi.rows(request, room_id)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=AttendanceSerializer.Meta.fields)
        writer.writeheader()
        writer.writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="attendance-room-{room.pk}.csv"'
        return response


urlpatterns = [
    # before the personal feed's pattern, which would take "open-lessons" for a token
    path(
        "calendar/open-lessons.ics",
        OpenLessonsCalendarApi.as_view(),
        name="api-calendar-open-lessons",
    ),
    path("calendar/<str:token>.ics", PersonalCalendarApi.as_view(), name="api-calendar-personal"),
    path("rooms/<int:room_id>/calendar.ics", RoomCalendarApi.as_view(), name="api-room-calendar"),
    path("rooms/<int:room_id>/attendance/", RoomAttendanceApi.as_view(), name="api-attendance"),
    path(
        "rooms/<int:room_id>/attendance.csv",
        RoomAttendanceCsvApi.as_view(),
        name="api-attendance-csv",
    ),
]
