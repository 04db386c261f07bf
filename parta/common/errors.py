"""Errors raised by services. Interfaces turn them into a form error, a 4xx JSON body
or a bot reply; they never reach the user as a 500."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that cannot be carried out, with a message fit to show the user."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    """Input that does not pass validation; `errors` maps field names to messages."""

    code = "validation_failed"

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0] if errors else "Invalid input."
        super().__init__(str(first))
        self.errors = errors


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


def error_body(exc: ApplicationError) -> dict:
    """The JSON body every API and JSON endpoint answers an error with:
    ``{"detail", "code"}`` plus ``"errors": {field: [messages]}`` when there are any."""
    body = {"detail": exc.message, "code": exc.code}
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    elif exc.field:
        body["errors"] = {exc.field: [exc.message]}
    body.update(exc.extra)
    return body
