"""The personal playlist: rank what the listener may hear by their taste, materialise it.

Candidates are the tracks ``generation.selectors.tracks_visible_to`` lets the listener hear (their
own, the approved catalog; never rejected, taken down or another listener's private track),
minus what they heard in the last ``CADENZA_RECS_REPEAT_WINDOW_HOURS`` and anything sounding with
an instrument they avoid. Ranking is the engine's (Thompson sampling widened by their
exploration setting, MMR for diversity) over the process's cached feature matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_current, preferences_snapshot
from generation.models import TERMINAL_STATUSES, GenerationJob, Track
from generation.selectors import tracks_visible_to
from recommendations import selectors
from recommendations.engine.ranking import rank
from recommendations.engine.taste import TasteModel
from recommendations.matrix import FeatureMatrix, feature_matrix
from recommendations.models import EventKind, ListeningEvent, PersonalPlaylist, PlaylistItem
from recommendations.reasons import VERBS, Enjoyed, reason
from recommendations.services.features import track_features_fill
from recommendations.snapshots import track_snapshot
from recommendations.vectors import family_bits

ENJOYED_KINDS = (EventKind.COMPLETE, EventKind.LIKE, EventKind.SAVE)
ENJOYED_RECENT = 200  # enjoyed events a reason looks back on


@dataclass(frozen=True)
class Candidates:
    matrix: FeatureMatrix
    allowed: np.ndarray  # (N,) bool over the matrix rows
    heard: set  # track ids heard in the repeat window


def candidates_for(*, user: User, preferences: PreferenceVersion | None, now=None,
                   created_before=None) -> Candidates:
    """Which rows of the feature matrix the listener may be offered at ``now`` (tracks made
    before ``created_before``, when given)."""
    now = now or timezone.now()
    visible_qs = tracks_visible_to(user=user)
    if created_before is not None:
        visible_qs = visible_qs.filter(created_at__lte=created_before)
    visible = set(visible_qs.values_list("id", flat=True))
    matrix = feature_matrix()
    missing = visible - matrix.row_of.keys()
    if missing and track_features_fill(track_ids=missing):
        matrix = feature_matrix()
    window = timedelta(hours=settings.CADENZA_RECS_REPEAT_WINDOW_HOURS)
    heard = selectors.heard_track_ids(user=user, since=now - window, until=now)
    allowed = np.zeros(matrix.count, dtype=bool)
    allowed[matrix.rows(visible)] = True
    allowed[matrix.rows(heard)] = False
    avoided = family_bits(getattr(preferences, "avoided_instruments", None) or [])
    if avoided:
        allowed &= (matrix.families & avoided) == 0
    return Candidates(matrix=matrix, allowed=allowed, heard=heard)


def _enjoyed(user: User, matrix: FeatureMatrix) -> Enjoyed:
    rows = list(
        ListeningEvent.objects.filter(user=user, kind__in=ENJOYED_KINDS).order_by("-id")
        .values_list("track_id", "kind")[:ENJOYED_RECENT]
    )
    rows = [(t, k) for t, k in rows if t in matrix.row_of]
    liked_now = selectors.track_ratings(user=user, track_ids={t for t, k in rows if k == EventKind.LIKE})
    rows = [(t, k) for t, k in rows if k != EventKind.LIKE or liked_now[t] == "liked"]  # not a like taken back
    return Enjoyed(X=matrix.X[matrix.rows(t for t, _ in rows)], verbs=[VERBS[k] for _, k in rows])


def _stated(snapshot: dict) -> list[str]:
    return [*snapshot.get("moods", []), *snapshot.get("styles", []), *snapshot.get("preferred_instruments", [])]


def _played_ever(user: User, track_ids) -> set:
    return set(ListeningEvent.objects.filter(user=user, track_id__in=list(track_ids)).values_list("track_id", flat=True))


def pending_jobs(*, user: User) -> list[GenerationJob]:
    """The listener's tracks still being composed, oldest first."""
    return list(GenerationJob.objects.filter(user=user).exclude(status__in=TERMINAL_STATUSES).order_by("created_at"))


def _ranked_items(user: User, model: TasteModel, preferences: PreferenceVersion | None,
                  rng: np.random.Generator) -> tuple[list[PlaylistItem], int]:
    snapshot = preferences_snapshot(version=preferences)
    found = candidates_for(user=user, preferences=preferences)
    m = found.matrix
    ranked = rank(model, m.X, exploration=float(snapshot.get("exploration", 0.3)), rng=rng,
                  k=settings.CADENZA_RECS_PLAYLIST_SIZE, allowed=found.allowed)
    enjoyed, stated = _enjoyed(user, m), _stated(snapshot)
    ids = [m.track_ids[i] for i in ranked.indices]
    played = _played_ever(user, ids)
    fit = m.X[ranked.indices] @ model.mean32
    tracks = Track.objects.select_related("features").prefetch_related("renditions").in_bulk(ids)
    items = [
        PlaylistItem(track_id=track_id, score=float(score), explore=bool(explore), families=int(m.families[row]),
                     reason=reason(m.X[row], explore=bool(explore), enjoyed=enjoyed, stated=stated)[:200],
                     summary=track_snapshot(tracks[track_id]))
        for track_id, row, score, explore in zip(ids, ranked.indices, ranked.scores, ranked.explore, strict=True)
    ]
    good_unplayed = sum(1 for t, f in zip(ids, fit, strict=True) if f >= settings.CADENZA_RECS_GOOD_FIT and t not in played)
    return items, good_unplayed


@transaction.atomic
def playlist_rebuild(*, user: User, rng: np.random.Generator | None = None) -> PersonalPlaylist:
    """Rank, explain and store the listener's playlist (tracks first, then pending jobs)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one rebuild per listener at a time
    preferences = preferences_current(user=user)
    profile = selectors.taste_profile_current(user=user)
    model = selectors.taste_model_current(user=user, preferences=preferences, profile=profile)
    items, good_unplayed = _ranked_items(user, model, preferences, rng or np.random.default_rng())
    items += [PlaylistItem(job=job, reason="being composed for you") for job in pending_jobs(user=user)]
    playlist, _ = PersonalPlaylist.objects.get_or_create(user=user, defaults={"built_at": timezone.now()})
    playlist.version += 1
    playlist.built_at = timezone.now()
    playlist.taste_version = profile.version if profile else 0
    playlist.preference_version = preferences
    playlist.ready_good_fit = good_unplayed
    playlist.events_through = selectors.latest_event_id(user=user)
    playlist.save()
    playlist.items.all().delete()
    for position, item in enumerate(items):
        item.playlist, item.position = playlist, position
    PlaylistItem.objects.bulk_create(items)
    return playlist


def playlist_current(*, user: User, playlist: PersonalPlaylist | None = None
                     ) -> tuple[PersonalPlaylist, PreferenceVersion | None]:
    """The materialised playlist (built now if there is none yet or the preferences changed
    since), with the current preferences it answers to."""
    playlist = playlist or PersonalPlaylist.objects.filter(user=user).first()
    preferences = preferences_current(user=user)
    if playlist is None or playlist.preference_version_id != (preferences.pk if preferences else None):
        playlist = playlist_rebuild(user=user)
    return playlist, preferences
