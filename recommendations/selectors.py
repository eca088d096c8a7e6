"""Reads on what listeners did and what the recommender keeps for them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace

import numpy as np
from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_current, preferences_snapshot
from generation.models import TERMINAL_STATUSES, JobStatus, Track, TrackStatus
from generation.selectors import is_visible, tracks_visible_to, visible_track_ids
from recommendations.engine import features as F
from recommendations.engine.taste import TasteModel, explain, prior_from_preferences
from recommendations.models import (
    RATING_KINDS,
    ListeningEvent,
    PersonalPlaylist,
    PopulationPrior,
    SavedPlaylist,
    TasteProfile,
)
from recommendations.snapshots import track_snapshot
from recommendations.vectors import family_bits


@dataclass(frozen=True)
class PendingJob:
    """What a playlist shows of a job still composing."""

    id: uuid.UUID
    status: str
    style: str


def events_for(*, user: User) -> QuerySet[ListeningEvent]:
    return ListeningEvent.objects.filter(user=user)


def track_ratings(*, user: User, track_ids) -> dict:
    """``{track_id: "liked" | "disliked" | "none"}`` for each of ``track_ids``: the listener's
    latest like, dislike, unlike or undislike of it (by when it happened, then by arrival)
    decides; a track never rated is "none". The one answer the track page and the playlist give."""
    track_ids = set(track_ids)
    ratings = dict.fromkeys(track_ids, "none")
    if not track_ids:
        return ratings
    rows = (ListeningEvent.objects.filter(user=user, track_id__in=track_ids, kind__in=list(RATING_KINDS))
            .order_by("occurred_at", "id").values_list("track_id", "kind"))
    for track_id, kind in rows:  # oldest first: the latest overwrites
        ratings[track_id] = RATING_KINDS[kind]
    return ratings


def latest_rating(*, user: User, track_ref: OuterRef) -> Subquery:
    """``track_ratings``' rule as an annotation: the kind of the listener's latest rating event of
    the track ``track_ref`` names in an outer query (None: never rated)."""
    events = ListeningEvent.objects.filter(user=user, track_id=track_ref, kind__in=list(RATING_KINDS))
    return Subquery(events.order_by("-occurred_at", "-id").values("kind")[:1])


def entry_ratings(*, user: User, entries: list[dict]) -> dict:
    """``track_ratings`` of playlist entries: what their rows brought (``playlist_entries``), and
    one query for a track found since through its finished job."""
    ratings = {uuid.UUID(str(e["track"]["id"] if isinstance(e["track"], dict) else e["track"].id)): e.get("rating")
               for e in entries if e["kind"] == "track"}
    unknown = {track_id for track_id, rating in ratings.items() if rating is None}
    return {**{k: v for k, v in ratings.items() if v is not None},
            **(track_ratings(user=user, track_ids=unknown) if unknown else {})}


def personal_rows(*, user: User) -> dict[str, list[dict]]:
    """recommendations' part of the listener's data export: events, taste versions, playlists."""
    playlist = PersonalPlaylist.objects.filter(user=user).first()
    return {
        "listening_events": [
            {
                "client_event_id": str(event.client_event_id),
                "track": str(event.track_id),
                "kind": event.kind,
                "position_ms": event.position_ms,
                "occurred_at": event.occurred_at.isoformat(),
                "received_at": event.received_at.isoformat(),
            }
            for event in events_for(user=user).order_by("occurred_at", "id")
        ],
        "taste_profiles": [
            {
                "version": profile.version,
                "schema": profile.schema,
                "cause": profile.cause,
                "created_at": profile.created_at.isoformat(),
                "events_through": profile.events_through,
                "events_consumed": profile.events_consumed,
                "changes": profile.changes,
                "state": profile.state,
            }
            for profile in TasteProfile.objects.filter(user=user).order_by("version")
        ],
        "personal_playlist": [
            {
                "position": item.position,
                "track": str(item.track_id) if item.track_id else None,
                "job": str(item.job_id) if item.job_id else None,
                "reason": item.reason,
                "explore": item.explore,
                "built_at": playlist.built_at.isoformat(),
            }
            for item in (playlist.items.order_by("position") if playlist else [])
        ],
        "saved_playlists": [
            {
                "id": str(saved.id),
                "name": saved.name,
                "created_at": saved.created_at.isoformat(),
                "tracks": [str(item.track_id) for item in saved.items.order_by("position")],
            }
            for saved in SavedPlaylist.objects.filter(owner=user).order_by("created_at")
        ],
    }


# ------------------------------------------------------------------------------------------------
# Taste
# ------------------------------------------------------------------------------------------------
def taste_profile_current(*, user: User) -> TasteProfile | None:
    return TasteProfile.objects.filter(user=user).order_by("-version").first()


_population_cache: dict[tuple, TasteModel] = {}  # the latest PopulationPrior row, parsed once per process


def population_prior_current() -> TasteModel | None:
    """The latest population prior of the current feature schema, None before there is one
    (one indexed read; the parsed model is kept per process until a newer row appears)."""
    row = PopulationPrior.objects.filter(schema=F.SCHEMA).order_by("-id").values_list("id", "computed_at").first()
    if row is None:
        return None
    if row not in _population_cache:
        state = PopulationPrior.objects.filter(pk=row[0]).values_list("state", flat=True).first()
        if state is None:  # pruned meanwhile
            return None
        _population_cache.clear()
        _population_cache[row] = TasteModel.from_dict(state)
    return _population_cache[row]


def taste_prior(*, preferences: PreferenceVersion | None) -> TasteModel:
    """The cold-start model: the population prior (what listeners in general turn out to like,
    once enough have been learned) shifted by the stated preferences."""
    return prior_from_preferences(preferences_snapshot(version=preferences), population=population_prior_current(),
                                  now=time.time())


def taste_model_current(*, user: User, preferences: PreferenceVersion | None,
                        profile: TasteProfile | None = None) -> TasteModel:
    """The listener's model now: the latest profile's evidence over the prior of their current
    preferences (changed preferences move the prior, never the evidence), else the prior."""
    profile = profile or taste_profile_current(user=user)
    prior = taste_prior(preferences=preferences)
    if profile is None or profile.schema != F.SCHEMA:
        return prior  # a profile of an older feature schema cannot be read: start from the prior
    model = TasteModel.from_dict(profile.state)
    if profile.preference_version_id != (preferences.pk if preferences else None):
        model = replace(model, prior_mean=prior.prior_mean, prior_precision=prior.prior_precision, stated=prior.stated)
    return model


def prior_of(model: TasteModel) -> TasteModel:
    """The model with its evidence taken away: what it was before any event."""
    return replace(model, data_precision=np.zeros_like(model.data_precision), data_info=np.zeros_like(model.data_info),
                   contributions={}, n_updates=0, n_events=0)


# ------------------------------------------------------------------------------------------------
# Playlist
# ------------------------------------------------------------------------------------------------
def playlist_get(*, user: User) -> PersonalPlaylist | None:
    return PersonalPlaylist.objects.filter(user=user).select_related("preference_version").first()


def playlist_entries(*, user: User, playlist: PersonalPlaylist,
                     preferences: PreferenceVersion | None = None) -> list[dict]:
    """The playlist as it may be served now, in order: tracks the listener may still hear (the
    one visibility rule, asked at read time) without an instrument they now avoid, as the
    snapshots the build stored; pending jobs (one that has since published shows its track)."""
    # one query: the rows, whether the listener may still hear each track (the one visibility
    # rule) and their latest rating of it
    items = list(playlist.items.order_by("position").annotate(
        visible=is_visible(user=user, track_ref=OuterRef("track_id")),
        rating=latest_rating(user=user, track_ref=OuterRef("track_id")),
    ).values("track_id", "job_id", "job__status", "job__style", "reason", "explore", "score", "families", "summary",
             "visible", "rating"))
    done = [i["job_id"] for i in items if i["job_id"] and i["job__status"] == JobStatus.PUBLISHED]
    finished = {t.job_id: t for t in Track.objects.filter(job_id__in=done).select_related("features")
                .prefetch_related("renditions")} if done else {}
    visible = {i["track_id"] for i in items if i["track_id"] and i["visible"]}
    if finished:
        visible |= visible_track_ids(user=user, track_ids={t.id for t in finished.values()})
    preferences = preferences or preferences_current(user=user)
    avoided = family_bits(getattr(preferences, "avoided_instruments", None) or [])
    entries = []
    for item in items:
        track = finished.get(item["job_id"]) if item["job_id"] else None
        track_id = item["track_id"] or getattr(track, "id", None)
        families = item["families"] or getattr(getattr(track, "features", None), "families", 0)
        if track_id is not None and (track_id not in visible or families & avoided):
            continue
        if track_id is None and item["job__status"] in TERMINAL_STATUSES:
            continue  # failed or rejected: nothing to play
        job = None if track_id else PendingJob(item["job_id"], item["job__status"], item["job__style"])
        entries.append({
            "position": len(entries), "kind": "track" if track_id else "pending",
            "track": item["summary"] if item["track_id"] else (track_snapshot(track) if track else None),
            "job": job, "reason": item["reason"], "explore": item["explore"],
            "score": round(item["score"], 4) if item["track_id"] else None,
            "rating": (RATING_KINDS[item["rating"]] if item["rating"] else "none") if item["track_id"] else None,
        })
    return entries


def heard_track_ids(*, user: User, since, until=None) -> set:
    """Tracks the listener did anything with since ``since`` (the no-repeat window)."""
    events = ListeningEvent.objects.filter(user=user, occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lte=until)
    return set(events.values_list("track_id", flat=True).distinct())


def latest_event_id(*, user: User) -> int:
    return ListeningEvent.objects.filter(user=user).order_by("-id").values_list("id", flat=True).first() or 0


def _summary(model: TasteModel) -> str:
    """The taste in a sentence: what it leans towards and away from, beyond the average."""
    weights = model.mean.copy()
    weights[F.I_BIAS] = 0.0
    order = np.argsort(-weights)
    towards = [F.describe_feature(int(i)) for i in order[:4] if weights[i] > 0.05]
    away = [F.describe_feature(int(i)) for i in order[::-1][:3] if weights[i] < -0.05]
    if not towards and not away:
        return "No leanings yet: everything is as likely as anything else."
    parts = [f"You lean towards {', '.join(towards)}" if towards else "", f"away from {', '.join(away)}" if away else ""]
    return "; ".join(p for p in parts if p) + "."


def taste_view(*, user: User) -> dict:
    """The listener's taste in numbers and words: every feature's weight beside what the stated
    preferences put there, what moved most and which events moved it."""
    preferences = preferences_current(user=user)
    profile = taste_profile_current(user=user)
    model = taste_model_current(user=user, preferences=preferences, profile=profile)
    prior = prior_of(model)
    std = np.sqrt(np.clip(np.diag(model.cov), 0, None))
    history = TasteProfile.objects.filter(user=user).order_by("-version")[:5]
    return {
        "version": profile.version if profile else 0,
        "schema": model.schema,
        "events_learned": model.n_events,
        "summary": _summary(model),
        "features": [
            {"name": name, "words": F.describe_feature(i), "weight": round(float(model.mean[i]), 4),
             "prior": round(float(prior.mean[i]), 4), "std": round(float(std[i]), 4)}
            for i, name in enumerate(F.NAMES)
        ],
        "moved": explain(model, prior),
        "history": [
            {"version": p.version, "cause": p.cause, "created_at": p.created_at,
             "events_consumed": p.events_consumed, "changes": p.changes}
            for p in history
        ],
    }


# ------------------------------------------------------------------------------------------------
# Catalog and saved playlists
# ------------------------------------------------------------------------------------------------
def catalog_for(*, user: User) -> QuerySet[Track]:
    """The approved shared catalog, as the listener may hear it (the one visibility rule)."""
    return (tracks_visible_to(user=user).filter(status=TrackStatus.CATALOG)
            .select_related("features").prefetch_related("renditions"))


def saved_playlists_for(*, user: User) -> QuerySet[SavedPlaylist]:
    return SavedPlaylist.objects.filter(owner=user)


def saved_playlist_get(*, user: User, playlist_id) -> SavedPlaylist:
    """The listener's own saved playlist, else 404 (another's does not exist for them)."""
    return get_object_or_404(saved_playlists_for(user=user), id=playlist_id)


def saved_playlist_view(*, user: User, playlist: SavedPlaylist) -> dict:
    """A saved playlist with the items the listener may still hear (taken-down tracks drop out)."""
    items = list(playlist.items.select_related("track__features").prefetch_related("track__renditions"))
    visible = visible_track_ids(user=user, track_ids={i.track_id for i in items})
    return {
        "id": playlist.id, "name": playlist.name, "created_at": playlist.created_at, "updated_at": playlist.updated_at,
        "items": [{"position": i.position, "track": i.track, "added_at": i.added_at}
                  for i in items if i.track_id in visible],
    }
