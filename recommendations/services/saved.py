"""Saved playlists: a listener's own, named lists of tracks they may hear."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import transaction

from accounts.models import User
from generation.selectors import visible_track_ids
from recommendations.models import SavedPlaylist, SavedPlaylistItem


class TracksUnknown(ValueError):
    """Some tracks do not exist for this listener (another's private track, taken down …)."""

    def __init__(self, field: str, track_ids: Sequence[uuid.UUID]):
        super().__init__(f"{field}: unknown tracks {', '.join(map(str, track_ids))}")
        self.field, self.track_ids = field, list(track_ids)


def _check_visible(user: User, track_ids: Sequence[uuid.UUID], field: str) -> None:
    visible = visible_track_ids(user=user, track_ids=track_ids)
    unknown = [t for t in dict.fromkeys(track_ids) if t not in visible]
    if unknown:
        raise TracksUnknown(field, unknown)


def _write_items(playlist: SavedPlaylist, track_ids: Sequence[uuid.UUID]) -> None:
    playlist.items.all().delete()
    SavedPlaylistItem.objects.bulk_create(
        SavedPlaylistItem(playlist=playlist, track_id=track_id, position=position)
        for position, track_id in enumerate(track_ids)
    )


@transaction.atomic
def saved_playlist_create(*, owner: User, name: str, track_ids: Sequence[uuid.UUID] = ()) -> SavedPlaylist:
    _check_visible(owner, track_ids, "tracks")
    playlist = SavedPlaylist.objects.create(owner=owner, name=name)
    _write_items(playlist, track_ids)
    return playlist


def saved_playlist_rename(*, playlist: SavedPlaylist, name: str) -> SavedPlaylist:
    playlist.name = name
    playlist.save(update_fields=["name", "updated_at"])
    return playlist


@transaction.atomic
def saved_playlist_add(*, playlist: SavedPlaylist, track_id: uuid.UUID, position: int | None = None) -> SavedPlaylist:
    """Add a track at ``position`` (default: the end); later items move down by one."""
    _check_visible(playlist.owner, [track_id], "track")
    current = list(playlist.items.order_by("position").values_list("track_id", flat=True))
    at = len(current) if position is None else max(0, min(position, len(current)))
    _write_items(playlist, [*current[:at], track_id, *current[at:]])
    playlist.save(update_fields=["updated_at"])
    return playlist


@transaction.atomic
def saved_playlist_remove(*, playlist: SavedPlaylist, position: int) -> SavedPlaylist:
    """Remove the item at ``position``; IndexError if there is none."""
    current = list(playlist.items.order_by("position").values_list("track_id", flat=True))
    if not 0 <= position < len(current):
        raise IndexError(position)
    _write_items(playlist, current[:position] + current[position + 1:])
    playlist.save(update_fields=["updated_at"])
    return playlist


@transaction.atomic
def saved_playlist_reorder(*, playlist: SavedPlaylist, order: Sequence[int]) -> SavedPlaylist:
    """``order`` lists every current position once, in the new order; ValueError otherwise."""
    current = list(playlist.items.order_by("position").values_list("track_id", flat=True))
    if sorted(order) != list(range(len(current))):
        raise ValueError(f"order: must list each of the positions 0..{len(current) - 1} exactly once")
    _write_items(playlist, [current[i] for i in order])
    playlist.save(update_fields=["updated_at"])
    return playlist


def saved_playlist_delete(*, playlist: SavedPlaylist) -> None:
    playlist.delete()
