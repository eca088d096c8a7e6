"""What generation is asked for: a ready request, from whoever asks.

Pure module (no Django). Generation composes what a request says and decides nothing about what
a listener should hear: the caller (recommendations, an operator's command, a benchmark) plans
the request; ``generation.services.jobs.generation_job_create`` stores and runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from generation.audio.styles import STYLES
from generation.model.conditioning import SCHEMA_VERSION, Conditioning


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a generation job needs beyond the model: what to compose and how to arrange it."""

    conditioning: Conditioning
    style: str
    mood: str | None
    length_s: float
    avoid_instruments: tuple[str, ...] = ()

    def validate(self) -> GenerationRequest:
        """The request itself, or ValueError("field: reason")."""
        if self.style not in STYLES:
            raise ValueError(f"style: unknown style {self.style!r}")
        if not self.length_s > 0:
            raise ValueError("length_s: must be positive")
        return replace(self, conditioning=self.conditioning.validate())

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "vector": self.conditioning.to_vector(),
            "style": self.style,
            "mood": self.mood,
            "length_s": self.length_s,
            "avoid_instruments": list(self.avoid_instruments),
        }
