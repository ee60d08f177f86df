"""API views: health (who am I: ``webinars.api.me``; API tokens: ``webinars.api.tokens``)."""

from django.db import connection
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars.selectors.health import scheduler_heartbeat


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
    path("health/", HealthApi.as_view(), name="api-health"),
]
