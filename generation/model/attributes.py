"""Musical attributes measured from any ``pretty_midi.PrettyMIDI``.

The same functions label training data, evaluate generated pieces and describe catalogue tracks.

* ``tempo``: first tempo (BPM); ``time_signature``: first one ("4/4" when absent).
* ``key_tonic`` (pitch class, C=0) and ``mode``: Krumhansl-Kessler key finder on the
  duration-weighted pitch-class histogram (correlation with the 24 rotated profiles).
* ``density``: notes per beat (beat = quarter note) over ``length_bars`` bars.
* ``pitch_min/max/mean``: over all non-drum notes (mean is the register).
* ``polyphony``: mean number of sounding notes while anything sounds.
* ``length_bars``: number of bars up to and including the bar of the last onset.
* ``instruments``: sorted (program, is_drum); ``families``: sorted GM families.

``part_continuity(pm)`` (not an attribute of the request): the share of parts that have notes in
both halves of the piece, 1.0 when no part only enters late or falls silent for good.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from generation.gm import program_family
from generation.midi_lib import pretty_midi

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
DENSITY_EDGES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)  # notes per beat; 8 buckets


@dataclass(frozen=True)
class Attributes:
    tempo: float
    key_tonic: int
    mode: str
    time_signature: str
    density: float
    pitch_min: int
    pitch_max: int
    pitch_mean: float
    polyphony: float
    length_bars: int
    n_notes: int
    instruments: tuple[tuple[int, bool], ...]
    families: tuple[str, ...]

    @property
    def density_bucket(self) -> int:
        return density_bucket(self.density)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["instruments"] = [list(x) for x in self.instruments]
        d["families"] = list(self.families)
        d["density_bucket"] = self.density_bucket
        return d


def density_bucket(density: float) -> int:
    return int(np.searchsorted(DENSITY_EDGES, density, side="right"))


def _profiles() -> np.ndarray:
    rows = [np.roll(MAJOR_PROFILE, k) for k in range(12)]
    rows += [np.roll(MINOR_PROFILE, k) for k in range(12)]
    return np.array(rows)  # (24, 12)


_PROFILES = _profiles()


def find_key(pc_hist: np.ndarray) -> tuple[int, str]:
    """Krumhansl-Schmuckler: the (tonic, mode) whose profile correlates best with the histogram."""
    h = np.asarray(pc_hist, dtype=float)
    if h.sum() <= 0:
        return 0, "major"
    hc = h - h.mean()
    pc = _PROFILES - _PROFILES.mean(axis=1, keepdims=True)
    r = pc @ hc / (np.linalg.norm(pc, axis=1) * (np.linalg.norm(hc) + 1e-12))
    best = int(np.argmax(r))
    return best % 12, ("major" if best < 12 else "minor")


def pitch_class_histogram(notes: list[pretty_midi.Note]) -> np.ndarray:
    h = np.zeros(12)
    for n in notes:
        h[n.pitch % 12] += max(n.end - n.start, 0.0)
    return h


def _polyphony(notes: list[pretty_midi.Note]) -> float:
    if not notes:
        return 0.0
    ev = sorted([(n.start, 1) for n in notes] + [(n.end, -1) for n in notes])
    active, last, area, covered = 0, ev[0][0], 0.0, 0.0
    for t, d in ev:
        if active > 0:
            area += active * (t - last)
            covered += t - last
        active += d
        last = t
    return area / covered if covered > 0 else 1.0


def part_continuity(pm: pretty_midi.PrettyMIDI) -> float:
    """Share of the parts with an onset in the first half and one in the second half."""
    parts = [inst for inst in pm.instruments if inst.notes]
    if not parts:
        return 0.0
    half = pm.get_end_time() / 2
    through = sum(1 for inst in parts
                  if any(n.start < half for n in inst.notes)
                  and any(n.start >= half for n in inst.notes))
    return through / len(parts)


def measure(pm: pretty_midi.PrettyMIDI) -> Attributes:
    """Measure a piece's attributes (see the module docstring for definitions)."""
    _, tempi = pm.get_tempo_changes()
    tempo = float(tempi[0]) if len(tempi) else 120.0
    ts = "4/4"
    if pm.time_signature_changes:
        t0 = pm.time_signature_changes[0]
        ts = f"{t0.numerator}/{t0.denominator}"
    num, den = (int(x) for x in ts.split("/"))
    bar_q = num * 4 / den
    notes = [n for inst in pm.instruments if not inst.is_drum for n in inst.notes]
    instruments = tuple(sorted({(i.program, bool(i.is_drum)) for i in pm.instruments}))
    families = tuple(sorted({program_family(p, is_drum=d) for p, d in instruments}))
    if not notes:
        return Attributes(tempo, 0, "major", ts, 0.0, 0, 0, 0.0, 0.0, 0, 0, instruments, families)
    tonic, mode = find_key(pitch_class_histogram(notes))
    last_q = max(pm.time_to_tick(n.start) for n in notes) / pm.resolution
    length_bars = int(last_q // bar_q + 1e-6) + 1
    pitches = np.array([n.pitch for n in notes])
    return Attributes(
        tempo=round(tempo, 3),
        key_tonic=tonic,
        mode=mode,
        time_signature=ts,
        density=round(len(notes) / (length_bars * bar_q), 4),
        pitch_min=int(pitches.min()),
        pitch_max=int(pitches.max()),
        pitch_mean=round(float(pitches.mean()), 3),
        polyphony=round(_polyphony(notes), 4),
        length_bars=length_bars,
        n_notes=len(notes),
        instruments=instruments,
        families=families,
    )
