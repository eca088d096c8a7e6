"""Track features, filled lazily: a track gets its feat-v1 row the first time the recommender
needs it (ranking, an event on it), computed from what the track sounds like as heard
(``Track.measured``), its style, its mood and its length."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from generation.models import Provenance, Track
from recommendations.engine import features as F
from recommendations.models import TrackFeatures
from recommendations.vectors import vector_bytes, vector_family_bits

CHUNK = 2000  # ids per IN (...) list


def track_moods(track_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The mood each track was composed for (its provenance's request), where it had one."""
    ids = list(track_ids)
    moods: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), CHUNK):
        rows = Provenance.objects.filter(track_id__in=ids[start:start + CHUNK]).values_list(
            "track_id", "record__request__mood"
        )
        moods.update({track_id: mood for track_id, mood in rows if isinstance(mood, str)})
    return moods


def track_features_fill(*, track_ids: Iterable[uuid.UUID]) -> int:
    """Store feat-v1 for those of ``track_ids`` without a row of the current schema; how many."""
    wanted = set(track_ids)
    if not wanted:
        return 0
    ids = list(wanted)
    have: set[uuid.UUID] = set()
    for start in range(0, len(ids), CHUNK):
        have |= set(TrackFeatures.objects.filter(track_id__in=ids[start:start + CHUNK], schema=F.SCHEMA)
                    .values_list("track_id", flat=True))
    missing = list(wanted - have)
    if not missing:
        return 0
    moods = track_moods(missing)
    made = 0
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start:start + CHUNK]
        rows = []
        for track in Track.objects.filter(id__in=chunk).values("id", "measured", "style", "duration_s"):
            mood = moods.get(track["id"])
            vector = F.track_vector(track["measured"] or {}, style=track["style"], mood=mood,
                                    duration_s=track["duration_s"])
            rows.append(TrackFeatures(track_id=track["id"], schema=F.SCHEMA, vector=vector_bytes(vector),
                                      families=vector_family_bits(vector), mood=mood or ""))
        # A row of an older schema goes and a new one comes (a new id, so caches see it as new).
        TrackFeatures.objects.filter(track_id__in=chunk).exclude(schema=F.SCHEMA).delete()
        TrackFeatures.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
    return made
