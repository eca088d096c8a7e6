"""One error shape for the whole API: ``{"error": {"code", "message", "fields"}}``."""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.api.exceptions import BodyTooLarge


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's error document."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> Any:
    """ErrorDetail trees → plain strings, keeping the field structure."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_message(fields: dict[str, Any]) -> str:
    names = ", ".join(sorted(fields))
    return f"Invalid input: {names}." if names else "Invalid input."


def _as_api_exception(exc: Exception) -> Exception:
    """Django's own exceptions → the API exception with the status they mean."""
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request could not be read.")
    return exc


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    """simplejwt puts a dict (detail, code, messages) where DRF puts a string: take its words."""
    detail = exc.detail
    if isinstance(detail, dict):
        code = str(detail.get("code") or exc.default_code)
        message = str(detail.get("detail") or exc.default_detail)
        return code, message
    if isinstance(detail, list):
        return str(exc.default_code), " ".join(str(item) for item in detail) or str(exc.default_detail)
    codes = exc.get_codes()
    return str(codes if isinstance(codes, str) else exc.default_code), str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped into the API's error document."""
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = _flatten(detail)
        response.data = error_body("invalid", _validation_message(fields), fields)
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(*_code_and_message(exc))
    return response


def not_found(request, exception=None) -> JsonResponse:  # noqa: ARG001 - Django's signature
    return JsonResponse(error_body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)


def server_error(request) -> JsonResponse:  # noqa: ARG001 - Django's signature
    return JsonResponse(
        error_body("server_error", "Something went wrong on our side."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
