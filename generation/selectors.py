"""Reads on generation: what a listener may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from generation.models import GenerationJob, Track, TrackStatus


def jobs_for(*, user: User) -> QuerySet[GenerationJob]:
    return GenerationJob.objects.filter(user=user).select_related("track")


def job_get(*, user: User, job_id) -> GenerationJob:
    """The listener's own job, else 404 (another listener's job does not exist for them)."""
    return get_object_or_404(jobs_for(user=user), id=job_id)


def tracks_visible_to(*, user: User) -> QuerySet[Track]:
    """The listener's own tracks (unless taken down) and the shared catalog."""
    return Track.objects.filter(Q(owner=user) | Q(status=TrackStatus.CATALOG)).exclude(status=TrackStatus.TAKEN_DOWN)


def track_get(*, user: User, track_id) -> Track:
    return get_object_or_404(
        tracks_visible_to(user=user).select_related("provenance").prefetch_related("renditions", "licences"),
        id=track_id,
    )
