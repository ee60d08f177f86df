"""API views: health, and the JSON 404 of every other path under /api/ (who am I:
``webinars.api.me``; API tokens: ``webinars.api.tokens``)."""

from django.db import connection
from django.urls import Resolver404, path, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from webinars.selectors.health import scheduler_heartbeat

HEALTH = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(help_text="ok or degraded"),
        "database": serializers.CharField(help_text="ok or down"),
        "scheduler": serializers.DictField(),
        "time": serializers.DateTimeField(),
    },
)


class HealthApi(APIView):
    """Database reachability and the scheduler's last heartbeat; 503 when the database is down."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: HEALTH,
            503: OpenApiResponse(HEALTH, description="The database is down (status degraded)."),
        }
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


class UnknownApiPath(APIView):
    """Any path under /api/ that no route takes (``webinars.api.urls`` lists it last).

    A JSON 404 in the API's error shape for every method, instead of Wagtail's HTML page (or,
    for a POST, Django's HTML CSRF refusal): an id that is not a number, a typo, a missing
    slash (named, since a redirect would lose a POST's body).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        path = request.path
        if not path.endswith("/") and _routed(path + "/"):
            raise NotFound(
                _("No such API path: %(path)s. Did you mean %(path)s/?") % {"path": path}
            )
        raise NotFound(_("No such API path: %(path)s.") % {"path": path})


def _routed(path: str) -> bool:
    try:
        return getattr(resolve(path).func, "cls", None) is not UnknownApiPath
    except Resolver404:
        return False


urlpatterns = [
    path("health/", HealthApi.as_view(), name="api-health"),
]
