"""Seeding the shared catalog: compose tracks across styles and moods with the real pipeline,
as a curator account, and approve what publishes. Resumable: track ``i`` of the plan is always
the same request (its seed is ``SEED_BASE + i``), so a rerun only makes what is missing."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from generation.audio.styles import style_names
from generation.models import TERMINAL_STATUSES, GenerationJob, JobStatus, ReviewAction, TrackStatus
from generation.services.jobs import enqueue, generation_job_create
from generation.services.tracks import track_review
from recommendations.engine.compose_next import MOODS
from recommendations.taste import draw_request

CURATOR_EMAIL = "catalog@cadenza.local"
SEED_BASE = 910_000
# What the curator "likes": every tempo the moods use, any mode, some exploration.
CURATOR_PREFERENCES = {"tempo_min": 56, "tempo_max": 170, "energy": 0.5, "mode": "any", "exploration": 0.5,
                       "preferred_instruments": [], "avoided_instruments": []}


@dataclass(frozen=True)
class Planned:
    index: int
    style: str
    mood: str
    seed: int


def plan(index: int) -> Planned:
    """Track ``index`` of the catalog: styles × moods in a fixed shuffled order, round after round."""
    combos = list(itertools.product(style_names(), MOODS))
    random.Random(7).shuffle(combos)
    style, mood = combos[index % len(combos)]
    return Planned(index=index, style=style, mood=mood, seed=SEED_BASE + index)


def catalog_curator() -> User:
    """The staff account that requests and approves seeded tracks (it cannot sign in)."""
    user, made = User.objects.get_or_create(email=CURATOR_EMAIL, defaults={"display_name": "Cadenza catalog",
                                                                             "is_staff": True})
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def catalog_job(*, curator: User, planned: Planned, seconds: float) -> tuple[GenerationJob, bool]:
    """The job of a planned track: the existing one (resumed if it stopped half-way), or a new one.
    True when it was made now. On the embedded default the new job runs before this returns."""
    existing = GenerationJob.objects.filter(user=curator, seed=planned.seed).order_by("-created_at").first()
    if existing is not None:
        if existing.status not in TERMINAL_STATUSES:
            transaction.on_commit(lambda: enqueue(existing))  # stages are idempotent: it resumes
        return existing, False
    overrides = {"style": planned.style, "mood": planned.mood, "length_s": seconds}
    request = draw_request({**CURATOR_PREFERENCES, "styles": [planned.style], "moods": [planned.mood],
                            "length_min_s": seconds, "length_max_s": seconds}, seed=planned.seed, overrides=overrides)
    job = generation_job_create(user=curator, request=request, seed=planned.seed, overrides=overrides,
                                charge_quota=False)
    return job, True


def catalog_approve(*, curator: User) -> int:
    """Approve the curator's published tracks still waiting for review; how many."""
    waiting = GenerationJob.objects.filter(user=curator, status=JobStatus.PUBLISHED,
                                           track__status=TrackStatus.IN_REVIEW).select_related("track")
    approved = 0
    for job in waiting:
        track_review(track=job.track, reviewer=curator, action=ReviewAction.APPROVE, reason="seed_catalog")
        approved += 1
    return approved
