"""Writes on generation: jobs, tracks, their objects and records."""

from accounts.models import User
from generation.models import Track, TrackStatus


def tracks_erase_for_user(*, user: User) -> None:
    """Delete a listener's private tracks (rows and objects); catalog tracks stay, unowned."""
    Track.objects.filter(owner=user).exclude(status=TrackStatus.CATALOG).delete()
