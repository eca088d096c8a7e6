"""GET /api/v1/me/playlist through the whole Django stack over a large shared catalog.

For ``manage.py bench_ranking``: builds a catalog of ``tracks`` tracks (measured attributes
spread over the styles, moods, tempi, keys and modes; four renditions each, as publishing
writes them) and a listener inside one transaction, rebuilds the listener's playlist, then times
``requests`` GETs through Django's test client: every middleware, URL resolution, JWT
authentication, throttling, the view, its queries, the signed stream URLs and JSON rendering; no
network. Everything is rolled back at the end.
"""

from __future__ import annotations

import statistics
import time
import uuid

import numpy as np
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.services import preferences_update
from generation.audio.styles import style_names
from generation.gm import ALL_FAMILIES
from generation.models import Rendition, Track, TrackStatus
from recommendations.engine.compose_next import MOODS
from recommendations.matrix import feature_matrix_forget
from recommendations.services.features import track_features_fill
from recommendations.services.playlists import playlist_rebuild

RENDITIONS = (("flac", "flac", "audio/flac", None), ("aac-256", "aac", "audio/mp4", 256),
              ("aac-128", "aac", "audio/mp4", 128), ("aac-64", "aac", "audio/mp4", 64))


def _queries_per_get(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/me/playlist")
    return len(queries)


class _Rollback(Exception):
    pass


def _catalog(owner: User, n: int, rng: np.random.Generator, status: str = TrackStatus.CATALOG) -> list[uuid.UUID]:
    styles, moods = style_names(), list(MOODS)
    tracks = []
    for i in range(n):
        families = list(rng.choice(ALL_FAMILIES, size=int(rng.integers(1, 4)), replace=False))
        tracks.append(Track(
            owner=owner, title=f"bench {i}", style=styles[i % len(styles)], duration_s=float(rng.uniform(40, 240)),
            status=status, conditioning=[],
            measured={"tempo": float(rng.uniform(56, 170)), "key_tonic": int(rng.integers(12)),
                      "mode": ("major", "minor")[int(rng.integers(2))], "time_signature": "4/4",
                      "density": float(rng.uniform(0.8, 6)), "pitch_min": 40, "pitch_max": 84,
                      "pitch_mean": float(rng.uniform(52, 72)), "polyphony": float(rng.uniform(1, 4)),
                      "length_bars": 24, "n_notes": 300, "instruments": [], "families": families,
                      "density_bucket": 4, "mood": moods[i % len(moods)]},
        ))
    Track.objects.bulk_create(tracks, batch_size=2000)
    Rendition.objects.bulk_create(
        (Rendition(track=t, format=f, codec=c, mime_type=m, bitrate_kbps=b, key=f"tracks/{t.id.hex[:2]}/{t.id.hex}.{f}",
                   sha256=t.id.hex * 2, size=1_000_000, duration_s=t.duration_s)
         for t in tracks for f, c, m, b in RENDITIONS), batch_size=4000)
    return [t.id for t in tracks]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(_percentile(values, 0.95), 2),
            "max": round(max(values), 2)}


def time_playlist_get(*, tracks: int = 10_000, requests: int = 300, warmup: int = 20, seed: int = 0) -> dict:
    """p50/p95 ms of GET /api/v1/me/playlist for one listener over ``tracks`` catalog tracks."""
    rng = np.random.default_rng(seed)
    report: dict = {}
    # Like Django's TestCase: requests must not close the connection that holds the transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    feature_matrix_forget()
    try:
        with transaction.atomic():
            tag = uuid.uuid4().hex[:10]
            owner = User.objects.create_user(f"bench-owner-{tag}@cadenza.invalid", None)
            listener = User.objects.create_user(f"bench-listener-{tag}@cadenza.invalid", None)
            preferences_update(user=listener, changes={"styles": ["piano", "chamber"], "moods": ["calm"]})
            t0 = time.perf_counter()
            ids = _catalog(owner, tracks, rng)
            report["catalog_insert_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            track_features_fill(track_ids=ids)
            report["features_fill_s"] = round(time.perf_counter() - t0, 2)
            rebuilds = []
            for _ in range(5):
                t0 = time.perf_counter()
                playlist_rebuild(user=listener, rng=rng)
                rebuilds.append((time.perf_counter() - t0) * 1000)
            client = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(listener).access_token}")
            for _ in range(warmup):
                assert client.get("/api/v1/me/playlist").status_code == 200
            timings, cpu, reference, reference_cpu = [], [], [], []
            for _ in range(requests):
                t0, c0 = time.perf_counter(), time.thread_time()
                response = client.get("/api/v1/me/playlist")
                timings.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
                assert response.status_code == 200, response.content[:200]
            for _ in range(min(requests, 100)):  # the same stack's floor, in the same run
                t0, c0 = time.perf_counter(), time.thread_time()
                assert client.get("/api/v1/me").status_code == 200
                reference.append((time.perf_counter() - t0) * 1000)
                reference_cpu.append((time.thread_time() - c0) * 1000)
            # the issue's own yardstick: GET /api/v1/tracks with two tracks took 4.4 ms on its machine
            _catalog(listener, 2, rng, status=TrackStatus.PRIVATE)
            tracks_cpu = []
            for _ in range(min(requests, 100)):
                c0 = time.thread_time()
                listed = client.get("/api/v1/tracks")
                tracks_cpu.append((time.thread_time() - c0) * 1000)
                assert listed.status_code == 200 and len(listed.json()["results"]) == 2, listed.content[:200]
            body = response.json()
            report.update(
                catalog_tracks=tracks, requests=requests, items=len(body["items"]),
                streams_per_item=len(body["items"][0]["track"]["streams"]) if body["items"] else 0,
                response_bytes=len(response.content), queries_per_request=_queries_per_get(client),
                get_ms=_summary(timings), get_cpu_ms=_summary(cpu),
                reference_get_me_ms=_summary(reference), reference_get_me_cpu_ms=_summary(reference_cpu),
                cpu_ratio_p50_to_reference=round(statistics.median(cpu) / statistics.median(reference_cpu), 1),
                reference_get_two_tracks_cpu_ms=_summary(tracks_cpu),
                goal_scaled_to_this_machine_ms=round(15.0 * statistics.median(tracks_cpu) / 4.4, 2),
                goal_scaled_note=("the goal (15 ms) times this run's GET /api/v1/tracks with two tracks "
                                  "over the 4.4 ms the issue measured it at"),
                rebuild_ms={"median": round(statistics.median(rebuilds), 1), "max": round(max(rebuilds), 1)},
                goal_get_p95_ms=15.0, database=connection.vendor,
            )
            raise _Rollback
    except _Rollback:
        pass
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        feature_matrix_forget()
    return report
