"""API views: who am I, and health (API tokens: ``webinars.api.tokens``)."""

from django.db import connection
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars.selectors.health import scheduler_heartbeat


class MeApi(APIView):
    """Who the credentials belong to, and their school roles (a cheap check for API clients)."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "name": serializers.CharField(),
                "is_staff": serializers.BooleanField(),
                "groups": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "name": user.get_full_name(),
                "is_staff": user.is_staff,
                "groups": sorted(group.name for group in user.groups.all()),
            }
        )


class HealthApi(APIView):
    """Database reachability and the scheduler's last heartbeat; 503 when the database is down."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "scheduler": serializers.DictField(),
                "time": serializers.DateTimeField(),
            },
        )
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            database = "ok"
        except Exception:  # noqa: BLE001 - any database failure means "down"
            database = "down"
        scheduler = scheduler_heartbeat() if database == "ok" else {"status": "unknown"}
        healthy = database == "ok"
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "database": database,
                "scheduler": scheduler,
                "time": timezone.now().isoformat(),
            },
            status=status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
        )


urlpatterns = [
    path("me/", MeApi.as_view(), name="api-me"),
    path("health/", HealthApi.as_view(), name="api-health"),
]
