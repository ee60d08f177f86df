"""The OpenAPI schema at ``/api/schema/`` (docs/api-schema.md): what the API promises a client.

``PortalAutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds to drf-spectacular's
operations what they leave out, read from the view itself so that a new view gets it for free:

- every error status the operation can answer, each with the one error body (``Error``, the
  shape ``webinars.api.errors`` gives every refusal): 400 when it reads a body or query
  parameters, 401 when it authenticates (a wrong token), 403 when its permission classes may
  refuse someone or a session may lack its CSRF token, 404 when its path names something (or it
  pages), 413 and 415 when it reads a body (413 only when the view ``reads_raw_body``: no
  parser, so no 415), 429 when it is throttled, 503 always (the database may be away:
  ``portal.middleware``). A view lists the others (409, 410, a 403 or 404 of its own) in
  ``extend_schema(responses=...)``; a description alone is enough, the body is ``Error``;
- ``security: []`` on the operations that authenticate nobody (``authentication_classes``
  empty), where drf-spectacular writes ``[{}]`` ("a token or nothing");
- the ``tz`` query parameter (``TZ``) on every ``ZonedTimesMixin`` view (which checks it); a
  view whose answer carries ``ZonedDateTimeField`` times (at any depth) without the mixin is a
  schema warning, so ``spectacular --fail-on-warn`` (CI) stops it.
  Its values are the ``TimeZone`` enum: the zones this server's tz database knows;
- ``allowEmptyValue`` on optional query parameters: DRF reads ``?tz=`` as "not given".
"""

import re
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny

from webinars.api.serializers import ZonedDateTimeField, ZonedTimesMixin


class ErrorSerializer(serializers.Serializer):
    """Every refusal: what is wrong in words, and for a 400 the fields at fault."""

    detail = serializers.CharField(help_text="What went wrong, in words.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: each field (or query parameter) at fault and what is wrong with it.",
    )


class TooEarlySerializer(ErrorSerializer):
    """409 before a room's window: the error, and when to come back."""

    opens_at = serializers.DateTimeField(help_text="When the room opens (in the zone of tz).")


TZ = OpenApiParameter(
    "tz",
    OpenApiTypes.STR,
    description="An IANA zone for the times in the answer, e.g. Europe/Amsterdam (default UTC); "
    "an unknown name is a 400 naming tz.",
)

#: Why each status the schema adds happens (the description of the response).
ERROR_REASONS = {
    400: "Invalid input: `errors` names each field or parameter at fault.",
    401: "No credentials, or a wrong or expired token.",
    403: "Signed in, but refused (your role, or a missing CSRF token with a session).",
    404: "Nothing has this id, or it is not yours to know about.",
    409: "Not now: see `detail`.",
    410: "Gone: closed, over or cancelled.",
    413: "The body is over the size limit.",
    415: "The body's Content-Type is not one this operation reads.",
    429: "Throttled: retry after the Retry-After header's seconds.",
    503: "The database is away for a moment: retry after Retry-After.",
}

BODY_METHODS = {"POST", "PUT", "PATCH"}

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
#: Headers the error answers carry (DRF's throttles and authentication, portal.middleware).
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": 'Bearer realm="api" when a token is what is missing or wrong.',
        }
    },
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


@cache
def zone_names() -> list[str]:
    """Every zone ``?tz=`` accepts on this server (its tz database), for the ``TimeZone`` enum."""
    names = []
    for name in sorted(available_timezones()):
        try:
            ZoneInfo(name)
        except (ValueError, OSError):  # listed but not loadable (e.g. "localtime")
            continue
        names.append(name)
    return names


@cache
def zone_var_names() -> list[str]:
    """A distinct identifier per zone name, for generated clients' enums (``x-enum-varnames``)."""
    seen, out = set(), []
    for name in zone_names():
        var = re.sub(r"\W", "_", name.replace("+", "_PLUS_").replace("-", "_MINUS_")).upper()
        while var in seen:
            var += "_"
        seen.add(var)
        out.append(var)
    return out


def text_response(media_type: str, description: str) -> dict:
    """A 200 of plain text (``text/csv``, ``text/calendar``) for ``extend_schema(responses=)``."""
    return {(200, media_type): OpenApiResponse(OpenApiTypes.STR, description=description)}


def _has_zoned_times(serializer, depth: int = 0) -> bool:
    if depth > 8 or serializer is None:
        return False
    if isinstance(serializer, type):
        try:
            serializer = serializer()
        except TypeError:
            return False
    if isinstance(serializer, serializers.ListSerializer):
        serializer = serializer.child
    if isinstance(serializer, ZonedDateTimeField):
        return True
    if not isinstance(serializer, serializers.Serializer):
        return False
    return any(_has_zoned_times(field, depth + 1) for field in serializer.fields.values())


class PortalAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None and self._is_anonymous():
            operation["security"] = []
        return operation

    def _is_anonymous(self) -> bool:
        return not self.view.get_authenticators()

    def _is_allow_any(self) -> bool:
        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        zoned = isinstance(self.view, ZonedTimesMixin)
        if not zoned and any(_has_zoned_times(s) for s in self._response_serializers()):
            warn(
                f"{self.view.__class__.__name__} answers ZonedDateTimeField times: make it a "
                "ZonedTimesMixin, so that ?tz= is declared and checked."
            )
        if zoned and not any(getattr(p, "name", None) == "tz" for p in parameters):
            parameters.append(TZ)
        return parameters

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter.get("in") != "query":
                continue
            if parameter["name"] == "tz":
                parameter["schema"] = self._time_zone_component().ref
            if not parameter.get("required"):
                # DRF reads an empty optional parameter (?tz=&page=) as absent, so say so.
                parameter["allowEmptyValue"] = True
        return parameters

    def _time_zone_component(self) -> ResolvedComponent:
        component = ResolvedComponent(
            name="TimeZone",
            type=ResolvedComponent.SCHEMA,
            object="TimeZone",
            schema={
                "type": "string",
                "enum": zone_names(),
                "x-enum-varnames": zone_var_names(),  # Etc/GMT+1 and Etc/GMT-1 stay apart
                "description": "An IANA time zone name, e.g. Europe/Amsterdam.",
            },
        )
        self.registry.register_on_missing(component)
        return component

    def _response_serializers(self):
        declared = self.get_response_serializers()
        if isinstance(declared, dict):
            items = declared.items()
        else:
            items = [(200, declared)]
        for code, serializer in items:
            code = code[0] if isinstance(code, tuple) else code
            if str(code).startswith("2"):
                if isinstance(serializer, OpenApiResponse):
                    serializer = serializer.response
                yield serializer

    def _error_statuses(self, operation_parameters: bool, has_body: bool) -> set[int]:
        codes = {503}
        if has_body or operation_parameters:
            codes.add(400)
        if has_body:
            codes |= {413} if getattr(self.view, "reads_raw_body", False) else {413, 415}
        authenticators = self.view.get_authenticators()
        if authenticators:
            codes.add(401)
        if not self._is_allow_any():
            codes.add(403)
        if self.method not in SAFE_METHODS and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        ):
            codes.add(403)  # a session without its CSRF token
        if self.view.get_throttles():
            codes.add(429)
        if "{" in self.path or self._get_paginator():  # a page past the end is a 404 too
            codes.add(404)
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        # Errors are never lists, whatever the operation's 200 is.
        for code, response in responses.items():
            if int(code) >= 400 and "content" not in response:
                responses[code] = self._error_response(int(code), response.get("description"))
        parameters = self._get_parameters()
        has_query = any(p.get("in") == "query" for p in parameters)
        has_body = self.method in BODY_METHODS and bool(self._get_request_body())
        for code in sorted(self._error_statuses(has_query, has_body)):
            if str(code) not in responses:
                responses[str(code)] = self._error_response(code, None)
        return dict(sorted(responses.items()))

    def _error_response(self, code: int, description: str | None) -> dict:
        response = self._get_response_for_code(
            ErrorSerializer, str(code), media_types=["application/json"]
        )
        response["description"] = description or ERROR_REASONS.get(code, "")
        if code in ERROR_HEADERS:
            response["headers"] = {**ERROR_HEADERS[code], **response.get("headers", {})}
        return response


def only_our_api(endpoints):
    """drf-spectacular preprocessing hook: document our /api/ only, not Wagtail's internals,
    nor the catch-all that answers unknown /api/ paths (``webinars.api.urls``)."""
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/")
        and not endpoint[0].startswith("/api/v2/")
        and getattr(getattr(endpoint[3], "cls", None), "__name__", "") != "UnknownApiPath"
    ]
