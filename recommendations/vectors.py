"""How feature vectors and instrument families are stored: float32 bytes and family bit masks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from recommendations.engine import features as F


def family_bits(families: Iterable[str]) -> int:
    """A set of instrument families as a bit mask over ``engine.features.FAMILIES``."""
    return sum(1 << F.FAMILIES.index(f) for f in set(families) if f in F.FAMILIES)


def vector_family_bits(vector: np.ndarray) -> int:
    """The families a feature vector says the track sounds with."""
    return family_bits(f for f, on in zip(F.FAMILIES, vector[F.S_FAMILY] > 0.5, strict=True) if on)


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")
