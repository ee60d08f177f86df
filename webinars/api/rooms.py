"""API views: rooms — a lesson's room, meetings, metadata, force close.

Who may do what (the rules are ``webinars.roles``', over the caller's facts; docs/roles.md):

- ``GET by-lesson/{id}/``: anyone with a role in the lesson (teacher, co-teacher, enrolled student,
  parent of one, school staff; any signed-in user for an open lesson) reads the room, which is
  created when the request falls inside the room's window. ``?force=1`` creates it ahead of time
  and is for the lesson's teachers and administrators only. Without a room outside the window the
  answer is 409 with ``opens_at``; a cancelled lesson without a room is 410.
- ``POST meeting/``: administrators and staff-role groups.
- ``GET {id}/``: as for by-lesson; meetings: hosts and school staff, anyone signed in if open.
- ``POST {id}/close/``: administrators (``is_staff``/superuser), the lesson's teachers, the
  meeting's hosts. Closing a closed room answers 200 with the room unchanged.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars import roles
from webinars.api.schema import TooEarlySerializer
from webinars.api.serializers import (
    RoomSerializer,
    ZonedDateTimeField,
    ZonedTimesMixin,
    requested_zone,
)
from webinars.choices import ClosedReason
from webinars.lifecycle import room_window
from webinars.models import MAX_LESSON_DURATION, Lesson, Room
from webinars.selectors.viewer import viewer_facts_for
from webinars.services.meetings import meeting_create
from webinars.services.rooms import room_close, room_ensure_for_lesson


def _room_or_404(room_id: int) -> Room:
    room = (
        Room.objects.select_related("lesson__subject", "lesson__teacher").filter(pk=room_id).first()
    )
    if room is None:
        raise NotFound("No such room.")
    return room


class ByLessonQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(
        required=False, default=False, help_text="Create outside the window (teachers)."
    )


class RoomByLessonApi(ZonedTimesMixin, APIView):
    """The lesson's room; created inside its window, or ahead of time with ``?force=1``."""

    @extend_schema(
        parameters=[ByLessonQuerySerializer],
        responses={
            200: RoomSerializer,
            409: OpenApiResponse(TooEarlySerializer, description="No room yet: before the window."),
            410: OpenApiResponse(description="The lesson is cancelled; it has no room."),
        },
    )
    def get(self, request, lesson_id: int):
        query = ByLessonQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lesson = get_object_or_404(
            Lesson.objects.select_related("subject", "teacher"), pk=lesson_id
        )
        facts = viewer_facts_for(lesson=lesson, user=request.user)
        if not roles.may_read_room(facts):
            raise PermissionDenied("You have no role in this lesson.")
        room = Room.objects.filter(lesson_id=lesson.pk).first()
        if room is None:
            if lesson.is_cancelled:
                return Response(
                    {"detail": "The lesson is cancelled; it has no room."},
                    status=status.HTTP_410_GONE,
                )
            opens_at, closes_at = room_window(lesson.scheduled_start, lesson.scheduled_end)
            in_window = opens_at <= timezone.now() < closes_at
            if not in_window and not query.validated_data["force"]:
                return Response(
                    {
                        "detail": "The room is created when its window opens; "
                        "the lesson's teacher may create it earlier with force=1.",
                        "opens_at": opens_at.astimezone(requested_zone(request)).isoformat(),
                    },
                    status=status.HTTP_409_CONFLICT,
                )
            if not in_window and not roles.may_manage_room(facts):
                raise PermissionDenied(
                    "Only the lesson's teacher or an administrator may create its room "
                    "ahead of time (force=1)."
                )
            room, _created = room_ensure_for_lesson(lesson=lesson)
        room.lesson = lesson
        return Response(RoomSerializer(room, context={"request": request}).data)


class MeetingCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    scheduled_start = ZonedDateTimeField()
    scheduled_end = ZonedDateTimeField()
    is_open = serializers.BooleanField(default=True)

    def validate(self, attrs):
        start, end = attrs["scheduled_start"], attrs["scheduled_end"]
        if end <= start:
            raise serializers.ValidationError(
                {"scheduled_end": ["The end must be after the start."]}
            )
        if end - start > MAX_LESSON_DURATION:
            raise serializers.ValidationError(
                {"scheduled_end": ["A meeting may last at most 12 hours."]}
            )
        return attrs


class MeetingCreateApi(ZonedTimesMixin, APIView):
    """Create a published meeting page (the caller hosts it) and its room."""

    @extend_schema(request=MeetingCreateSerializer, responses={201: RoomSerializer})
    def post(self, request):
        if not roles.may_create_meeting(viewer_facts_for(user=request.user)):
            raise PermissionDenied("Only school staff may create meetings.")
        serializer = MeetingCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        room = meeting_create(host=request.user, **serializer.validated_data)
        return Response(
            RoomSerializer(room, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class RoomDetailApi(ZonedTimesMixin, APIView):
    """A room's metadata (it names the Jitsi room: only people with a role may read it)."""

    @extend_schema(responses={200: RoomSerializer})
    def get(self, request, room_id: int):
        room = _room_or_404(room_id)
        if not roles.may_read_room(viewer_facts_for(room=room, user=request.user)):
            raise PermissionDenied("You have no role in this room.")
        return Response(RoomSerializer(room, context={"request": request}).data)


class RoomCloseApi(ZonedTimesMixin, APIView):
    """Close a room now (``closed_reason=forced``); the running recording waits for its file."""

    @extend_schema(request=None, responses={200: RoomSerializer})
    def post(self, request, room_id: int):
        room = _room_or_404(room_id)
        facts = viewer_facts_for(room=room, user=request.user)
        if not roles.may_manage_room(facts):
            if not roles.may_read_room(facts):
                raise PermissionDenied("You have no role in this room.")
            raise PermissionDenied("Only administrators and the room's moderators may close it.")
        room = room_close(room=room, reason=ClosedReason.FORCED)
        return Response(RoomSerializer(room, context={"request": request}).data)


urlpatterns = [
    path("rooms/by-lesson/<int:lesson_id>/", RoomByLessonApi.as_view(), name="api-room-by-lesson"),
    path("rooms/meeting/", MeetingCreateApi.as_view(), name="api-room-meeting"),
    path("rooms/<int:room_id>/", RoomDetailApi.as_view(), name="api-room-detail"),
    path("rooms/<int:room_id>/close/", RoomCloseApi.as_view(), name="api-room-close"),
]
