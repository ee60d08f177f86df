"""A database that cannot be reached answers 503 (JSON for the API, a page for people), not 500.

The database may restart, fail over or drop connections (``pg_terminate_backend``); requests
in flight then fail with OperationalError/InterfaceError. The caller is told to retry shortly
(``Retry-After``). Django closes a connection that raised once the request ends, and
``CONN_HEALTH_CHECKS`` replaces a dead idle one at the next request, so the site recovers by
itself. See docs/operations.md.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5

logger = logging.getLogger("portal.database")


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    logger.warning("database unavailable path=%s error=%s", request.path, str(error).strip())
    if request.path.startswith("/api/"):
        detail = _("The database is unavailable for a moment. Retry in a few seconds.")
        response = JsonResponse({"detail": detail}, status=503)
    else:  # a standalone page: rendering it must not need the database
        html = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database error raised by a view (or its template) into the 503 above."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the same 503 when a middleware (sessions, auth) met the database error."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return database_unavailable(request, error)
    return defaults.server_error(request)
