"""Soundfonts we know, by content: name, licence and source for the provenance record.

A soundfont is identified by the sha256 of its file, never by its name or path: a file called
FluidR3_GM.sf2 with other bytes is not FluidR3 GM. One that is not here is recorded as unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class KnownSoundfont:
    name: str
    licence: str  # SPDX identifier where one exists
    source: str


REGISTRY: dict[str, KnownSoundfont] = {
    # Debian 12 fluid-soundfont-gm 3.1-5.3: /usr/share/sounds/sf2/FluidR3_GM.sf2 (its copyright file: MIT)
    "74594e8f4250680adf590507a306655a299935343583256f3b722c48a1bc1cb0": KnownSoundfont(
        name="FluidR3 GM", licence="MIT", source="Frank Wen, FluidR3 GM 3.1 (Debian fluid-soundfont-gm)"
    ),
}

UNKNOWN = "unknown"


def soundfont_identity(*, sha256: str, file_name: str) -> dict[str, str | bool]:
    """What the provenance record says about the soundfont with these bytes."""
    known = REGISTRY.get(sha256)
    if known is None:
        return {"name": UNKNOWN, "file_name": file_name, "sha256": sha256, "licence": UNKNOWN, "source": UNKNOWN,
                "known": False}
    return {**asdict(known), "file_name": file_name, "sha256": sha256, "known": True}
