"""A strict JSON parser: what no field of the API can hold is refused here, naming where it was.

Refused with 400 (``fields`` names the path, e.g. ``events.0.client_event_id``): nesting deeper
than ``MAX_DEPTH``, numbers that are not finite or have more than ``MAX_NUMBER_DIGITS`` digits,
``NaN`` / ``Infinity``, strings holding a lone UTF-16 surrogate or a NUL. Refused with 413: a body
larger than ``CADENZA_API_MAX_BODY_BYTES``.
"""

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from config.api.exceptions import BodyTooLarge

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 30
_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")


class _Refused:
    """A value the decoder met that no field accepts; the walk reports it with its path."""

    def __init__(self, reason: str):
        self.reason = reason


def _number(text: str, cast: type) -> Any:
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_NUMBER_DIGITS:
        return _Refused(f"Number too large (more than {MAX_NUMBER_DIGITS} digits).")
    value = cast(text)
    if isinstance(value, float) and not math.isfinite(value):
        return _Refused("Number out of range.")
    return value


def _decode(text: str) -> Any:
    return json.loads(
        text,
        parse_int=lambda s: _number(s, int),
        parse_float=lambda s: _number(s, float),
        parse_constant=lambda s: _Refused(f"{s} is not a JSON number."),
    )


def _first_problem(data: Any) -> tuple[str, str] | None:
    """(path, reason) of the first value no field can hold, walking without recursion."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return _path(path), f"Nested more than {MAX_DEPTH} levels deep."
        if isinstance(value, _Refused):
            return _path(path), value.reason
        if isinstance(value, str) and _SURROGATE_OR_NUL.search(value):
            return _path(path), "Contains a lone surrogate or a NUL character."
        if isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE_OR_NUL.search(key):
                    return _path(path), "A key contains a lone surrogate or a NUL character."
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(value))
    return None


def _path(path: tuple[str, ...]) -> str:
    return ".".join(path) or "non_field_errors"


def _refuse(field: str, reason: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [reason]})


class StrictJSONParser(JSONParser):
    """JSON in, plain values out; anything no field can hold is a 400 naming its path."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.CADENZA_API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError(f"The body is not valid {encoding}.") from None
        try:
            data = _decode(text)
        except RecursionError:
            raise _refuse("non_field_errors", f"Nested more than {MAX_DEPTH} levels deep.") from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error: {error}") from None
        problem = _first_problem(data)
        if problem:
            raise _refuse(*problem)
        return data
