"""API plumbing shared by every app: one error shape for all of /api/.

Every error body is ``{"detail": <message for a person>, "code": <machine code>}``,
plus ``"errors": {field: [messages]}`` when input failed validation.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from parta.common.errors import ApplicationError, NotFound, ValidationFailed, error_body


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for value in errors.values():
            return _first_message(value)
    if isinstance(errors, list | tuple) and errors:
        return _first_message(errors[0])
    return str(errors)


def flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """``{field: [messages]}`` with nested fields and list items as dotted paths
    (``items.1``, ``address.city``): the one shape the schema promises."""
    if isinstance(errors, dict):
        pairs = errors.items()
    elif isinstance(errors, list) and any(isinstance(e, dict | list) for e in errors):
        pairs = ((str(i), e) for i, e in enumerate(errors) if e)
    else:
        messages = errors if isinstance(errors, list) else [errors]
        return {prefix or "non_field_errors": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in pairs:
        flat.update(flat_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = NotFound(_("Not found."))
    if isinstance(exc, DjangoValidationError):
        exc = ValidationFailed(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc), status=exc.status_code)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _first_message(exc.detail),
            "code": "validation_failed",
            "errors": flat_errors(exc.detail),
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "detail": _first_message(exc.detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response
