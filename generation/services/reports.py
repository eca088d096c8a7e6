"""Listener reports on tracks: one open report per listener per track, resolved by a decision."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from generation.models import ReportStatus, Track, TrackReport


class AlreadyReported(Exception):
    """The listener has an open report on this track already."""


def track_report_create(*, track: Track, reporter: User, reason: str, note: str = "") -> TrackReport:
    """File a report; the caller has checked the listener may see the track (the one visibility rule)."""
    if TrackReport.objects.filter(track=track, reporter=reporter, status=ReportStatus.OPEN).exists():
        raise AlreadyReported("You have already reported this track; a reviewer will look at it.")
    try:
        with transaction.atomic():
            return TrackReport.objects.create(track=track, reporter=reporter, reason=reason, note=note.strip())
    except IntegrityError as clash:  # a concurrent second report from the same listener
        raise AlreadyReported("You have already reported this track; a reviewer will look at it.") from clash
