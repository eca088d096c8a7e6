"""Plain renderers of what the recommender serves, for the hot paths (the playlist is read far
more often than it is rebuilt). Each returns exactly the fields of its typed output serializer in
``serializers.py`` (the schema), which a test holds them to; they skip DRF's per-field machinery
and sign every stream URL of a response in one batch."""

from __future__ import annotations

import uuid

from generation import objects
from generation.services.jobs import progress
from recommendations.snapshots import track_snapshot


def summaries(snapshots: list[dict]) -> list[dict]:
    """``TrackSummaryOutput`` of each track snapshot, every stream URL signed in one batch."""
    urls = iter(objects.signed_urls([s["key"] for snap in snapshots for s in snap["streams"]]))
    out = []
    for snap in snapshots:
        base = f"/api/v1/tracks/{snap['id']}"
        streams = [{"format": s["format"], "mime_type": s["mime_type"], "bitrate_kbps": s["bitrate_kbps"],
                    "url": next(urls)} for s in snap["streams"]]
        out.append({**snap, "streams": streams, "links": {"track": base, "radio": f"{base}/radio"}})
    return out


def track_summaries(tracks: list) -> list[dict]:
    """``TrackSummaryOutput`` of tracks (renditions prefetched, features selected)."""
    return summaries([track_snapshot(t) for t in tracks])


def pending_job(job) -> dict:
    """``PendingJobOutput``."""
    return {"id": str(job.id), "status": job.status, "progress": progress(job.status), "style": job.style,
            "url": f"/api/v1/generations/{job.id}"}


def entries(items: list[dict], *, ratings: dict, with_position: bool = True, with_score: bool = True) -> list[dict]:
    """Playlist or radio entries (``PlaylistItemOutput`` / ``RadioItemOutput``); an entry's
    ``track`` is a snapshot (``recommendations.snapshots``) or a Track; ``ratings`` is
    ``selectors.track_ratings`` of their tracks."""
    snaps = [e["track"] if isinstance(e["track"], dict) else track_snapshot(e["track"])
             for e in items if e["kind"] == "track"]
    rendered = iter(summaries(snaps))
    out = []
    for e in items:
        track = next(rendered) if e["kind"] == "track" else None
        row = {"kind": e["kind"], "track": track,
               "job": pending_job(e["job"]) if e["kind"] == "pending" else None,
               "liked": ratings.get(uuid.UUID(str(track["id"])), "none") if track else None, "reason": e["reason"]}
        if with_position:
            row = {"position": e["position"], **row, "explore": e["explore"]}
        if with_score:
            row["score"] = e["score"]
        out.append(row)
    return out


def playlist(playlist, items: list[dict], *, ratings: dict) -> dict:
    """``PlaylistOutput``."""
    return {"version": playlist.version, "built_at": playlist.built_at.isoformat().replace("+00:00", "Z"),
            "taste_version": playlist.taste_version, "items": entries(items, ratings=ratings)}


def entry_track_ids(items: list[dict]) -> set:
    """The ids of the tracks among playlist or radio entries (for ``selectors.track_ratings``)."""
    return {uuid.UUID(str(e["track"]["id"] if isinstance(e["track"], dict) else e["track"].id))
            for e in items if e["kind"] == "track"}
