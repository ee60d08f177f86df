"""API views: joining rooms and asking what one may do in them (roles: docs/roles.md)."""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from webinars.api.authentication import JoiningBearerAuthentication, JoiningToken
from webinars.api.schema import ErrorSerializer, TooEarlySerializer
from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin, requested_zone
from webinars.api.throttles import PublicJoinIpThrottle, PublicJoinSlugThrottle
from webinars.selectors.viewer import JoinRead, room_for_joining
from webinars.services.joins import (
    DISPLAY_NAME_MAX,
    JoinRefused,
    room_join_public,
    room_join_user,
    room_permissions_for,
)

ROLE_HELP = "moderator, participant or observer (docs/roles.md)."


class JoinResultSerializer(serializers.Serializer):
    join_url = serializers.CharField(help_text="The Jitsi URL to open, with a fresh token.")
    # plain strings, not enums: drf-spectacular would name the same choice set twice
    you_are = serializers.CharField(help_text=ROLE_HELP)
    expires_at = ZonedDateTimeField(help_text="When the token (and so the link) expires.")


class PublicJoinSerializer(serializers.Serializer):
    display_name = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,  # the service trims and validates (one rule for API and forms)
        max_length=DISPLAY_NAME_MAX,
        help_text='Shown to the others; trimmed, 1–64 characters, default "Guest".',
    )


class PermissionsSerializer(serializers.Serializer):
    can_join = serializers.BooleanField()
    can_moderate = serializers.BooleanField()
    can_record = serializers.BooleanField()
    can_close = serializers.BooleanField()
    can_view_recording = serializers.BooleanField()


class RoomPermissionsSerializer(serializers.Serializer):
    role = serializers.CharField(allow_null=True, help_text=f"{ROLE_HELP} null: refused.")
    permissions = PermissionsSerializer()


ERROR = ErrorSerializer
TOO_EARLY = TooEarlySerializer
JOIN_REFUSALS = {
    status.HTTP_403_FORBIDDEN: OpenApiResponse(ERROR, description="Your role refuses this room."),
    status.HTTP_404_NOT_FOUND: OpenApiResponse(ERROR, description="No such room."),
    status.HTTP_409_CONFLICT: OpenApiResponse(TOO_EARLY, description="Before the window."),
    status.HTTP_410_GONE: OpenApiResponse(ERROR, description="Closed, over or cancelled."),
}


def client_ip(request) -> str:
    """The address the throttles count (honours ``NUM_PROXIES``), hashed before storage."""
    return BaseThrottle().get_ident(request)


def refusal_response(exc: JoinRefused, request) -> Response:
    body = {"detail": exc.detail}
    if exc.opens_at is not None:
        body["opens_at"] = exc.opens_at.astimezone(requested_zone(request)).isoformat()
    return Response(body, status=exc.status_code)


def _join_read_or_404(room_id: int, request) -> JoinRead:
    """The room and the caller's facts as a join reads them: already read with a Bearer token
    (``request.auth`` is then a ``JoiningToken``), or now."""
    if isinstance(request.auth, JoiningToken):
        read = request.auth.join_read
    else:
        read = room_for_joining(pk=room_id, viewer=request.user)
    if read is None:
        raise Http404
    return read


def join_result_body(result, request) -> dict:
    """The body ``JoinResultSerializer`` documents, built directly.

    A join is the hot path of a school assembly, and a DRF serializer deep-copies its fields on
    every use (a tenth of the join's Python time); a test keeps the two identical.
    """
    return {
        "join_url": result.join_url,
        "you_are": result.you_are,
        "expires_at": result.expires_at.astimezone(requested_zone(request)).isoformat(),
    }


class RoomJoinApi(ZonedTimesMixin, APIView):
    """Join a room as yourself: the role comes from the timetable (docs/roles.md)."""

    authentication_classes = [JoiningBearerAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_join",
        request=None,
        responses={status.HTTP_200_OK: JoinResultSerializer, **JOIN_REFUSALS},
    )
    def post(self, request, room_id: int):
        read = _join_read_or_404(room_id, request)
        try:
            result = room_join_user(
                room=read.room, user=request.user, ip=client_ip(request), facts=read.facts
            )
        except JoinRefused as exc:
            return refusal_response(exc, request)
        return Response(join_result_body(result, request))


class PublicRoomJoinApi(ZonedTimesMixin, APIView):
    """Join an open lesson or meeting through its public link, as an observer; no account."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicJoinIpThrottle, PublicJoinSlugThrottle]

    @extend_schema(
        operation_id="rooms_public_join",
        request=PublicJoinSerializer,
        responses={
            status.HTTP_200_OK: JoinResultSerializer,
            status.HTTP_400_BAD_REQUEST: OpenApiResponse(description="Invalid display_name."),
            status.HTTP_429_TOO_MANY_REQUESTS: OpenApiResponse(
                description="Throttled (this address, or this link); see Retry-After."
            ),
            **{code: JOIN_REFUSALS[code] for code in (404, 409, 410)},
        },
    )
    def post(self, request, slug: str):
        serializer = PublicJoinSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        try:
            result = room_join_public(
                slug=slug,
                display_name=serializer.validated_data.get("display_name"),
                ip=client_ip(request),
            )
        except JoinRefused as exc:
            return refusal_response(exc, request)
        return Response(join_result_body(result, request))


class RoomPermissionsApi(APIView):
    """Your role in a room and what it lets you do (for buttons; nothing is recorded)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="rooms_permissions",
        responses={
            status.HTTP_200_OK: RoomPermissionsSerializer,
            status.HTTP_404_NOT_FOUND: OpenApiResponse(description="No such room."),
        },
    )
    def get(self, request, room_id: int):
        read = _join_read_or_404(room_id, request)
        return Response(room_permissions_for(room=read.room, user=request.user, facts=read.facts))


urlpatterns = [
    path("rooms/<int:room_id>/join/", RoomJoinApi.as_view(), name="api-room-join"),
    path(
        "rooms/<int:room_id>/permissions/",
        RoomPermissionsApi.as_view(),
        name="api-room-permissions",
    ),
    path(
        "rooms/public/<slug:slug>/join/",
        PublicRoomJoinApi.as_view(),
        name="api-room-public-join",
    ),
]
