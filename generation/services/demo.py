"""The review side of ``make demo``: a demo reviewer, and a queue with something waiting in it.

The demo command calls ``demo_reviewer_ensure()`` and ``demo_review_queue_ensure(...)`` and
prints the reviewer's credentials beside the listener's. Composing is the caller's (the request a
track is composed from is planned above generation): ``compose`` takes a job's overrides and
returns the job, run through the real pipeline; publishing puts each track in the review queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group

from accounts.models import User
from generation.models import GenerationJob, ReportReason, Track, TrackStatus
from generation.services.reports import AlreadyReported, track_report_create

REVIEWER_EMAIL = "reviewer@cadenza.local"
REVIEWER_PASSWORD = "review-the-demo-2026"  # the demo's own account on the embedded default; printed
REVIEWER_GROUP = "reviewer"
WAITING = (TrackStatus.IN_REVIEW, TrackStatus.FLAGGED)
REVIEW_REQUESTS: tuple[dict[str, Any], ...] = (
    {"style": "piano", "mood": "calm"},
    {"style": "folk", "mood": "happy"},
    {"style": "chamber", "mood": "melancholic"},
)
DEMO_REPORT_NOTE = "Demo report: the opening sounds like a folk tune I know. Is it too close?"


@dataclass(frozen=True)
class DemoAccount:
    user: User
    email: str
    password: str


def demo_reviewer_ensure() -> DemoAccount:
    """The demo reviewer: staff, in the ``reviewer`` group (made by a migration), nothing more."""
    user = User.objects.filter(email=REVIEWER_EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=REVIEWER_EMAIL, password=REVIEWER_PASSWORD,
                                        display_name="Demo reviewer", is_staff=True)
    elif not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=REVIEWER_GROUP))
    return DemoAccount(user=user, email=REVIEWER_EMAIL, password=REVIEWER_PASSWORD)


def demo_review_queue_ensure(*, listener: User, compose: Callable[[dict[str, Any]], GenerationJob],
                             minimum: int = len(REVIEW_REQUESTS)) -> list[Track]:
    """At least ``minimum`` tracks waiting for review (composing what is missing), one of them reported.

    Returns the waiting tracks, newest first. A request the pipeline rejects or the quota refuses
    is skipped: the demo shows what there is.
    """
    from generation.services.jobs import QuotaExceeded

    missing = max(0, minimum - Track.objects.filter(status__in=WAITING).count())
    for overrides in (REVIEW_REQUESTS * (1 + minimum // len(REVIEW_REQUESTS)))[:missing]:
        try:
            compose(dict(overrides))
        except QuotaExceeded:
            break
    waiting = list(Track.objects.filter(status__in=WAITING).order_by("-created_at"))
    own = next((track for track in waiting if track.owner_id == listener.pk), None)
    if own is not None and not own.reports.exists():
        with contextlib.suppress(AlreadyReported):  # the listener reports their own: the queue shows a reported one
            track_report_create(track=own, reporter=listener, reason=ReportReason.KNOWN_WORK, note=DEMO_REPORT_NOTE)
    return waiting
