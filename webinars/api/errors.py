"""Every API error is JSON: ``{"detail": "…"}`` (a string), plus ``errors`` (field → messages)
for validation (400). The schema documents this shape as ``Error`` (webinars.api.schema)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler

from webinars.api.parsers import BodyTooLarge


def json_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    elif isinstance(exc, RequestDataTooBig):  # a view read request.body past Django's limit
        exc = BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, dict):
        if "detail" not in response.data:
            fields = ", ".join(sorted(response.data))
            response.data = {"detail": f"Invalid input: {fields}.", "errors": response.data}
    elif isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data)}
    if isinstance(response.data, dict) and isinstance(response.data.get("detail"), list):
        response.data["detail"] = " ".join(str(item) for item in response.data["detail"])
    return response
