"""JSON bodies the API accepts: bounded in size and nesting, valid text, storable as it is.

Python's JSON decoder recurses once per level, so a body of a few thousand ``[`` would end in a
RecursionError (a 500); text with a lone surrogate or a NUL parses but cannot be stored in
PostgreSQL (another 500 later). Here each of these is a 400 that says what is wrong (naming the
field when one string is at fault), and a body over ``API_MAX_BODY_BYTES`` (or a view's
``max_body_bytes``) is a 413 before it is read.
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_DEPTH = 32  # the deepest real payload (a JaaS webhook) nests 4 levels


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self, limit: int):
        super().__init__(_("Request body too large: at most %(limit)d bytes.") % {"limit": limit})


def _too_deep() -> ParseError:
    return ParseError(_("JSON nested too deeply: at most %(depth)d levels.") % {"depth": MAX_DEPTH})


def body_limit(view=None) -> int:
    return getattr(view, "max_body_bytes", None) or settings.API_MAX_BODY_BYTES


def body_read(*, request, limit: int) -> bytes:
    """The request's body, refused (413) when it says or turns out to be over ``limit`` bytes.

    ``request`` is DRF's or Django's; it is read as a stream, so nothing larger is buffered.
    """
    request = getattr(request, "_request", request)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError(_("The Content-Length header is not a number."))
    if declared > limit:
        raise BodyTooLarge(limit)
    if getattr(request, "_read_started", False):  # already read (e.g. request.body)
        raw = request.body
    else:
        raw = request.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge(limit)
    return raw


def json_from_bytes(raw: bytes, *, encoding: str = "utf-8", strict: bool = True):
    """The decoded JSON value, or a ParseError (400) naming what is wrong with the body."""
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise ParseError(_("Unknown charset %(charset)r.") % {"charset": encoding})
    except UnicodeDecodeError as exc:
        raise ParseError(
            _("The body is not valid %(charset)s (byte %(position)d).")
            % {"charset": encoding, "position": exc.start}
        )
    try:
        data = json.loads(text, parse_constant=strict_constant if strict else None)
    except RecursionError:
        raise _too_deep()
    except ValueError as exc:
        raise ParseError(_("JSON parse error - %(error)s") % {"error": exc})
    _check_storable(data)
    return data


def _check_storable(data) -> None:
    """Walks the value without recursion: depth within MAX_DEPTH, every string storable text.

    A bad string is a field error (400 naming the top-level field, like a serializer's).
    """
    stack = [(data, 1, "body")]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                inner = key if depth == 1 and isinstance(value, dict) else field
                if isinstance(key, str):
                    _check_text(key, field=inner)
                stack.append((item, depth + 1, inner))
        elif isinstance(value, str):
            _check_text(value, field=field)


def _check_text(text: str, *, field: str) -> None:
    if "\x00" in text:
        raise ValidationError({field: [_("Text may not contain the NUL character (\\u0000).")]})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            {field: [_("Text may not contain unpaired surrogates (\\ud800-\\udfff).")]}
        )


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the limits above (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        view = parser_context.get("view")
        request = parser_context.get("request")
        limit = body_limit(view)
        django_request = getattr(request, "_request", None)
        if django_request is not None and stream is django_request:
            raw = body_read(request=django_request, limit=limit)
        else:  # DRF wrapped an already-read body in a BytesIO
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise BodyTooLarge(limit)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        return json_from_bytes(raw, encoding=encoding, strict=self.strict)


def webhook_body(*, request, view) -> bytes:
    """A platform webhook's raw body (what was signed), within the view's body limit, refused
    (400) when no JSON reader should walk it (too deep, bad text) before the provider reads it."""
    body = body_read(request=request, limit=body_limit(view))
    try:
        json_from_bytes(body)
    except ParseError as exc:  # name the field, as the providers' own refusals do
        raise ValidationError({"body": [exc.detail]}) from None
    return body
