"""The REST API (docs/api.md). Each area keeps its own routes; this file only joins them."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from webinars.api import (
    calendars,
    core,
    feeds,
    joins,
    lessons,
    me,
    recordings,
    register,
    rooms,
    tokens,
)
from webinars.api.core import UnknownApiPath

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"),
        name="api-redoc",
    ),
    *core.urlpatterns,
    *tokens.urlpatterns,
    *rooms.urlpatterns,
    *joins.urlpatterns,
    *recordings.urlpatterns,
    *feeds.urlpatterns,
    *calendars.urlpatterns,
    *register.urlpatterns,
    *lessons.urlpatterns,
    *me.urlpatterns,
    # Last: any other path under /api/ (a bad id, a typo, any method) is a JSON 404, not
    # Wagtail's page (docs/api-schema.md). ``[\s\S]``, not ``.``: a path may hold a line break.
    re_path(r"^[\s\S]*$", UnknownApiPath.as_view(), name="api-unknown"),
]
