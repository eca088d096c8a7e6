"""Asking generation for a track: plan the request here (preferences, taste), generation runs it."""

from __future__ import annotations

import random
from typing import Any

from accounts.models import User
from accounts.selectors import preferences_current, preferences_snapshot
from generation.models import GenerationJob
from generation.services.jobs import generation_job_create
from recommendations.taste import draw_request


def generation_request_create(*, user: User, overrides: dict[str, Any]) -> GenerationJob:
    """POST /api/v1/generations: draw a request from the listener's preferences with
    ``overrides`` (style, mood, tempo, key, mode, metre, length_s, seed) applied last, then store
    it as a job within the quota (generation's QuotaExceeded passes through)."""
    seed = int(overrides.get("seed", random.SystemRandom().randrange(2**31)))
    version = preferences_current(user=user)
    request = draw_request(preferences_snapshot(version=version), seed=seed, overrides=overrides)
    return generation_job_create(user=user, request=request, seed=seed, overrides=overrides, preference_version=version)
