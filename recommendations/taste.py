"""From what a listener says to what the model hears: preferences → a ``cond-v1`` distribution.

Pure module (no Django). Stated preferences describe a distribution over the conditioning
attributes: its centre is what the listener likes (the middle of their stated ranges, pulled by
their moods), its spread is their exploration setting. Each new track draws one vector from it;
then the job's explicit overrides win. Moods follow DESIGN.md's starting table.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from generation.audio.styles import STYLES
from generation.gm import GM_FAMILIES
from generation.model.conditioning import (
    DENSITY_RANGE,
    MODES,
    TEMPO_RANGE,
    Conditioning,
)
from generation.model.vocab import TICKS_PER_QUARTER, bar_ticks
from generation.requests import GenerationRequest


@dataclass(frozen=True)
class Mood:
    tempo: tuple[int, int]
    mode: str | None  # None: either
    energy: float  # 0..1, drives note density
    register: float  # mean MIDI pitch


MOODS: dict[str, Mood] = {
    "calm": Mood((60, 80), None, 0.2, 64.0),
    "happy": Mood((100, 130), "major", 0.5, 70.0),
    "melancholic": Mood((60, 90), "minor", 0.35, 60.0),
    "energetic": Mood((120, 160), None, 0.9, 67.0),
    "dreamy": Mood((60, 90), "major", 0.25, 74.0),
    "tense": Mood((90, 140), "minor", 0.7, 56.0),
}
TIME_SIGNATURES = ("4/4", "3/4", "6/8", "2/4")
TIME_SIGNATURE_WEIGHTS = (0.55, 0.25, 0.12, 0.08)
COMPOSITION_BARS = (16, 32)  # the arranger's form stretches these to the requested length
FOUR_PART_POLYPHONY = 4.0  # the chorales' mean sounding notes


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _draw(rng: random.Random, centre: float, half_width: float, exploration: float) -> float:
    """A value near ``centre``: uniform within the stated half-width, widened by exploration."""
    spread = half_width * (0.5 + exploration)
    return centre + rng.uniform(-spread, spread)


def _families(style: str, preferred: list[str], avoided: list[str]) -> tuple[str, ...]:
    """Families the composition is written for: preferred ones the style uses, else its lead."""
    usable = [f for f in STYLES[style].families if f in GM_FAMILIES and f not in avoided]
    chosen = [f for f in preferred if f in usable][:2]
    if not chosen:
        chosen = [f for f in (p.families[0] for p in STYLES[style].parts) if f in usable][:1]
    return tuple(chosen or [f for f in GM_FAMILIES if f not in avoided][:1])


def _polyphony(rng: random.Random, families: tuple[str, ...]) -> float:
    """The composition's texture, as the corpus has them: a single line (1 sounding note, the
    fiddle tunes) or four-part harmony (about 4, the chorales). Two families need four parts;
    one family gets either, half the time. (A value in between asks for a texture the model
    never saw: at 2.0 it wrote a tune and left three parts on one opening chord.)"""
    if len(families) > 1 or rng.random() < 0.5:
        return FOUR_PART_POLYPHONY
    return 1.0


def _density(energy: float, polyphony: float) -> float:
    """Notes per beat (all parts) for an energy 0..1 in the texture: a single line spans
    0.75..3.25 (the tunes' 10th..90th percentile is 1.4..3.3), four-part harmony 3.2..4.8
    (the chorales': 3.4..4.75), since every voice moves."""
    if polyphony >= 2.0:
        return 3.2 + 1.6 * energy
    return DENSITY_RANGE[0] + 0.5 + 2.5 * energy


def draw_request(prefs: dict[str, Any], *, seed: int, overrides: dict[str, Any] | None = None) -> GenerationRequest:
    """One draw from the listener's distribution, with ``overrides`` (style, mood, tempo, key,
    mode, metre, length_s) applied last. Deterministic for a seed."""
    overrides = overrides or {}
    rng = random.Random(seed)
    exploration = float(prefs.get("exploration", 0.3))
    moods = prefs.get("moods") or []
    mood_name = overrides.get("mood") or (rng.choice(moods) if moods else None)
    mood = MOODS.get(mood_name) if mood_name else None
    style = overrides.get("style") or (rng.choice(prefs["styles"]) if prefs.get("styles") else "piano")

    tempo_low, tempo_high = prefs.get("tempo_min", 70), prefs.get("tempo_max", 130)
    if mood:  # pull the stated range toward the mood's, keeping it inside the stated range
        tempo_low = _clamp(mood.tempo[0], tempo_low, tempo_high)
        tempo_high = _clamp(mood.tempo[1], tempo_low, tempo_high)
    tempo = _draw(rng, (tempo_low + tempo_high) / 2, (tempo_high - tempo_low) / 2, exploration)
    energy = float(prefs.get("energy", 0.5)) if not mood else (float(prefs.get("energy", 0.5)) + mood.energy) / 2
    energy_drawn = _clamp(_draw(rng, energy, 0.1, exploration), 0, 1)
    mode_pref = prefs.get("mode", "any")
    mode = mode_pref if mode_pref in MODES else (mood.mode if mood and mood.mode else rng.choice(MODES))
    length_s = rng.uniform(prefs.get("length_min_s", 120), prefs.get("length_max_s", 240))
    time_signature = rng.choices(TIME_SIGNATURES, weights=TIME_SIGNATURE_WEIGHTS)[0]

    avoided = list(prefs.get("avoided_instruments", []))
    families = _families(style, prefs.get("preferred_instruments", []), avoided)
    polyphony = _polyphony(rng, families)
    conditioning = Conditioning(
        tempo_bpm=round(_clamp(tempo, *TEMPO_RANGE), 1),
        key_tonic=rng.randrange(12),
        mode=mode,
        time_signature=time_signature,
        density=round(_clamp(_density(energy_drawn, polyphony), *DENSITY_RANGE), 2),
        register=round(mood.register if mood else 66.0, 1),
        polyphony=polyphony,
        length_bars=rng.choice(range(COMPOSITION_BARS[0], COMPOSITION_BARS[1] + 1, 4)),
        families=families,
    )
    conditioning = _apply_overrides(conditioning, overrides)
    length_s = float(overrides.get("length_s", length_s))
    bars = min(conditioning.length_bars, _bars_worth_composing(conditioning, length_s))
    conditioning = replace(conditioning, length_bars=bars)
    return GenerationRequest(conditioning.validate(), style, mood_name, round(length_s, 1), tuple(avoided))


def _bars_worth_composing(conditioning: Conditioning, length_s: float) -> int:
    """The composition need not be longer than the track: the bars ``length_s`` holds at the
    request's tempo and metre, rounded up to whole phrases of four, within COMPOSITION_BARS."""
    quarters_per_bar = bar_ticks(conditioning.time_signature) / TICKS_PER_QUARTER
    bars = length_s * conditioning.tempo_bpm / 60 / quarters_per_bar
    return int(_clamp(4 * math.ceil(bars / 4), *COMPOSITION_BARS))


def _apply_overrides(conditioning: Conditioning, overrides: dict[str, Any]) -> Conditioning:
    changes: dict[str, Any] = {}
    if "tempo" in overrides:
        changes["tempo_bpm"] = float(overrides["tempo"])
    if "key" in overrides:
        changes["key_tonic"] = int(overrides["key"])
    if overrides.get("mode") in MODES:
        changes["mode"] = overrides["mode"]
    if "metre" in overrides:
        changes["time_signature"] = str(overrides["metre"])
    return replace(conditioning, **changes)
