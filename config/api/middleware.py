"""Under /api/ every error is a JSON error document, whatever produced it (DEBUG pages included)."""

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

from config.api import throttles
from config.api.errors import error_body

API_PREFIX = "/api/"
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "body_too_large", 500: "server_error"}


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


def _json_error(status: int) -> JsonResponse:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    code = _CODES.get(status, phrase.lower().replace(" ", "_").replace("-", "_"))
    message = "Something went wrong on our side." if status >= 500 else f"{phrase}."
    return JsonResponse(error_body(code, message), status=status)


class ApiErrorsMiddleware:
    """Replace an HTML (or empty) error answer under /api/ with the error document, same status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code >= 400 and not _is_json(response):
            replaced = _json_error(response.status_code)
            for header in ("Retry-After", "Allow", "WWW-Authenticate", *RATE_LIMIT_HEADERS):
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response


class RateLimitHeadersMiddleware:
    """``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (IETF httpapi draft) on every throttled
    answer, from the window the caller will hit first; every 429 says ``Retry-After`` (>= 1 s)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        states = throttles.recorded(request)
        window = throttles.tightest(states)
        if window is not None:
            response["RateLimit-Limit"] = str(window.limit)
            response["RateLimit-Remaining"] = str(window.remaining)
            response["RateLimit-Reset"] = str(window.reset_s)
        if response.status_code == 429:
            waits = [s.reset_s for s in states if s.remaining == 0]
            given = _seconds(response.get("Retry-After"))
            response["Retry-After"] = str(max([1, given, *waits]))
        return response


def _seconds(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0
