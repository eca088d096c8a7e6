"""Compose-ahead: when a listener's playlist runs short of unplayed good-fit tracks, ask
generation for new ones whose conditioning a sample of their taste likes best (within their
stated ranges, with a novelty bonus), within their quota and a cap on jobs in flight."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_current, preferences_snapshot
from generation.model.conditioning import Conditioning
from generation.models import GenerationJob, Track
from generation.requests import GenerationRequest
from generation.services.jobs import QuotaExceeded, generation_job_create, generations_used_today
from recommendations import selectors
from recommendations.engine.compose_next import choose_requests
from recommendations.engine.taste import TasteModel
from recommendations.matrix import feature_matrix
from recommendations.models import PersonalPlaylist, PlaylistItem
from recommendations.services.playlists import pending_jobs, playlist_rebuild

NEAR_TEMPO = 0.08  # radio: within ±8 % of the seed's tempo
NEAR_LENGTH = 0.2


def request_from_choice(choice: Mapping) -> GenerationRequest:
    """A compose-next choice (engine.compose_next request dict) as generation's request."""
    conditioning = Conditioning(
        tempo_bpm=float(choice["tempo_bpm"]), key_tonic=int(choice["key_tonic"]), mode=choice["mode"],
        time_signature=choice["time_signature"], density=float(choice["density"]),
        register=float(choice["register"]), polyphony=float(choice["polyphony"]),
        length_bars=int(choice["length_bars"]), families=tuple(choice["families"]),
    )
    return GenerationRequest(conditioning, style=choice["style"], mood=choice.get("mood"),
                             length_s=float(choice["length_s"]),
                             avoid_instruments=tuple(choice.get("avoid_instruments") or ()))


def room_for_jobs(*, user: User) -> int:
    """How many more jobs the listener may have composed now: the in-flight cap and the quota."""
    in_flight = len(pending_jobs(user=user))
    left_today = settings.CADENZA_GENERATION_QUOTA_PER_DAY - generations_used_today(user=user)
    return max(0, min(settings.CADENZA_RECS_MAX_PENDING - in_flight, left_today))


def _ask(user: User, choices: Sequence[Mapping], preferences: PreferenceVersion | None,
         rng: np.random.Generator) -> list[GenerationJob]:
    jobs = []
    for choice in choices:
        try:
            jobs.append(generation_job_create(user=user, request=request_from_choice(choice),
                                              seed=int(rng.integers(2**31)), preference_version=preferences))
        except QuotaExceeded:
            break
    return jobs


def _recent_vectors(user: User) -> np.ndarray:
    matrix = feature_matrix()
    since = timezone.now() - timedelta(hours=settings.CADENZA_RECS_REPEAT_WINDOW_HOURS)
    return matrix.X[matrix.rows(selectors.heard_track_ids(user=user, since=since))]


def _append_pending(user: User, jobs: list[GenerationJob]) -> None:
    playlist = PersonalPlaylist.objects.filter(user=user).first()
    if playlist is None or not jobs:
        return
    start = (playlist.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    PlaylistItem.objects.bulk_create(
        PlaylistItem(playlist=playlist, position=start + i, job=job, reason="being composed for you")
        for i, job in enumerate(jobs)
    )


@transaction.atomic
def compose_ahead(*, user: User, rng: np.random.Generator | None = None) -> list[GenerationJob]:
    """If fewer than CADENZA_RECS_MIN_READY unplayed good-fit tracks (counting those being
    composed) wait in the playlist, enqueue jobs for the difference, within quota and cap."""
    rng = rng or np.random.default_rng()
    playlist = PersonalPlaylist.objects.filter(user=user).first() or playlist_rebuild(user=user, rng=rng)
    wanted = settings.CADENZA_RECS_MIN_READY - playlist.ready_good_fit - len(pending_jobs(user=user))
    n = min(wanted, room_for_jobs(user=user))
    if n <= 0:
        return []
    preferences = preferences_current(user=user)
    model = selectors.taste_model_current(user=user, preferences=preferences)
    choices = choose_requests(model, preferences_snapshot(version=preferences), rng=rng, n=n,
                              recent=_recent_vectors(user))
    jobs = _ask(user, choices, preferences, rng)
    _append_pending(user, jobs)
    return jobs


def near_seed(seed: Track, snapshot: Mapping, *, mood: str | None) -> dict:
    """Stated ranges around a seed track: its style, mood, mode and instruments (never an avoided
    one), its tempo ± 8 %, its length ± 20 %."""
    measured = seed.measured or {}
    tempo = float(measured.get("tempo") or 100.0)
    avoided = set(snapshot.get("avoided_instruments") or [])
    return {
        **snapshot,
        "styles": [seed.style],
        "preferred_instruments": [f for f in measured.get("families") or [] if f not in avoided],
        "moods": [mood] if mood else [],
        "mode": measured.get("mode") if measured.get("mode") in ("major", "minor") else "any",
        "tempo_min": tempo * (1 - NEAR_TEMPO), "tempo_max": tempo * (1 + NEAR_TEMPO),
        "length_min_s": seed.duration_s * (1 - NEAR_LENGTH), "length_max_s": seed.duration_s * (1 + NEAR_LENGTH),
    }


@transaction.atomic
def compose_near(*, user: User, seed: Track, mood: str | None, n: int, model: TasteModel,
                 rng: np.random.Generator | None = None) -> list[GenerationJob]:
    """Radio past the end of the catalog: up to ``n`` new tracks near the seed, within quota."""
    rng = rng or np.random.default_rng()
    n = min(n, room_for_jobs(user=user))
    if n <= 0:
        return []
    preferences = preferences_current(user=user)
    near = near_seed(seed, preferences_snapshot(version=preferences), mood=mood)
    return _ask(user, choose_requests(model, near, rng=rng, n=n, recent=None), preferences, rng)
