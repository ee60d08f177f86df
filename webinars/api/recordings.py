"""API views: recordings (docs/recordings.md). Thin: check the caller, call a service, answer."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from webinars.api.parsers import webhook_body
from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin
from webinars.choices import JitsiEnv
from webinars.models import Recording, Room
from webinars.providers import WebhookInvalid, WebhookUnauthorized, provider_for_env
from webinars.recordings import (
    RecordingRejected,
    recording_accept_jibri_file,
    recording_accept_link,
    recording_is_public,
    recording_make_dummy,
    recording_playback_url,
    recording_secret_valid,
    recording_store_upload,
    recording_visible_to,
    webhook_events_handle,
)


class RecordingHookThrottle(SimpleRateThrottle):
    """Machine-to-machine hooks (Jibri, JaaS): generous, per client IP."""

    scope = "recording_hook"
    rate = "600/min"

    def get_rate(self):
        return self.rate

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _unauthorized(detail: str) -> Response:
    return Response({"detail": detail}, status=status.HTTP_401_UNAUTHORIZED)


def _rejected(exc: RecordingRejected) -> ValidationError:
    return ValidationError({exc.field: [exc.message]})


class RecordingItemSerializer(serializers.ModelSerializer):
    # A plain string, documented, so the schema's "status" enums of rooms and recordings
    # do not collide (drf-spectacular names enums after the field).
    status = serializers.CharField(read_only=True, help_text="PENDING, IN_PROGRESS, READY, FAILED")
    file_url = serializers.SerializerMethodField()
    started_at = ZonedDateTimeField(allow_null=True)
    ended_at = ZonedDateTimeField(allow_null=True)
    created_at = ZonedDateTimeField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "status",
            "file_url",
            "started_at",
            "ended_at",
            "duration_secs",
            "size_bytes",
            "checksum_sha256",
            "created_at",
        ]
        read_only_fields = fields

    def get_file_url(self, recording) -> str | None:
        # The view has checked the viewer once for the whole room.
        url = recording_playback_url(recording=recording, public=self.context["public"])
        return self.context["request"].build_absolute_uri(url) if url else None


class RoomRecordingSerializer(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    file_url = serializers.CharField(allow_null=True)
    started_at = ZonedDateTimeField(allow_null=True)
    ended_at = ZonedDateTimeField(allow_null=True)
    duration_secs = serializers.IntegerField(allow_null=True)
    recordings = RecordingItemSerializer(many=True)


class RoomRecordingApi(ZonedTimesMixin, APIView):
    """The room's latest recording and every recording in order.

    Anyone may read an open lesson's or open meeting's recordings; closed lessons' only the
    people allowed into the lesson. ``file_url`` is short-lived for private recordings.
    """

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        responses={
            200: RoomRecordingSerializer,
            403: OpenApiResponse(description="You may not watch this room's recordings."),
        }
    )
    def get(self, request, room_id: int):
        room = get_object_or_404(Room.objects.select_related("lesson"), pk=room_id)
        if not recording_visible_to(room=room, user=request.user):
            self.permission_denied(request, message="You may not watch this room's recordings.")
        items = RecordingItemSerializer(
            room.recordings.order_by("created_at", "id"),
            many=True,
            context={"request": request, "public": recording_is_public(room=room)},
        ).data
        latest = items[-1] if items else {}
        return Response(
            {
                "status": latest.get("status"),
                "file_url": latest.get("file_url"),
                "started_at": latest.get("started_at"),
                "ended_at": latest.get("ended_at"),
                "duration_secs": latest.get("duration_secs"),
                "recordings": items,
            }
        )


class JibriFileSerializer(serializers.Serializer):
    file_path = serializers.CharField(max_length=1000)
    file_ext = serializers.CharField(max_length=8, required=False, allow_blank=True, default="")


class JibriLookupSerializer(JibriFileSerializer):
    jitsi_room = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


ACCEPTED = inline_serializer(
    "RecordingAccepted",
    {
        "recording_id": serializers.IntegerField(),
        "room_id": serializers.IntegerField(),
        "status": serializers.CharField(),
    },
)


def _accepted(recording: Recording) -> Response:
    return Response(
        {"recording_id": recording.pk, "room_id": recording.room_id, "status": recording.status},
        status=status.HTTP_202_ACCEPTED,
    )


class _JibriFileApi(APIView):
    """Shared by both Jibri endpoints: secret check, input check, accept the file (202)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RecordingHookThrottle]
    serializer_class = JibriFileSerializer

    def accept(self, request, room_id: int | None) -> Response:
        if not recording_secret_valid(given=request.headers.get("X-Recording-Secret")):
            return _unauthorized("Missing or wrong X-Recording-Secret.")
        room = get_object_or_404(Room, pk=room_id) if room_id is not None else None
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            recording = recording_accept_jibri_file(room=room, **serializer.validated_data)
        except RecordingRejected as exc:
            raise _rejected(exc)
        return _accepted(recording)


class RoomRecordingUploadedApi(_JibriFileApi):
    """Jibri finalize (``X-Recording-Secret``): move a file from RECORDING_LOCAL_DIR into storage.

    ``file_path`` is absolute or relative to RECORDING_LOCAL_DIR and must stay inside it.
    Answers 202 once the file is accepted; the move runs as a task (inline in tests).
    """

    @extend_schema(
        request=JibriFileSerializer,
        responses={
            202: ACCEPTED,
            401: OpenApiResponse(description="Missing or wrong X-Recording-Secret."),
        },
    )
    def post(self, request, room_id: int):
        return self.accept(request, room_id)


class JibriRecordingApi(_JibriFileApi):
    """What ``deploy/jibri/finalize.sh`` calls: like ``/rooms/{id}/recording/uploaded/`` but the
    room is ``jitsi_room`` or, when omitted, read from Jibri's metadata.json beside the file."""

    serializer_class = JibriLookupSerializer

    @extend_schema(
        request=JibriLookupSerializer,
        responses={
            202: ACCEPTED,
            401: OpenApiResponse(description="Missing or wrong X-Recording-Secret."),
        },
    )
    def post(self, request):
        return self.accept(request, None)


class JaasWebhookApi(APIView):
    """JaaS events, verified by ``X-Jaas-Signature`` and deduplicated on ``idempotencyKey``.

    Only records the event (and queues a download for RECORDING_UPLOADED); a replayed key
    answers 200 and changes nothing.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RecordingHookThrottle]
    reads_raw_body = True  # what was signed: no parser, so never a 415 (webinars.api.schema)

    @extend_schema(
        request=inline_serializer("JaasEvent", {"idempotencyKey": serializers.CharField()}),
        responses={
            200: inline_serializer(
                "JaasEventReceived",
                {"detail": serializers.CharField(), "duplicate": serializers.BooleanField()},
            ),
            401: OpenApiResponse(description="Missing, wrong or stale signature."),
        },
    )
    def post(self, request):
        provider = provider_for_env(JitsiEnv.JAAS)
        body = webhook_body(request=request, view=self)
        try:
            events = provider.parse_webhook(headers=request.headers, body=body)
        except WebhookUnauthorized as exc:
            return _unauthorized(str(exc))
        except WebhookInvalid as exc:
            raise ValidationError({exc.field: [exc.message]})
        outcomes = webhook_events_handle(provider=provider, events=events)
        duplicate = bool(outcomes) and all(outcome.duplicate for outcome in outcomes)
        return Response({"detail": "duplicate" if duplicate else "ok", "duplicate": duplicate})


class JaasRecordingFormSerializer(serializers.Serializer):
    room_id = serializers.IntegerField()
    preAuthenticatedLink = serializers.URLField(max_length=2000)  # noqa: N815 - seed's name
    fileExt = serializers.CharField(max_length=8, required=False, default="mp4")  # noqa: N815


class JaasRecordingFormApi(APIView):
    """The seed's dev form of the JaaS hook (``X-Recording-Secret``): download a link."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [RecordingHookThrottle]

    @extend_schema(
        request=JaasRecordingFormSerializer,
        responses={
            202: ACCEPTED,
            401: OpenApiResponse(description="Missing or wrong X-Recording-Secret."),
            404: OpenApiResponse(description="No room has this room_id."),
        },
    )
    def post(self, request):
        if not recording_secret_valid(given=request.headers.get("X-Recording-Secret")):
            return _unauthorized("Missing or wrong X-Recording-Secret.")
        serializer = JaasRecordingFormSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        room = get_object_or_404(Room, pk=data["room_id"])
        try:
            recording = recording_accept_link(
                room=room,
                url=data["preAuthenticatedLink"],
                file_ext=data["fileExt"],
                source="jaas_dev_form",
            )
        except RecordingRejected as exc:
            raise _rejected(exc)
        return _accepted(recording)


class DevOnlyMixin:
    """404 unless DEBUG (checked per request), staff only; a method it has not is still a 405."""

    permission_classes = [IsAdminUser]

    def initial(self, request, *args, **kwargs):
        if not settings.DEBUG and hasattr(self, request.method.lower()):
            raise NotFound()
        super().initial(request, *args, **kwargs)


class DevRoomSerializer(serializers.Serializer):
    room_id = serializers.IntegerField()
    duration_secs = serializers.IntegerField(min_value=1, max_value=6 * 3600, default=5)


class DevUploadSerializer(serializers.Serializer):
    room_id = serializers.IntegerField()
    file = serializers.FileField()


class DevMakeDummyRecordingApi(DevOnlyMixin, APIView):
    """DEBUG only: drop a small dummy MP4 into Jibri's directory and ingest it."""

    @extend_schema(
        request=DevRoomSerializer,
        responses={
            202: ACCEPTED,
            404: OpenApiResponse(
                description="Not here: DEBUG is off, or no room has this room_id."
            ),
        },
    )
    def post(self, request):
        serializer = DevRoomSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = get_object_or_404(Room, pk=serializer.validated_data["room_id"])
        recording = recording_make_dummy(
            room=room, duration_secs=serializer.validated_data["duration_secs"]
        )
        return _accepted(recording)


class DevUploadRecordingApi(DevOnlyMixin, APIView):
    """DEBUG only (multipart ``room_id``, ``file``): store a file as the room's recording."""

    parser_classes = [MultiPartParser]  # a file: a urlencoded form cannot carry one

    @extend_schema(
        request=DevUploadSerializer,
        responses={
            202: ACCEPTED,
            404: OpenApiResponse(
                description="Not here: DEBUG is off, or no room has this room_id."
            ),
        },
    )
    def post(self, request):
        serializer = DevUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = get_object_or_404(Room, pk=serializer.validated_data["room_id"])
        try:
            recording = recording_store_upload(room=room, upload=serializer.validated_data["file"])
        except RecordingRejected as exc:
            raise ValidationError({"file": [exc.message]})
        return _accepted(recording)


urlpatterns = [
    path("rooms/<int:room_id>/recording/", RoomRecordingApi.as_view(), name="api-room-recording"),
    path(
        "rooms/<int:room_id>/recording/uploaded/",
        RoomRecordingUploadedApi.as_view(),
        name="api-room-recording-uploaded",
    ),
    path("recordings/jibri/", JibriRecordingApi.as_view(), name="api-recordings-jibri"),
    path("webhooks/jaas/", JaasWebhookApi.as_view(), name="api-webhooks-jaas"),
    path(
        "webhooks/jaas/recording/",
        JaasRecordingFormApi.as_view(),
        name="api-webhooks-jaas-recording",
    ),
    path(
        "dev/recordings/make-dummy/",
        DevMakeDummyRecordingApi.as_view(),
        name="api-dev-recordings-make-dummy",
    ),
    path(
        "dev/recordings/upload/",
        DevUploadRecordingApi.as_view(),
        name="api-dev-recordings-upload",
    ),
]
