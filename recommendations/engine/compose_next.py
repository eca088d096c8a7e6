"""What to compose next for a listener: the request a sample of their taste likes best.

``candidate_requests`` draws compose requests inside the listener's stated ranges (their styles
and moods, tempo range, mode, energy, length range; never an avoided instrument).
``choose_requests`` scores each through the same feature map as tracks (``request_vector``)
under one Thompson draw of the taste, adds a novelty bonus for being unlike what the listener
heard recently (and unlike the requests already chosen in this call), and keeps the best ``n``.

A request dict holds the ``Conditioning`` fields (tempo_bpm, key_tonic, mode, time_signature,
density, register, polyphony, length_bars, families) plus style, mood, length_s and
avoid_instruments: what ``generation`` needs to compose and arrange it.

Pure module: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from generation.audio.styles import STYLES
from generation.gm import GM_FAMILIES
from generation.model.conditioning import DENSITY_RANGE, LENGTH_RANGE, REGISTER_RANGE, TEMPO_RANGE
from generation.model.vocab import TICKS_PER_QUARTER, bar_ticks
from recommendations.engine import features as F
from recommendations.engine.ranking import exploration_scale
from recommendations.engine.taste import TasteModel


@dataclass(frozen=True)
class MoodTarget:
    tempo: tuple[int, int]
    mode: str | None  # None: either
    energy: float  # 0..1, drives note density
    register: float  # mean MIDI pitch


# DESIGN.md's starting table: a mood is a value the planner reads.
MOODS: dict[str, MoodTarget] = {
    "calm": MoodTarget((60, 80), None, 0.2, 64.0),
    "happy": MoodTarget((100, 130), "major", 0.5, 70.0),
    "melancholic": MoodTarget((60, 90), "minor", 0.35, 60.0),
    "energetic": MoodTarget((120, 160), None, 0.9, 67.0),
    "dreamy": MoodTarget((60, 90), "major", 0.25, 74.0),
    "tense": MoodTarget((90, 140), "minor", 0.7, 56.0),
}
METRES = ("4/4", "3/4", "6/8", "2/4")
METRE_WEIGHTS = (0.55, 0.25, 0.12, 0.08)
COMPOSITION_BARS = (16, 32)  # the arranger's form stretches these to the requested length
FOUR_PART = 4.0  # the chorales' mean sounding notes
NOVELTY = 0.15  # score bonus per unit of (1 - cosine similarity) to the nearest recent track
CANDIDATES = 128
DEFAULT_TEMPO = (70.0, 130.0)
DEFAULT_LENGTH = (120.0, 240.0)

Expected = Callable[[Mapping], Mapping]  # request → measured attributes real runs deliver


def _round_within(x: float, lo: float, hi: float) -> float:
    """``x`` to one decimal, staying within [lo, hi] (71.28 is the top of 66 ± 8 %: 71.3 is not)
    unless the range holds no one-decimal value."""
    inner_lo, inner_hi = math.ceil(lo * 10 - 1e-9) / 10, math.floor(hi * 10 + 1e-9) / 10
    return round(x, 1) if inner_lo > inner_hi else _clamp(round(x, 1), inner_lo, inner_hi)


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _float(prefs: Mapping, key: str, default: float) -> float:
    try:
        x = float(prefs.get(key, default))
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _families(style: str, preferred: Sequence[str], avoided: Sequence[str]) -> tuple[str, ...]:
    """The composition's families: preferred ones the style uses, else the style's lead."""
    usable = [f for f in STYLES[style].families if f in GM_FAMILIES and f not in avoided]
    chosen = [f for f in preferred if f in usable][:2]
    if not chosen:
        lead = [p.families[0] for p in STYLES[style].parts if p.families[0] in usable]
        chosen = lead[:1] or usable[:1]
    return tuple(chosen or [f for f in GM_FAMILIES if f not in avoided][:1])


def _density(energy: float, polyphony: float) -> float:
    """Notes per beat for an energy 0..1 in the texture (a single line 0.75..3.25, four-part
    harmony 3.2..4.8: the corpus' ranges)."""
    if polyphony >= 2.0:
        return 3.2 + 1.6 * energy
    return DENSITY_RANGE[0] + 0.5 + 2.5 * energy


def _bars(tempo: float, metre: str, length_s: float) -> int:
    quarters_per_bar = bar_ticks(metre) / TICKS_PER_QUARTER
    bars = length_s * tempo / 60 / quarters_per_bar
    return int(_clamp(4 * math.ceil(bars / 4), max(COMPOSITION_BARS[0], LENGTH_RANGE[0]),
                      min(COMPOSITION_BARS[1], LENGTH_RANGE[1])))


def stated_ranges(prefs: Mapping) -> dict:
    """The stated ranges a request must stay within (defaults where nothing was stated)."""
    t_lo, t_hi = _float(prefs, "tempo_min", DEFAULT_TEMPO[0]), _float(prefs, "tempo_max", DEFAULT_TEMPO[1])
    l_lo, l_hi = _float(prefs, "length_min_s", DEFAULT_LENGTH[0]), _float(prefs, "length_max_s", DEFAULT_LENGTH[1])
    t_lo, t_hi = _clamp(min(t_lo, t_hi), *TEMPO_RANGE), _clamp(max(t_lo, t_hi), *TEMPO_RANGE)
    styles = [s for s in prefs.get("styles") or [] if s in STYLES] or list(STYLES)
    avoided = [f for f in prefs.get("avoided_instruments") or [] if f in F.FAMILIES]
    styles = [s for s in styles if F.heard_families(s, avoided)] or [s for s in STYLES if F.heard_families(s, avoided)]
    return {
        "tempo": (t_lo, t_hi),
        "length_s": (max(5.0, min(l_lo, l_hi)), max(5.0, l_lo, l_hi)),
        "styles": styles,
        "moods": [m for m in prefs.get("moods") or [] if m in MOODS],
        "mode": prefs.get("mode") if prefs.get("mode") in ("major", "minor") else None,
        "avoided": avoided,
    }


def candidate_requests(prefs: Mapping, *, rng: np.random.Generator, count: int = CANDIDATES) -> list[dict]:
    """``count`` requests drawn inside the stated ranges."""
    r = stated_ranges(prefs)
    energy0 = _clamp(_float(prefs, "energy", 0.5), 0.0, 1.0)
    exploration = _clamp(_float(prefs, "exploration", 0.3), 0.0, 1.0)
    preferred = [f for f in prefs.get("preferred_instruments") or [] if f in F.FAMILIES]
    out: list[dict] = []
    if not r["styles"]:  # every style needs an instrument the listener avoids
        return out
    for _ in range(count):
        style = r["styles"][int(rng.integers(len(r["styles"])))]
        moods = r["moods"] or [*MOODS, None]
        mood = moods[int(rng.integers(len(moods)))]
        target = MOODS.get(mood) if mood else None
        t_lo, t_hi = r["tempo"]
        if target:  # the mood's tempi where they overlap the stated range
            lo, hi = max(t_lo, target.tempo[0]), min(t_hi, target.tempo[1])
            if lo <= hi:
                t_lo, t_hi = lo, hi
        tempo = float(np.exp(rng.uniform(math.log(t_lo), math.log(t_hi))))
        mode = r["mode"] or (target.mode if target and target.mode else ("major", "minor")[int(rng.integers(2))])
        energy = (energy0 + target.energy) / 2 if target else energy0
        energy = _clamp(energy + rng.uniform(-0.15, 0.15) * (0.5 + exploration), 0.0, 1.0)
        families = _families(style, preferred, r["avoided"])
        polyphony = FOUR_PART if len(families) > 1 or rng.random() < 0.5 else 1.0
        register = (target.register if target else 66.0) + rng.uniform(-4, 4)
        metre = METRES[int(rng.choice(len(METRES), p=METRE_WEIGHTS))]
        length_s = float(rng.uniform(*r["length_s"]))
        out.append({
            "tempo_bpm": _round_within(_clamp(tempo, *TEMPO_RANGE), t_lo, t_hi),
            "key_tonic": int(rng.integers(12)),
            "mode": mode,
            "time_signature": metre,
            "density": round(_clamp(_density(energy, polyphony), *DENSITY_RANGE), 2),
            "register": round(_clamp(register, *REGISTER_RANGE), 1),
            "polyphony": polyphony,
            "length_bars": _bars(tempo, metre, length_s),
            "families": list(families),
            "style": style,
            "mood": mood,
            "length_s": round(length_s, 1),
            "avoid_instruments": list(r["avoided"]),
        })
    return out


def request_vectors(requests: Sequence[Mapping], expected: Expected | None = None) -> np.ndarray:
    """feat-v1 of each request (N, D) float32: what it is expected to sound like."""
    rows = [F.request_vector(q, style=q["style"], mood=q.get("mood"), length_s=q["length_s"],
                             expected=expected(q) if expected else None) for q in requests]
    return np.array(rows, dtype=np.float32).reshape(-1, F.D)


def choose_requests(model: TasteModel, prefs: Mapping, *, rng: np.random.Generator, n: int,
                    recent: np.ndarray | None = None, novelty: float = NOVELTY,
                    candidates: int = CANDIDATES, expected: Expected | None = None,
                    theta: np.ndarray | None = None) -> list[dict]:
    """``n`` requests that maximise one taste sample (plus novelty) within the stated ranges.
    ``recent`` (M, D): vectors of what the listener heard lately. ``expected`` maps a request to
    the measured attributes real compose runs deliver for it (a calibration); ``theta`` replaces
    the Thompson draw."""
    if n <= 0:
        return []
    pool = candidate_requests(prefs, rng=rng, count=max(candidates, n))
    if not pool:
        return []
    V = request_vectors(pool, expected)
    if theta is None:
        theta = model.sample(rng, scale=exploration_scale(_float(prefs, "exploration", 0.3)))
    value = V @ np.asarray(theta, dtype=np.float32)
    seen = np.asarray(recent, dtype=np.float32).reshape(-1, F.D) if recent is not None else np.zeros((0, F.D), np.float32)
    nearest = F.similarity(V, seen).max(axis=1) if len(seen) else np.zeros(len(V))
    chosen: list[int] = []
    for _ in range(min(n, len(pool))):
        total = value + novelty * (1.0 - nearest)
        total[chosen] = -np.inf
        i = int(np.argmax(total))
        chosen.append(i)
        nearest = np.maximum(nearest, F.similarity(V, V[i : i + 1])[:, 0])
    return [pool[i] for i in chosen]
