"""Conditional GET: an ``ETag`` on a representation, ``If-None-Match`` → 304 with no body.

Two kinds of tag:

- strong (``"…"``), for bodies that are the same bytes while nothing changed (preferences,
  styles): the sha256 of the canonical JSON;
- weak (``W/"…"``), for bodies that carry short-lived signed URLs (track detail, playlist): every
  answer signs its URLs anew, so no two are the same bytes, but they mean the same. The tag hashes
  the body without its ``url`` values, plus the half of the URL lifetime it was made in: a 304
  therefore only ever confirms a copy whose URLs have at least half their lifetime left, and a
  client that revalidates later gets fresh URLs.

Every such answer says ``Cache-Control: private, no-cache`` (keep it, ask before reusing it) and
``Vary: Authorization`` (what it says depends on who asks).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from django.conf import settings
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.response import Response

CACHE_CONTROL = "private, no-cache"
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", OpenApiTypes.STR, location=OpenApiParameter.HEADER, required=False,
    description="An `ETag` this operation gave: 304 with no body while the representation is unchanged.",
)


def _without_urls(value: Any) -> Any:
    # leaves (most of a body) are kept without a recursive call: this runs on every playlist read
    if isinstance(value, dict):
        return {k: v if type(v) in _LEAVES else _without_urls(v) for k, v in value.items() if k != "url"}
    if isinstance(value, list):
        return [v if type(v) in _LEAVES else _without_urls(v) for v in value]
    return value


_LEAVES = frozenset({str, int, float, bool, type(None)})


def etag(body: Any, *, signed_urls: bool = False, now: float | None = None) -> str:
    """The tag of ``body`` (see the module's docstring for the two kinds)."""
    if not signed_urls:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'
    half_life = max(1, settings.SIGNED_URL_TTL_SECONDS // 2)
    epoch = int((time.time() if now is None else now) // half_life)
    canonical = json.dumps(_without_urls(body), sort_keys=True, separators=(",", ":"), default=str)
    return 'W/"' + hashlib.sha256(f"{epoch}:{canonical}".encode()).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def matches(if_none_match: str | None, tag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as If-None-Match uses; ``*`` matches any."""
    if not if_none_match:
        return False
    given = [part.strip() for part in if_none_match.split(",")]
    return "*" in given or _opaque(tag) in {_opaque(g) for g in given}


def _headers(response: Response, tag: str) -> Response:
    response["ETag"] = tag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Authorization",))
    return response


def respond(request, body: Any, *, signed_urls: bool = False, status_code: int = status.HTTP_200_OK) -> Response:
    """``body`` with its ETag, or 304 when the request's If-None-Match names it (GET/HEAD only)."""
    tag = etag(body, signed_urls=signed_urls)
    if request.method in ("GET", "HEAD") and matches(request.headers.get("If-None-Match"), tag):
        return _headers(Response(status=status.HTTP_304_NOT_MODIFIED), tag)
    return _headers(Response(body, status=status_code), tag)


def responses(serializer: Any, **others: Any) -> dict[int, Any]:
    """The ``responses`` of a conditional GET for ``extend_schema``: 200 with ``serializer``, 304."""
    return {200: serializer, 304: OpenApiResponse(description="Not modified: the copy you have is current."),
            **others}
