"""The bridge from Django to the pure packages: settings in, plain values out.

Loads the model checkpoint once per process, finds the soundfont once, and exposes one function
per pipeline stage. Nothing here touches the database; generation.services does.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

SAMPLE_RATE = 44100


@lru_cache(maxsize=1)
def model_bundle():
    """The shipped (or configured) checkpoint, loaded once per worker process."""
    from generation.model.compose import load_bundle

    return load_bundle(Path(settings.CADENZA_CHECKPOINT))


def model_bundle_for(checkpoint_sha256: str):
    """The checkpoint with this sha256: the configured one, or a retired one kept as
    ``<sha256>.pt`` (its bytes checked) in ``CADENZA_CHECKPOINT_ARCHIVE`` or among the ones
    the repo ships (``generation/checkpoints/retired``); None when none of these."""
    current = model_bundle()
    if current.checkpoint_sha256 == checkpoint_sha256:
        return current
    for folder in retired_checkpoint_folders():
        bundle = _archived_bundle(folder / f"{checkpoint_sha256}.pt")
        if bundle is not None:
            return bundle
    return None


def retired_checkpoint_folders() -> tuple[Path, Path]:
    """Where retired checkpoints are looked for, in order: the operator's archive, the repo's."""
    from generation.model import RETIRED_CHECKPOINTS

    return Path(settings.CADENZA_CHECKPOINT_ARCHIVE), RETIRED_CHECKPOINTS


_ARCHIVED: dict[Path, object] = {}  # retired checkpoints loaded so far (verification only)


def _archived_bundle(path: Path):
    from generation.model.compose import load_bundle

    if path not in _ARCHIVED:
        if not path.exists():
            return None  # not remembered: it may be put in the archive later
        bundle = load_bundle(path)
        if f"{bundle.checkpoint_sha256}.pt" != path.name:
            return None
        _ARCHIVED.clear()  # keep one retired model in memory at a time
        _ARCHIVED[path] = bundle
    return _ARCHIVED[path]


@lru_cache(maxsize=4)
def training_terms(manifest_sha256: str) -> dict:
    """What the model's training data allows: commercial use only if every collection it was
    trained on allows it, and only if the shipped manifest is the one the checkpoint names
    (otherwise we cannot tell, and fail closed)."""
    import hashlib
    import json

    path = Path(settings.CADENZA_CHECKPOINT).with_name("corpus-manifest.json")
    raw = path.read_bytes() if path.exists() else b""
    if hashlib.sha256(raw).hexdigest() != manifest_sha256:
        return {"manifest": None, "commercial_use": False, "collections": []}
    collections = {name: c for name, c in json.loads(raw)["collections"].items() if c.get("included")}
    return {
        "manifest": path.name,
        "commercial_use": all(c["commercial_use"] for c in collections.values()),
        "collections": sorted(collections),
    }


@lru_cache(maxsize=1)
def soundfont() -> Path:
    from generation.audio.render import default_soundfont

    return Path(settings.CADENZA_SOUNDFONT) if settings.CADENZA_SOUNDFONT else default_soundfont()


@lru_cache(maxsize=1)
def soundfont_sha256() -> str:
    from generation.audio.render import soundfont_sha256 as digest

    return digest(soundfont())


def midi_from_bytes(data: bytes):
    from generation.midi_lib import pretty_midi

    return pretty_midi.PrettyMIDI(io.BytesIO(data))


def midi_to_bytes(midi) -> bytes:
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def audio_to_flac(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Lossless 24-bit FLAC of a (channels, samples) float array (intermediate objects).

    FLAC's fastest compression level: the same samples (lossless at every level), written in
    half the time (0.22 s instead of 0.40 s for a 3-minute master) for 4 % more bytes."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, np.ascontiguousarray(audio.T), sample_rate, format="FLAC", subtype="PCM_24",
                    compression_level=0.0)
    return buffer.getvalue()


_last_decoded: dict[str, tuple[np.ndarray, int]] = {}  # sha256 of the FLAC -> its samples


def audio_from_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """The samples of a FLAC object, (channels, samples) float32; a copy the caller may change.

    The encode and check stages read the same master (and the publish phase's pictures, when it
    runs in the same process); the last object decoded is kept, by the digest of its bytes, so
    the same bytes decode once."""
    import soundfile

    digest = hashlib.sha256(data).hexdigest()
    entry = _last_decoded.get(digest)
    if entry is None:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        entry = (np.ascontiguousarray(samples.T), rate)
        _last_decoded.clear()
        _last_decoded[digest] = entry
    return entry[0].copy(), entry[1]
