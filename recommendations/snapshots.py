"""What a playlist item remembers of its track when the playlist is built, so that reading the
playlist touches no track row: the summary a listener sees and the keys of its streams (signed
at read time). Tracks do not change once published except in status and availability, which
the read re-checks with the one visibility rule."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist


def _mood(track) -> str | None:
    try:
        return track.features.mood or None
    except ObjectDoesNotExist:
        return None


def track_snapshot(track) -> dict:
    """A track (renditions prefetched, features selected) as plain values."""
    measured = track.measured or {}
    return {
        "id": str(track.id), "title": track.title, "style": track.style, "mood": _mood(track),
        "duration_s": track.duration_s, "status": track.status, "tempo": measured.get("tempo"),
        "key": measured.get("key_tonic"), "mode": measured.get("mode"),
        "streams": [{"format": r.format, "mime_type": r.mime_type, "bitrate_kbps": r.bitrate_kbps, "key": r.key}
                    for r in track.renditions.all()],
    }
