"""A small shared catalog with real measured attributes, and helpers to listen to it."""

from __future__ import annotations

import itertools

import pytest

from generation.models import TrackStatus
from recommendations.matrix import feature_matrix_forget
from tests.factories import TrackFactory, event_payload
from tests.generation.conftest import debug_checkpoint, dev_certs, pipeline_settings  # noqa: F401 - fixtures

# (style, tempo, mode, families as heard): the same keys as Attributes.as_dict()
SOUNDS = [
    ("piano", 66.0, "minor", ["piano"]),
    ("piano", 72.0, "major", ["piano", "strings"]),
    ("chamber", 96.0, "minor", ["strings", "reed"]),
    ("folk", 120.0, "major", ["ethnic", "guitar", "drums"]),
    ("electronic", 140.0, "minor", ["synth_lead", "synth_pad", "drums"]),
    ("cinematic", 110.0, "major", ["brass", "strings", "drums"]),
    ("ambient", 62.0, "major", ["synth_pad", "piano"]),
    ("lo-fi", 84.0, "minor", ["piano", "guitar", "drums"]),
]


def measured(tempo: float, mode: str, families: list[str], *, key: int = 0, density: float = 2.5) -> dict:
    return {
        "tempo": tempo, "key_tonic": key, "mode": mode, "time_signature": "4/4", "density": density,
        "pitch_min": 48, "pitch_max": 79, "pitch_mean": 63.5, "polyphony": 2.5, "length_bars": 24,
        "n_notes": 240, "instruments": [], "families": families, "density_bucket": 4,
    }


def make_track(owner, style, tempo, mode, families, *, status=TrackStatus.CATALOG, key=0, title=None):
    """A track as publishing leaves it: measured attributes and one streamable rendition."""
    from generation.models import Rendition

    fields = {"title": title} if title else {}
    track = TrackFactory(owner=owner, style=style, status=status, duration_s=90.0,
                         measured=measured(tempo, mode, families, key=key), **fields)
    digest = track.id.hex * 2
    Rendition.objects.create(track=track, format="aac-128", codec="aac", mime_type="audio/mp4", bitrate_kbps=128,
                             key=f"tracks/{digest[:2]}/{digest}.m4a", sha256=digest, size=1, duration_s=90.0)
    return track


@pytest.fixture(autouse=True)
def _fresh_matrix():
    """Each test's database starts empty: so does the process's feature matrix."""
    feature_matrix_forget()
    yield
    feature_matrix_forget()


@pytest.fixture
def catalog(bob):
    """Three tracks of each sound in the shared catalog (24), made by another listener."""
    tracks = []
    for (style, tempo, mode, families), n in itertools.product(SOUNDS, range(3)):
        tracks.append(make_track(bob, style, tempo + 2 * n, mode, families, key=(n * 5) % 12,
                                 title=f"{style} {tempo:g} {mode} #{n}"))
    return tracks


@pytest.fixture
def listen(django_capture_on_commit_callbacks):
    """POST a batch of events as the app does; what runs after commit (the taste update and the
    playlist rebuild, in-process on the embedded default) runs as it would outside a test."""

    def post(client, events):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/me/events", {"events": events}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    return post


def skip(track, at_ms=2000):
    return event_payload(track, kind="skip", position_ms=at_ms)


def complete(track):
    return event_payload(track, kind="complete", position_ms=int(track.duration_s * 1000))
