"""Features ``feat-v1``: one map from what a track sounds like to a vector.

A track is described by its *measured* attributes (``generation.model.attributes.Attributes``
keys, measured on the track as heard), its style, its mood and its length. A compose request is
described by the same map (``request_vector``), so the taste model that ranks tracks can also
choose what to compose. Pure module: numpy only.

Continuous attributes are encoded as *soft bins*: triangular memberships over a few centres that
sum to 1 (a track at 70 BPM is 0.58 "slow" and 0.42 "moderate"). A linear taste over soft bins
can say "likes moderate tempos, not slow nor fast", which a single scaled number cannot.

=====  =================  =========================================  ===========
index  name               unit / encoding                            range
=====  =================  =========================================  ===========
0      bias               always 1 (the listener's base level)       1
1-4    tempo_<bin>        soft bins over log BPM, centres            0..1
                          slow 60, moderate 84, lively 112, fast 150
5      key_fifths_sin     0.5 * sin(2π · fifths(tonic) / 12)         -0.5..0.5
6      key_fifths_cos     0.5 * cos(2π · fifths(tonic) / 12)         -0.5..0.5
7      mode_minor         1 minor, 0 major (0.5 unknown)             0..1
8-17   metre_<ts>         one-hot over generation.model.vocab        0/1
                          TIME_SIGNATURES (2/4 3/4 4/4 2/2 3/8 6/8
                          9/8 12/8 6/4 3/2)
18-20  energy_<bin>       soft bins over log notes per beat (all     0..1
                          pitched parts), centres low 1.2,
                          medium 3, high 6
21-23  register_<bin>     soft bins over mean MIDI pitch, centres    0..1
                          low 52, mid 62, high 72
24     span               (pitch_max - pitch_min) / 48, clipped      0..1
25     polyphony          (mean sounding notes - 1) / 4, clipped     0..1
26-42  family_<name>      multi-hot, generation.gm.ALL_FAMILIES      0/1
                          (16 GM families, then drums)
43-49  style_<slug>       one-hot, generation.audio.styles.STYLES    0/1
50-55  mood_<name>        one-hot, MOODS (calm happy melancholic     0/1
                          energetic dreamy tense)
                          no mood: all 0
56-58  length_<bin>       soft bins over log seconds, centres        0..1
                          short 60, medium 180, long 420
=====  =================  =========================================  ===========

Missing or malformed inputs give neutral values (soft bins at the middle centre, one-hots all 0,
mode 0.5), never an exception: a track measured by an older pipeline still gets a vector.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from generation.audio.styles import STYLES
from generation.gm import ALL_FAMILIES, DRUMS
from generation.model.vocab import TIME_SIGNATURES

SCHEMA = "feat-v1"
# The schema fixes its own order of moods (accounts.vocabulary.MOODS, as of feat-v1): a mood
# added later needs feat-v2, not a silent shift of every index after it.
MOODS: tuple[str, ...] = ("calm", "happy", "melancholic", "energetic", "dreamy", "tense")


@dataclass(frozen=True)
class SoftBins:
    """Triangular memberships over ``centres`` on a (log or linear) axis."""

    names: tuple[str, ...]
    centres: tuple[float, ...]
    log: bool

    @cached_property
    def axis(self) -> tuple[float, ...]:
        return tuple(math.log(c) for c in self.centres) if self.log else tuple(self.centres)

    def encode(self, value: float | None) -> np.ndarray:
        out = np.zeros(len(self.centres), dtype=np.float32)
        axis = self.axis
        if value is None or not math.isfinite(value) or (self.log and value <= 0):
            x = (axis[0] + axis[-1]) / 2  # unknown: the middle of the axis
        else:
            x = math.log(value) if self.log else float(value)
        if x <= axis[0]:
            out[0] = 1.0
        elif x >= axis[-1]:
            out[-1] = 1.0
        else:
            i = bisect.bisect_right(axis, x) - 1
            t = (x - axis[i]) / (axis[i + 1] - axis[i])
            out[i], out[i + 1] = 1.0 - t, t
        return out

    def value(self, memberships: Sequence[float]) -> float:
        """The axis value memberships describe (inverse of ``encode`` for a track)."""
        m = np.clip(np.asarray(memberships, dtype=float), 0, None)
        axis = np.asarray(self.axis)
        x = float(m @ axis / m.sum()) if m.sum() > 0 else float(axis[0] + axis[-1]) / 2
        return math.exp(x) if self.log else x


TEMPO = SoftBins(("slow", "moderate", "lively", "fast"), (60.0, 84.0, 112.0, 150.0), log=True)
ENERGY = SoftBins(("low", "medium", "high"), (1.2, 3.0, 6.0), log=True)
REGISTER = SoftBins(("low", "mid", "high"), (52.0, 62.0, 72.0), log=False)
LENGTH = SoftBins(("short", "medium", "long"), (60.0, 180.0, 420.0), log=True)
STYLE_SLUGS: tuple[str, ...] = tuple(STYLES)
METRES: tuple[str, ...] = TIME_SIGNATURES
FAMILIES: tuple[str, ...] = ALL_FAMILIES


def _table() -> list[tuple[str, str]]:
    rows = [("bias", "always 1")]
    rows += [(f"tempo_{n}", f"soft bin, centre {c:g} BPM") for n, c in zip(TEMPO.names, TEMPO.centres, strict=True)]
    rows += [("key_fifths_sin", "0.5 sin(circle of fifths)"), ("key_fifths_cos", "0.5 cos(circle of fifths)")]
    rows += [("mode_minor", "1 minor, 0 major")]
    rows += [(f"metre_{ts}", "one-hot") for ts in METRES]
    rows += [(f"energy_{n}", f"soft bin, centre {c:g} notes/beat") for n, c in zip(ENERGY.names, ENERGY.centres, strict=True)]
    rows += [(f"register_{n}", f"soft bin, centre MIDI {c:g}") for n, c in zip(REGISTER.names, REGISTER.centres, strict=True)]
    rows += [("span", "pitch range / 48"), ("polyphony", "(sounding notes - 1) / 4")]
    rows += [(f"family_{f}", "multi-hot") for f in FAMILIES]
    rows += [(f"style_{s}", "one-hot") for s in STYLE_SLUGS]
    rows += [(f"mood_{m}", "one-hot") for m in MOODS]
    rows += [(f"length_{n}", f"soft bin, centre {c:g} s") for n, c in zip(LENGTH.names, LENGTH.centres, strict=True)]
    return rows


FEATURES: tuple[tuple[int, str, str], ...] = tuple((i, name, enc) for i, (name, enc) in enumerate(_table()))
NAMES: tuple[str, ...] = tuple(name for _, name, _ in FEATURES)
D = len(FEATURES)  # 59
INDEX: dict[str, int] = {name: i for i, name in enumerate(NAMES)}


def _slice(prefix: str) -> slice:
    idx = [i for i, n in enumerate(NAMES) if n.startswith(prefix)]
    return slice(idx[0], idx[-1] + 1)


S_TEMPO, S_METRE, S_ENERGY, S_REGISTER = _slice("tempo_"), _slice("metre_"), _slice("energy_"), _slice("register_")
S_FAMILY, S_STYLE, S_MOOD, S_LENGTH = _slice("family_"), _slice("style_"), _slice("mood_"), _slice("length_")
I_BIAS, I_MINOR, I_SPAN, I_POLY = INDEX["bias"], INDEX["mode_minor"], INDEX["span"], INDEX["polyphony"]
I_KEY = slice(INDEX["key_fifths_sin"], INDEX["key_fifths_cos"] + 1)
# Features a similarity between tracks should look at (the bias is the same for all).
SIMILARITY_MASK = np.array([n != "bias" for n in NAMES])


def _number(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _key(tonic: object) -> np.ndarray:
    t = _number(tonic)
    if t is None:
        return np.zeros(2, dtype=np.float32)
    angle = 2 * math.pi * ((int(round(t)) % 12) * 7 % 12) / 12
    return np.array([0.5 * math.sin(angle), 0.5 * math.cos(angle)], dtype=np.float32)


def _one_hot(value: object, options: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(options), dtype=np.float32)
    if isinstance(value, str) and value in options:
        out[options.index(value)] = 1.0
    return out


def _multi_hot(values: object, options: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(options), dtype=np.float32)
    if isinstance(values, Iterable) and not isinstance(values, str | bytes):
        for v in values:
            if isinstance(v, str) and v in options:
                out[options.index(v)] = 1.0
    return out


def _mode(mode: object) -> float:
    return {"minor": 1.0, "major": 0.0}.get(mode if isinstance(mode, str) else "", 0.5)


def _clip01(x: float | None, default: float) -> float:
    return default if x is None else min(1.0, max(0.0, x))


def _assemble(*, tempo, tonic, mode, metre, density, register, span, polyphony, families, style, mood,
              length_s) -> np.ndarray:
    parts = [
        np.ones(1, dtype=np.float32),
        TEMPO.encode(tempo),
        _key(tonic),
        np.array([_mode(mode)], dtype=np.float32),
        _one_hot(metre, METRES),
        ENERGY.encode(density),
        REGISTER.encode(register),
        np.array([_clip01(span, 0.5), _clip01(polyphony, 0.5)], dtype=np.float32),
        _multi_hot(families, FAMILIES),
        _one_hot(style, STYLE_SLUGS),
        _one_hot(mood, MOODS),
        LENGTH.encode(length_s),
    ]
    vec = np.concatenate(parts).astype(np.float32)
    assert vec.shape == (D,)
    return vec


def track_vector(measured: Mapping, *, style: str, mood: str | None, duration_s: float) -> np.ndarray:
    """feat-v1 of a track from its measured attributes (``Attributes.as_dict()`` keys)."""
    m = measured if isinstance(measured, Mapping) else {}
    lo, hi = _number(m.get("pitch_min")), _number(m.get("pitch_max"))
    poly = _number(m.get("polyphony"))
    return _assemble(
        tempo=_number(m.get("tempo")),
        tonic=m.get("key_tonic"),
        mode=m.get("mode"),
        metre=m.get("time_signature"),
        density=_number(m.get("density")),
        register=_number(m.get("pitch_mean")),
        span=None if lo is None or hi is None else (hi - lo) / 48.0,
        polyphony=None if poly is None else (poly - 1.0) / 4.0,
        families=m.get("families"),
        style=style,
        mood=mood,
        length_s=_number(duration_s),
    )


def heard_families(style: str, avoid: Iterable[str] = ()) -> tuple[str, ...]:
    """The families a track of ``style`` sounds with once ``avoid`` is excluded: the arranger's
    own choice of parts (``generation.audio.arrange.choose_parts``), plus its drums."""
    return _heard_families(style, tuple(sorted(set(avoid))))


@lru_cache(maxsize=512)
def _heard_families(style: str, avoid: tuple[str, ...]) -> tuple[str, ...]:
    from generation.audio.arrange import choose_parts
    from generation.gm import program_family

    if style not in STYLES:
        return ()
    try:
        parts = choose_parts(STYLES[style], avoid)
    except ValueError:
        return ()
    fams = {program_family(program) for _, program in parts}
    if STYLES[style].has_drums and DRUMS not in avoid:
        fams.add(DRUMS)
    return tuple(f for f in FAMILIES if f in fams)


# Requests ask the composition for a density (notes per quarter note of the melody/harmony); the
# arrangement adds accompaniment parts, so a track is heard denser. Until a calibration from real
# compose runs is given, a request is expected to sound as dense as it asks.
def request_vector(attrs: Mapping, *, style: str, mood: str | None, length_s: float,
                   expected: Mapping | None = None) -> np.ndarray:
    """feat-v1 of a compose request (``Conditioning`` fields plus ``avoid_instruments``): what
    the track is expected to sound like. ``expected`` overrides any measured attribute with what
    real compose runs deliver for such a request (see ``compose_next.Calibration``)."""
    a = attrs if isinstance(attrs, Mapping) else {}
    families = heard_families(style, a.get("avoid_instruments") or ()) or tuple(a.get("families") or ())
    register = _number(a.get("register"))
    poly = _number(a.get("polyphony"))
    measured = {
        "tempo": a.get("tempo_bpm"),
        "key_tonic": a.get("key_tonic"),
        "mode": a.get("mode"),
        "time_signature": a.get("time_signature"),
        "density": a.get("density"),
        "pitch_mean": register,
        "pitch_min": None if register is None else register - 12,
        "pitch_max": None if register is None else register + 12,
        "polyphony": poly,
        "families": list(families),
    }
    if expected:
        measured.update(expected)
    return track_vector(measured, style=style, mood=mood, duration_s=length_s)


def describe(vector: Sequence[float]) -> str:
    """A track's vector in a few words, e.g. "slow minor piano" or "lively major folk"."""
    v = np.asarray(vector, dtype=float)
    if v.shape != (D,):
        return ""
    words = [TEMPO.names[int(np.argmax(v[S_TEMPO]))]]
    if abs(v[I_MINOR] - 0.5) > 0.25:
        words.append("minor" if v[I_MINOR] > 0.5 else "major")
    styles = v[S_STYLE]
    if styles.max() > 0.5:
        words.append(STYLES[STYLE_SLUGS[int(np.argmax(styles))]].name.lower().replace("solo ", ""))
    else:
        fams = v[S_FAMILY]
        if fams.max() > 0.5:
            words.append(FAMILIES[int(np.argmax(fams))].replace("_", " "))
    moods = v[S_MOOD]
    if moods.max() > 0.5:
        words.insert(0, MOODS[int(np.argmax(moods))])
    return " ".join(words)


def describe_feature(index: int) -> str:
    """A feature of a taste in words: "slow tempos", "minor keys", "drums", "the folk style"."""
    name = NAMES[index]
    group, _, rest = name.partition("_")
    text = {
        "tempo": f"{rest} tempos",
        "energy": f"{rest}-energy pieces",
        "register": f"a {rest} register",
        "length": f"{rest} tracks",
        "metre": f"{rest} time",
        "family": rest.replace("_", " "),
        "style": f"the {STYLES[rest].name.lower()} style" if rest in STYLES else rest,
        "mood": f"{rest} moods",
    }.get(group)
    if text is None:
        text = {"mode_minor": "minor keys", "span": "a wide range", "polyphony": "many voices at once",
                "bias": "music in general", "key_fifths_sin": "sharp keys", "key_fifths_cos": "keys near C"}[name]
    return text


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows of ``a`` (M, D) and ``b`` (K, D), bias excluded."""
    a = np.asarray(a, dtype=np.float32)[:, SIMILARITY_MASK]
    b = np.asarray(b, dtype=np.float32)[:, SIMILARITY_MASK]
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    return an @ bn.T
