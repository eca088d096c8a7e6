"""Radio: an endless station seeded by a track.

Tracks the listener may hear are ordered by how close they sound to the seed (feature cosine
similarity) plus a little of their taste, without repeats from the no-repeat window or avoided
instruments. The order is computed over the tracks that existed when the station started (kept
in the cursor), so pages never shift; then come tracks made since, oldest first; and when those
run out too, the station composes near the seed (its style, mood, mode and instruments, its tempo
± 8 %) within the listener's quota, and the page shows them as pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.core import signing
from django.utils import timezone

from accounts.models import User
from accounts.selectors import preferences_current
from generation.models import Track
from generation.selectors import tracks_visible_to
from recommendations import selectors
from recommendations.engine import features as F
from recommendations.matrix import feature_matrix
from recommendations.services.compose import compose_near
from recommendations.services.features import track_features_fill
from recommendations.services.playlists import candidates_for, pending_jobs

CURSOR_SALT = "cadenza.recommendations.radio"
TASTE = 0.2  # weight of the listener's taste beside similarity to the seed


@dataclass(frozen=True)
class RadioCursor:
    started: float  # epoch seconds the station started
    offset: int = 0  # into the order of tracks that existed then
    fresh: int = 0  # into the tracks made since, oldest first

    def encode(self) -> str:
        return signing.dumps({"t": self.started, "o": self.offset, "f": self.fresh}, salt=CURSOR_SALT, compress=True)

    @classmethod
    def decode(cls, token: str) -> RadioCursor:
        """The cursor a previous page gave; ValueError if it was not ours."""
        try:
            data = signing.loads(token, salt=CURSOR_SALT)
            return cls(started=float(data["t"]), offset=int(data["o"]), fresh=int(data["f"]))
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise ValueError("cursor: not a cursor this station gave") from None


@dataclass(frozen=True)
class RadioPage:
    entries: list[dict]
    next: RadioCursor


def _seed_vector(seed: Track) -> np.ndarray:
    track_features_fill(track_ids=[seed.id])
    matrix = feature_matrix()
    return matrix.X[matrix.row_of[seed.id]]


def radio_page(*, user: User, seed: Track, cursor: RadioCursor | None, size: int) -> RadioPage:
    """One page of the station (``seed`` must be a track the listener may hear)."""
    cursor = cursor or RadioCursor(started=timezone.now().timestamp())
    started = datetime.fromtimestamp(cursor.started, tz=UTC)
    preferences = preferences_current(user=user)
    model = selectors.taste_model_current(user=user, preferences=preferences)
    x0 = _seed_vector(seed)
    found = candidates_for(user=user, preferences=preferences, now=started, created_before=started)
    m = found.matrix
    score = F.similarity(x0[None, :], m.X)[0] + TASTE * np.tanh(m.X @ model.mean32)
    allowed = found.allowed.copy()
    allowed[m.rows([seed.id])] = False
    order = np.flatnonzero(allowed)[np.argsort(-score[allowed], kind="stable")]
    page = order[cursor.offset:cursor.offset + size]
    entries = [{"kind": "track", "track_id": m.track_ids[i],
                "reason": f"sounds like “{seed.title}”: {F.describe(m.X[i])}"} for i in page]
    fresh: list[Track] = []
    if len(entries) < size:
        fresh = list(tracks_visible_to(user=user).filter(created_at__gt=started).exclude(id=seed.id)
                     .order_by("created_at", "id")[cursor.fresh:cursor.fresh + size - len(entries)])
        entries += [{"kind": "track", "track_id": t.id, "reason": f"new, after “{seed.title}”"} for t in fresh]
    if len(entries) < size:
        mood = getattr(getattr(seed, "features", None), "mood", "") or None
        compose_near(user=user, seed=seed, mood=mood, n=size - len(entries), model=model)
        entries += [{"kind": "pending", "job": job, "reason": f"being composed near “{seed.title}”"}
                    for job in pending_jobs(user=user) if job.created_at > started]
    tracks = Track.objects.select_related("features").prefetch_related("renditions").in_bulk(
        [e["track_id"] for e in entries if e["kind"] == "track"])
    for entry in entries:
        entry["track"] = tracks.get(entry.pop("track_id", None))
        entry.setdefault("job", None)
    return RadioPage(entries=entries, next=RadioCursor(cursor.started, cursor.offset + len(page),
                                                       cursor.fresh + len(fresh)))
