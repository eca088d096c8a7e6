"""OpenAPI: every operation documents the error responses it can give, all in the one error shape.

Which statuses apply is read from the view, not written per view:

- 400 when the operation reads a body or query parameters (the field is named in ``fields``);
- 401 when it authenticates (a missing, malformed or expired token);
- 403 when a permission other than "signed in" applies, or a session-authenticated write can fail
  its CSRF check;
- 404 when the path names an object (another listener's object answers 404 too);
- 413 and 415 when it reads a body (too large; not ``application/json``);
- 429 when it is throttled.

A view adds statuses of its own (409 …) with ``extend_schema(responses={409: ErrorResponse})`` or by
listing them in ``error_statuses``; both end up with the same schema.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication

from config.api.serializers import StrictInputMixin

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `error.fields` names each field and what is wrong with it.",
    "401": "Not signed in: the access token is missing, malformed or expired.",
    "403": "Signed in but not allowed (or a session write without its CSRF token).",
    "404": "No such object, or it belongs to another listener.",
    "409": "Conflicts with the object's current state.",
    "413": "The request body is larger than the API accepts.",
    "415": "The request body is not `application/json`.",
    "429": "Too many requests: wait for `Retry-After` seconds.",
    "503": "A part the service depends on is unavailable.",
}
# Python's str.strip() also strips U+001C..U+001F, which JSON Schema's \s does not cover.
NOT_ONLY_SPACES = r"[^\s\x1c-\x1f]"
_OPEN_PERMISSIONS = (permissions.AllowAny, permissions.IsAuthenticated)
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_WITH_BODY = {"POST", "PUT", "PATCH"}


class ErrorDetailOutput(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid`, `not_found`.")
    message = serializers.CharField(help_text="One sentence for a person.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Field name → list of problems (nested for nested fields); empty when no field is at fault.",
    )

    class Meta:
        ref_name = "ErrorDetail"


class ErrorOutput(serializers.Serializer):
    """The API's one error document."""

    error = ErrorDetailOutput()

    class Meta:
        ref_name = "Error"


def ErrorResponse(description: str = "") -> OpenApiResponse:  # noqa: N802 - reads like a class in extend_schema
    """An error response in the one error shape (for statuses a view adds itself)."""
    return OpenApiResponse(response=ErrorOutput, description=description)


_INTEGER_HEADER = {"schema": {"type": "integer", "minimum": 0}}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {**_INTEGER_HEADER, "description": "Requests the tightest window allows."},
    "RateLimit-Remaining": {**_INTEGER_HEADER, "description": "Requests left in that window."},
    "RateLimit-Reset": {**_INTEGER_HEADER, "description": "Seconds until that window frees a request."},
}
RETRY_AFTER_HEADER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                      "description": "Seconds to wait before trying again."}}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"},
                        "description": "Send it back as `If-None-Match`: 304 while unchanged."}}


class CadenzaAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses each operation can give and the
    headers an app reads (RateLimit-*, Retry-After, ETag)."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        declared = {code for code in responses if code.startswith(("4", "5"))}
        for code in sorted(self.error_statuses() | declared):
            error = self._get_response_for_code(ErrorOutput, code, direction=direction)
            given = str(responses.get(code, {}).get("description") or "")
            error["description"] = given if given and given != str(_("No response body")) else ERROR_DESCRIPTIONS.get(code, "Error.")
            responses[code] = error
        throttled = bool(self.view.get_throttles()) if hasattr(self.view, "get_throttles") else False
        conditional = "304" in responses
        for code, response in responses.items():
            headers = dict(RATE_LIMIT_HEADERS) if throttled else {}
            if code == "429":
                headers |= RETRY_AFTER_HEADER
            if conditional and code in ("200", "304"):
                headers |= ETAG_HEADER
            if headers:
                response["headers"] = {**response.get("headers", {}), **headers}
        return responses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInputMixin):
            schema["additionalProperties"] = False  # unknown fields are refused, by name
        return schema

    def _postprocess_serializer_schema(self, schema, serializer, direction):
        schema = super()._postprocess_serializer_schema(schema, serializer, direction)
        if direction == "request" and isinstance(serializer, StrictInputMixin):
            for name, field in serializer.fields.items():
                if field.read_only:  # what a GET answered may be sent back: checked, then ignored
                    prop = self._map_serializer_field(field, "response")
                    schema.setdefault("properties", {})[name] = {**prop, "readOnly": True}
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        trimmed_and_required = (
            direction == "request" and isinstance(field, serializers.CharField)
            and not isinstance(field, serializers.ChoiceField | serializers.EmailField | serializers.UUIDField)
            and field.trim_whitespace and not field.allow_blank and "pattern" not in schema
        )
        if trimmed_and_required:
            schema["pattern"] = NOT_ONLY_SPACES  # a value of spaces alone is trimmed to blank: refused
        return schema

    def error_statuses(self) -> set[str]:
        """The 4xx statuses this operation can answer, from what the view declares."""
        view, method = self.view, self.method.upper()
        codes = {str(code) for code in getattr(view, "error_statuses", ())}
        reads_body = method in _WITH_BODY and self.get_request_serializer() is not None
        if reads_body or self._has_query_parameters():
            codes.add("400")
        if reads_body:
            codes |= {"413", "415"}
        authenticators = list(view.get_authenticators()) if hasattr(view, "get_authenticators") else []
        if authenticators:
            codes.add("401")
        if self._restricts_beyond_sign_in() or (
            method in _UNSAFE and any(isinstance(a, SessionAuthentication) for a in authenticators)
        ):
            codes.add("403")
        if "{" in self.path:
            codes.add("404")
        if view.get_throttles() if hasattr(view, "get_throttles") else ():
            codes.add("429")
        return codes

    def _has_query_parameters(self) -> bool:
        if self._is_list_view() and (self._get_paginator() or getattr(self.view, "filterset_class", None)):
            return True
        overrides = self.get_override_parameters()
        return any(getattr(p, "location", "query") == "query" for p in overrides)

    def _restricts_beyond_sign_in(self) -> bool:
        checks = self.view.get_permissions() if hasattr(self.view, "get_permissions") else []
        return any(not isinstance(check, _OPEN_PERMISSIONS) for check in checks)
