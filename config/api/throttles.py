"""Throttles that say where the caller stands: each records its limit, what is left and when the
window frees a request, and ``RateLimitHeadersMiddleware`` turns the tightest one into the IETF
draft's ``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset`` headers (and a
``Retry-After`` of at least one second on a 429)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rest_framework import throttling

STATE_ATTRIBUTE = "_cadenza_rate_limits"


@dataclass(frozen=True)
class RateLimitState:
    """One throttle's window as this request left it."""

    scope: str
    limit: int
    remaining: int
    reset_s: int  # seconds until the window frees a request (0: it has room and nothing to free)


def _record(request, state: RateLimitState) -> None:
    django_request = getattr(request, "_request", request)
    states = getattr(django_request, STATE_ATTRIBUTE, None)
    if states is None:
        states = []
        setattr(django_request, STATE_ATTRIBUTE, states)
    states.append(state)


def recorded(request) -> list[RateLimitState]:
    """What the throttles of this request recorded (none when it was not throttled)."""
    return list(getattr(request, STATE_ATTRIBUTE, ()))


def tightest(states: list[RateLimitState]) -> RateLimitState | None:
    """The window the caller will hit first: the fewest requests left, then the longest wait."""
    return min(states, key=lambda s: (s.remaining, -s.reset_s)) if states else None


class RateLimitStateMixin:
    """For SimpleRateThrottle subclasses: after deciding, record the window on the request."""

    def allow_request(self, request, view) -> bool:
        self.history = None  # stays None when the throttle does not apply (no scope, no key)
        allowed = super().allow_request(request, view)
        if self.history is not None:
            remaining = max(0, self.num_requests - len(self.history))
            oldest = self.history[-1] if self.history else self.now
            reset = self.duration - (self.now - oldest) if self.history else 0
            _record(request, RateLimitState(scope=str(getattr(self, "scope", "") or type(self).__name__),
                                            limit=self.num_requests, remaining=remaining,
                                            reset_s=max(0, math.ceil(reset))))
        return allowed


class AnonRateThrottle(RateLimitStateMixin, throttling.AnonRateThrottle):
    """DRF's, per client address, recording its window."""


class UserRateThrottle(RateLimitStateMixin, throttling.UserRateThrottle):
    """DRF's, per listener, recording its window."""


class ScopedRateThrottle(RateLimitStateMixin, throttling.ScopedRateThrottle):
    """DRF's, per view scope, recording its window."""
