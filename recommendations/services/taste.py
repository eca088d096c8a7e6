"""Taste, learned online: each batch of events updates the listener's model and writes its next
version; a reset goes back to the stated preferences."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.selectors import preferences_current
from generation.models import Track
from recommendations import selectors
from recommendations.engine import features as F
from recommendations.engine.taste import TasteModel, event_signal, update
from recommendations.models import (
    EventKind,
    ListeningEvent,
    TasteCause,
    TasteProfile,
    TrackFeatures,
)
from recommendations.services.features import track_features_fill
from recommendations.vectors import vector_from_bytes

MAX_EVENTS_PER_VERSION = 5000  # a backlog is taken in several versions
TOP_FEATURES = 6  # features a version's changes name
TOP_EVENTS = 3  # events named per feature


@dataclass(frozen=True)
class Signal:
    event_id: int
    track_id: object
    title: str
    kind: str  # the event's kind, or "replay"
    target: float
    weight: float
    age_s: float


def _signals(user: User, events: list[dict], through: int, now: float) -> tuple[list[Signal], np.ndarray]:
    """The events that say something about taste, with their tracks' vectors (N, D)."""
    track_ids = {e["track_id"] for e in events}
    tracks = {t["id"]: t for t in Track.objects.filter(id__in=track_ids).values("id", "title", "duration_s")}
    track_features_fill(track_ids=track_ids)
    vectors = {
        track_id: vector_from_bytes(vector)
        for track_id, vector in TrackFeatures.objects.filter(track_id__in=track_ids, schema=F.SCHEMA)
        .values_list("track_id", "vector")
    }
    completed = set(
        ListeningEvent.objects.filter(user=user, kind=EventKind.COMPLETE, id__lte=through, track_id__in=track_ids)
        .values_list("track_id", flat=True)
    )
    signals, rows = [], []
    for e in events:
        track = tracks.get(e["track_id"])
        replay = e["kind"] in (EventKind.PLAY, EventKind.COMPLETE) and e["track_id"] in completed
        if e["kind"] == EventKind.COMPLETE:
            completed.add(e["track_id"])
        signal = event_signal(e["kind"], position_ms=e["position_ms"],
                              duration_ms=int(track["duration_s"] * 1000) if track else 0, replay=replay)
        if signal is None or track is None or e["track_id"] not in vectors:
            continue
        signals.append(Signal(e["id"], e["track_id"], track["title"], "replay" if replay else e["kind"],
                              signal[0], signal[1], max(0.0, now - e["occurred_at"].timestamp())))
        rows.append(vectors[e["track_id"]])
    return signals, np.array(rows, dtype=np.float32).reshape(-1, F.D)


def _changes(before: TasteModel, after: TasteModel, signals: list[Signal], X: np.ndarray) -> list[dict]:
    """Which features this version moved, how far, and the events that pushed them that way."""
    delta = after.mean - before.mean
    if not signals:
        return []
    push = X * np.array([s.weight * s.target for s in signals])[:, None]  # (N, D) each event's pull
    out = []
    for i in np.argsort(-np.abs(delta))[:TOP_FEATURES]:
        if abs(delta[i]) < 1e-3:
            break
        same_way = [j for j in np.argsort(-np.abs(push[:, i])) if push[j, i] * delta[i] > 0][:TOP_EVENTS]
        direction = "more" if delta[i] > 0 else "less"
        out.append({
            "feature": F.NAMES[i],
            "change": round(float(delta[i]), 4),
            "words": f"{direction} fond of {F.describe_feature(int(i))}",
            "events": [{"id": signals[j].event_id, "kind": signals[j].kind, "track": str(signals[j].track_id),
                        "title": signals[j].title} for j in same_way],
        })
    return out


def _next_version(user: User) -> int:
    last = TasteProfile.objects.filter(user=user).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def taste_update(*, user: User) -> TasteProfile | None:
    """Take in the listener's events not yet learned from (oldest first); the new version, or
    None when there was nothing new."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one writer per listener
    profile = selectors.taste_profile_current(user=user)
    preferences = preferences_current(user=user)
    through = profile.events_through if profile else 0
    events = list(
        ListeningEvent.objects.filter(user=user, id__gt=through).order_by("id")
        .values("id", "track_id", "kind", "position_ms", "occurred_at")[:MAX_EVENTS_PER_VERSION]
    )
    if not events:
        return None
    now = time.time()
    before = selectors.taste_model_current(user=user, preferences=preferences, profile=profile)
    signals, X = _signals(user, events, through, now)
    after = update(
        before, X, np.array([s.target for s in signals]), np.array([s.weight for s in signals]),
        ages_s=np.array([s.age_s for s in signals]), now=now, kinds=[s.kind for s in signals],
    )
    profile = TasteProfile.objects.create(
        user=user, version=_next_version(user), schema=F.SCHEMA, state=after.to_dict(), cause=TasteCause.EVENTS,
        preference_version=preferences, events_through=events[-1]["id"], events_consumed=len(events),
        changes=_changes(before, after, signals, X),
    )
    _prune(user, profile.version)
    return profile


def _prune(user: User, latest: int) -> None:
    """Keep the last CADENZA_RECS_TASTE_VERSIONS_KEPT versions (each holds the whole model)."""
    TasteProfile.objects.filter(user=user, version__lte=latest - settings.CADENZA_RECS_TASTE_VERSIONS_KEPT).delete()


def taste_catch_up(*, user: User) -> list[TasteProfile]:
    """Versions until every stored event is learned from (a backlog takes several)."""
    made = []
    while (profile := taste_update(user=user)) is not None:
        made.append(profile)
        if profile.events_consumed < MAX_EVENTS_PER_VERSION:
            break
    return made


@transaction.atomic
def taste_reset(*, user: User) -> TasteProfile:
    """Forget what was learned: a new version that is the prior of the stated preferences, and
    that has taken in (so ignores) every event stored so far."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    preferences = preferences_current(user=user)
    last_event = ListeningEvent.objects.filter(user=user).order_by("-id").values_list("id", flat=True).first()
    return TasteProfile.objects.create(
        user=user, version=_next_version(user), schema=F.SCHEMA,
        state=selectors.taste_prior(preferences=preferences).to_dict(), cause=TasteCause.RESET,
        preference_version=preferences, events_through=last_event or 0, events_consumed=0, changes=[],
    )
