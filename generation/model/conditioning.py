"""The conditioning vector, schema ``cond-v1``.

A fixed-length float vector; jobs and tracks store ``Conditioning.to_vector()``.

=====  ===============  =====================  ==============================================
index  name             unit                   range
=====  ===============  =====================  ==============================================
0      tempo_bpm        quarter notes / minute 40 .. 220
1      key_tonic        pitch class (C=0)      0 .. 11 (integer)
2      mode             0 = major, 1 = minor   {0, 1}
3      ts_numerator     beats per bar          with 4: one of TIME_SIGNATURES
4      ts_denominator   note value of the beat 2, 4 or 8
5      density          notes per quarter note 0.25 .. 8
6      register         mean MIDI pitch        36 .. 96
7      polyphony        mean sounding notes    1 .. 4 (< 2 with one family: one part; else 4)
8      length_bars      bars                   4 .. 32 (integer)
9..24  family_<name>    0/1 multi-hot          GM families in generation.gm.GM_FAMILIES
                                               order; 1 to 4 of them; drums not modelled
=====  ===============  =====================  ==============================================

Supported time signatures: 2/4 3/4 4/4 2/2 3/8 6/8 9/8 12/8 6/4 3/2.
The model reads ``model_features(vector)`` (normalised, one-hot key and metre), projected into
prefix embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generation.gm import GM_FAMILIES
from generation.model.vocab import MAX_PARTS, TIME_SIGNATURES

SCHEMA_VERSION = "cond-v1"
FAMILIES: tuple[str, ...] = GM_FAMILIES
MODES = ("major", "minor")
TEMPO_RANGE = (40.0, 220.0)
DENSITY_RANGE = (0.25, 8.0)
REGISTER_RANGE = (36.0, 96.0)
POLYPHONY_RANGE = (1.0, 4.0)
LENGTH_RANGE = (4, 32)

SCHEMA: list[tuple[int, str, str, str]] = [
    (0, "tempo_bpm", "quarter notes per minute", "40..220"),
    (1, "key_tonic", "pitch class, C=0", "0..11"),
    (2, "mode", "0=major, 1=minor", "0..1"),
    (3, "ts_numerator", "beats per bar", "2..12 (with ts_denominator: " + " ".join(TIME_SIGNATURES) + ")"),
    (4, "ts_denominator", "beat note value", "2, 4, 8"),
    (5, "density", "notes per quarter note", "0.25..8"),
    (6, "register", "mean MIDI pitch", "36..96"),
    (7, "polyphony", "mean sounding notes (<2 with one family: 1 part, else 4 parts)", "1..4"),
    (8, "length_bars", "bars", "4..32"),
] + [(9 + i, f"family_{f}", "0/1 multi-hot", "0..1") for i, f in enumerate(FAMILIES)]
VECTOR_LENGTH = len(SCHEMA)  # 25


@dataclass(frozen=True)
class Conditioning:
    """Musical attributes the model is asked for (schema ``cond-v1``)."""

    tempo_bpm: float
    key_tonic: int
    mode: str
    time_signature: str
    density: float
    register: float
    polyphony: float
    length_bars: int
    families: tuple[str, ...]

    def __post_init__(self) -> None:
        # families are a set: keep them in GM order so equal requests compare equal
        fams = tuple(self.families)
        order = sorted(fams, key=lambda f: (FAMILIES.index(f) if f in FAMILIES else 99, f))
        object.__setattr__(self, "families", tuple(order))

    @classmethod
    def default(cls) -> Conditioning:
        """A four-part piano piece in C major, 4/4, at the chorales' density and register."""
        return cls(120.0, 0, "major", "4/4", 4.0, 62.0, 4.0, 16, ("piano",))

    def validate(self) -> Conditioning:
        """Raise ValueError naming the first attribute out of range; return self."""

        def bad(name: str, why: str) -> None:
            raise ValueError(f"{name}: {why}")

        def in_range(name: str, x: float, lo: float, hi: float) -> None:
            if not (isinstance(x, int | float) and math.isfinite(x) and lo <= x <= hi):
                bad(name, f"{x!r} not in {lo}..{hi}")

        in_range("tempo_bpm", self.tempo_bpm, *TEMPO_RANGE)
        if not isinstance(self.key_tonic, int) or not 0 <= self.key_tonic <= 11:
            bad("key_tonic", f"{self.key_tonic!r} is not a pitch class 0..11")
        if self.mode not in MODES:
            bad("mode", f"{self.mode!r} not in {MODES}")
        if self.time_signature not in TIME_SIGNATURES:
            bad("time_signature", f"{self.time_signature!r} not in {TIME_SIGNATURES}")
        in_range("density", self.density, *DENSITY_RANGE)
        in_range("register", self.register, *REGISTER_RANGE)
        in_range("polyphony", self.polyphony, *POLYPHONY_RANGE)
        if not isinstance(self.length_bars, int):
            bad("length_bars", f"{self.length_bars!r} is not an integer")
        in_range("length_bars", self.length_bars, *LENGTH_RANGE)
        fams = tuple(self.families)
        if not 1 <= len(fams) <= MAX_PARTS or len(set(fams)) != len(fams):
            bad("families", f"need 1..{MAX_PARTS} distinct families, got {fams!r}")
        for f in fams:
            if f not in FAMILIES:
                bad("families", f"{f!r} is not a supported family {FAMILIES}")
        return self

    @property
    def n_parts(self) -> int:
        """Parts to write: a single melody (one family, polyphony < 2) or four parts - the two
        textures of the training corpus (tunes, four-part chorales); families are assigned to
        the parts cyclically, as in training."""
        if len(self.families) == 1 and self.polyphony < 2.0:
            return 1
        return MAX_PARTS

    def part_families(self) -> tuple[str, ...]:
        fams = sorted(self.families, key=FAMILIES.index)
        return tuple(fams[i % len(fams)] for i in range(self.n_parts))

    def to_vector(self) -> list[float]:
        num, den = (int(x) for x in self.time_signature.split("/"))
        vec = [
            float(self.tempo_bpm), float(self.key_tonic), float(MODES.index(self.mode)),
            float(num), float(den), float(self.density), float(self.register),
            float(self.polyphony), float(self.length_bars),
        ]
        vec += [1.0 if f in self.families else 0.0 for f in FAMILIES]
        return vec

    @classmethod
    def from_vector(cls, vec: list[float]) -> Conditioning:
        if len(vec) != VECTOR_LENGTH:
            raise ValueError(f"vector: expected {VECTOR_LENGTH} values ({SCHEMA_VERSION}), got {len(vec)}")
        fams = tuple(f for i, f in enumerate(FAMILIES) if vec[9 + i] >= 0.5)
        return cls(
            tempo_bpm=float(vec[0]),
            key_tonic=int(round(vec[1])),
            mode=MODES[int(round(vec[2]))] if 0 <= round(vec[2]) <= 1 else str(vec[2]),
            time_signature=f"{int(round(vec[3]))}/{int(round(vec[4]))}",
            density=float(vec[5]),
            register=float(vec[6]),
            polyphony=float(vec[7]),
            length_bars=int(round(vec[8])),
            families=fams,
        )


N_FEATURES = 1 + 12 + 1 + len(TIME_SIGNATURES) + 1 + 1 + 1 + 1 + len(FAMILIES)  # 44


def model_features(vec: list[float]) -> list[float]:
    """The normalised input the network reads for a ``cond-v1`` vector."""
    tempo, key, mode, num, den, dens, reg, poly, length = vec[:9]
    lo, hi = TEMPO_RANGE
    f = [math.log(min(max(tempo, lo), hi) / lo) / math.log(hi / lo)]
    f += [1.0 if int(round(key)) % 12 == k else 0.0 for k in range(12)]
    f += [float(mode)]
    ts = f"{int(round(num))}/{int(round(den))}"
    f += [1.0 if ts == t else 0.0 for t in TIME_SIGNATURES]
    f += [math.log2(min(max(dens, 0.125), 16.0)) / 3.0]
    f += [(reg - 66.0) / 15.0, poly / 4.0, length / 32.0]
    f += [float(x) for x in vec[9:]]
    return f
