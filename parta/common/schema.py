"""The OpenAPI schema's view of Parta's API: every operation also documents the error
answers it can give, all in the one error shape (see parta.common.apis)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A message for a person, in the site's language.")
    code = serializers.CharField(
        help_text="A code for programs: validation_failed, not_authenticated, "
        "permission_denied, not_found, conflict, …"
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field, when the input was refused.",
    )


class PartaAutoSchema(AutoSchema):
    def _error_statuses(self) -> list[tuple[str, str]]:
        unsafe = self.method in UNSAFE_METHODS
        public = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        statuses = []
        if unsafe:
            statuses.append(("400", "The input was refused; `errors` says why, per field."))
        if not public:
            statuses.append(("401", "No credentials, or a token that is not valid."))
            statuses.append(("403", "This user may not do this."))
        if unsafe or "{" in self.path:
            statuses.append(("404", "Something the request names does not exist."))
        if unsafe:
            statuses.append(("409", "Not possible in the current state (e.g. already paid)."))
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._error_statuses():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description),
                    code,
                    direction=direction,
                )
        return responses
