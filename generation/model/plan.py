"""The form plan of one candidate: phrases, which ones repeat, where and how they cadence.

Pure module (numpy). A plan is decided from ``(seed, candidate index)`` and the request, before
decoding, and the decoder follows it:

* the piece is cut into phrases of 4 bars (2 bars for pieces shorter than 8 bars; the last
  phrase takes the remainder);
* each phrase has a letter; a phrase whose letter came before is a *repeat*: its bars are
  copied from the first phrase with that letter, all but the last one, which is composed again
  (the varied ending). A line follows a tune's strains (AABB, AABA); a part-song a chorale's
  bar form (AAB...) or through-composed phrases (ABCD...);
* every phrase ends in a cadence bar: the first half of the bar is free, from the middle beat
  each part holds one chord tone to the bar line: alternately a half cadence (V) and a full
  one (I); the piece ends on I (a line: the tonic itself; several parts: the tonic triad with
  the root in the bass);
* pitches outside the requested key's scale (harmonic minor in minor) are penalised
  (``SCALE_PENALTY`` in logits) and the tonic triad's favoured (``TONIC_BONUS``), so the key
  and mode are steered during decoding, not only chosen afterwards.

``PLAN_VERSION`` is recorded in provenance; ``plan=None`` decodes as before plans existed, so
tracks composed then still regenerate byte for byte. Each version in ``PLAN_VERSIONS`` decodes as
it did when it was current:

* ``form-v1``: only the bass is kept out of parallel fifths/octaves with the top part;
* ``form-v2``: the outer voices as heard (the highest and lowest sounding pitches, held notes
  included) never move in parallel: every pitch that would become the new top or bottom is
  checked against the previous onset's outer voices, cadence chords too (their top chosen so
  that neither the arrival nor the entry into a repeated bar that follows is parallel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PLAN_VERSION = "form-v2"
PLAN_VERSIONS = ("form-v1", "form-v2")  # every version still decodes as it did
SCALE_PENALTY = 2.5  # logits subtracted from pitches outside the scale
TONIC_BONUS = 0.7  # logits added to the tonic triad's pitches (the key is heard, not guessed)
LINE_FORMS = ("AABB", "AABA")
PART_SONG_FORMS = ("AAB", "ABC")
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the leading tone (V and cadences), no b7


@dataclass(frozen=True)
class Cadence:
    """What a phrase's last bar must end with, from tick ``hold_from`` to the bar line."""

    degree: str  # "I" or "V"
    hold_from: int  # tick inside the bar
    chord: frozenset[int]  # pitch classes the upper parts (or the line) may hold
    bass: frozenset[int]  # pitch classes the lowest part may hold


@dataclass
class Plan:
    letters: str
    phrases: list[tuple[int, int]]  # (first bar, bars), bars counted from 1
    copies: dict[int, int] = field(default_factory=dict)  # bar -> bar it repeats
    cadences: dict[int, Cadence] = field(default_factory=dict)  # bar -> its cadence
    scale: frozenset[int] = frozenset()
    favoured: frozenset[int] = frozenset()  # the tonic triad
    tonic: int = 0
    mode: str = "major"
    version: str = PLAN_VERSION

    @property
    def outer_voices(self) -> bool:
        """Whether decoding keeps the sounding outer voices out of parallels (form-v2 on)."""
        return self.version != "form-v1"

    def summary(self) -> dict:
        """What provenance records (JSON values)."""
        return {"version": self.version, "letters": self.letters,
                "phrases": [list(p) for p in self.phrases],
                "cadences": {str(b): c.degree for b, c in sorted(self.cadences.items())},
                "copies": {str(b): s for b, s in sorted(self.copies.items())}}


def phrase_lengths(n_bars: int) -> list[int]:
    size = 4 if n_bars >= 8 else 2
    n = max(1, n_bars // size)
    out = [size] * n
    out[-1] += n_bars - size * n
    return out


def form_letters(n: int, template: str) -> str:
    """``template`` cut or extended (new letters in pairs for a line, singly otherwise)."""
    if n <= len(template):
        return template[:n]
    out = template
    nxt = chr(ord(max(template)) + 1)
    pairs = template in LINE_FORMS
    while len(out) < n:
        out += nxt * (2 if pairs else 1)
        nxt = chr(ord(nxt) + 1)
    return out[:n]


def hold_tick(bar_len: int, beat: int) -> int:
    """The last beat boundary at or before the middle of the bar (0 in a one-beat bar)."""
    return (bar_len // 2) // beat * beat


def beat_ticks(ts: str, ticks_per_quarter: int = 12) -> int:
    num, den = (int(x) for x in ts.split("/"))
    unit = ticks_per_quarter * 4 // den
    return unit * 3 if den == 8 and num % 3 == 0 and num > 3 else unit


def triad(root: int, third: int) -> frozenset[int]:
    return frozenset({root % 12, (root + third) % 12, (root + 7) % 12})


def make_plan(*, seed: int, index: int, tonic: int, mode: str, n_bars: int, n_parts: int,
              time_signature: str, bar_len: int, version: str = PLAN_VERSION) -> Plan:
    """The plan of candidate ``index`` of a request composed with ``seed`` (the same form in
    every version; the version says how it is decoded)."""
    if version not in PLAN_VERSIONS:
        raise ValueError(f"unknown plan {version!r} (this code knows {', '.join(PLAN_VERSIONS)})")
    rng = np.random.default_rng([int(seed), int(index), 8])
    forms = LINE_FORMS if n_parts == 1 else PART_SONG_FORMS
    lengths = phrase_lengths(n_bars)
    letters = form_letters(len(lengths), forms[int(rng.integers(len(forms)))])
    phrases, bar = [], 1
    for n in lengths:
        phrases.append((bar, n))
        bar += n
    third = 3 if mode == "minor" else 4
    tonic_chord, dominant = triad(tonic, third), triad(tonic + 7, 4)
    hold = hold_tick(bar_len, beat_ticks(time_signature))
    plan = Plan(letters, phrases, scale=frozenset((tonic + d) % 12 for d in
                                                  (MINOR if mode == "minor" else MAJOR)),
                favoured=tonic_chord, tonic=tonic % 12, mode=mode, version=version)
    first: dict[str, int] = {}
    for k, (start, n) in enumerate(phrases):
        end = start + n - 1
        last = k == len(phrases) - 1
        if last:
            chord = frozenset({tonic % 12}) if n_parts == 1 else tonic_chord
            plan.cadences[end] = Cadence("I", hold, chord, frozenset({tonic % 12}))
        elif k % 2 == 0:
            plan.cadences[end] = Cadence("V", hold, dominant, frozenset({(tonic + 7) % 12}))
        else:
            plan.cadences[end] = Cadence("I", hold, tonic_chord, frozenset({tonic % 12}))
        letter = letters[k]
        if letter in first:
            src_start, src_n = phrases[first[letter]]
            for j in range(min(src_n, n) - 1):
                plan.copies[start + j] = src_start + j
        else:
            first[letter] = k
    return plan
