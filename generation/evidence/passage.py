"""The passage a track shares with its nearest known piece, and a picture of both melodies.

The originality check (``generation.model.originality``) compares each part's top-line melody as
semitone intervals with repeated notes collapsed, transposition- and re-timing-invariant, and keeps only the longest run's
length and the piece. For a reviewer this finds *where* that run is: the track's notes and bars,
and the known piece's line over the same span (rebuilt from its intervals, so drawn transposed to
start on the track's note and at the track's rhythm, which is what the check compared).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from generation.midi_lib import pretty_midi

SENTINEL = 127  # generation.model.originality separates melodies in its index with this
CLIP = 60
CONTEXT_NOTES = 4


@dataclass(frozen=True)
class Line:
    """One part's top line: onset times (s) and MIDI pitches."""

    part: str
    onsets: np.ndarray
    pitches: np.ndarray

    @property
    def intervals(self) -> np.ndarray:
        return np.clip(np.diff(self.pitches), -CLIP, CLIP)


@dataclass(frozen=True)
class Passage:
    part: str
    intervals: int  # matching intervals; notes = intervals + 1
    onsets: np.ndarray  # the track's notes in the passage
    pitches: np.ndarray
    known_pitches: np.ndarray  # the known piece's line, transposed to start on the track's note
    first_bar: int  # 1-based bars of the track the passage spans
    last_bar: int
    context_onsets: np.ndarray  # the track's line around the passage (a few notes each side)
    context_pitches: np.ndarray

    @property
    def notes(self) -> int:
        return self.intervals + 1


def top_lines(midi: pretty_midi.PrettyMIDI) -> list[Line]:
    """Each pitched part's highest note per onset, repeats collapsed (the melody the originality check reads)."""
    lines = []
    for inst in midi.instruments:
        if inst.is_drum:
            continue
        top: dict[float, int] = {}
        for note in inst.notes:
            t = round(note.start, 4)
            top[t] = max(top.get(t, -1), note.pitch)
        onsets = np.array(sorted(top))
        pitches = np.array([top[t] for t in onsets], dtype=np.int64)
        keep = np.concatenate([[True], pitches[1:] != pitches[:-1]]) if len(pitches) else np.zeros(0, bool)
        onsets, pitches = onsets[keep], pitches[keep]  # a repeated note is the note held on: re-timing
        if len(pitches) >= 2:
            lines.append(Line(inst.name or pretty_midi.program_to_instrument_name(inst.program), onsets, pitches))
    return lines


def piece_melodies(seq: np.ndarray, owner: np.ndarray, piece: int) -> list[np.ndarray]:
    """The interval sequences of one piece in an originality index (``seq``/``owner`` arrays)."""
    mine = np.asarray(seq)[np.asarray(owner) == piece].astype(np.int64)
    cuts = np.flatnonzero(mine == SENTINEL)
    parts = (part[part != SENTINEL] for part in np.split(mine, cuts))
    return [part for part in parts if len(part)]


def longest_common_run(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """(length, start in a, start in b) of the longest run of equal consecutive values."""
    if len(a) == 0 or len(b) == 0:
        return 0, 0, 0
    best = (0, 0, 0)
    run = np.zeros(len(b) + 1, dtype=np.int64)
    for i, value in enumerate(a):
        run = np.concatenate([[0], np.where(b == value, run[:-1] + 1, 0)])
        j = int(np.argmax(run))
        if run[j] > best[0]:
            best = (int(run[j]), i - int(run[j]) + 1, j - int(run[j]))
    return best


def matching_passage(midi: pretty_midi.PrettyMIDI, known: list[np.ndarray]) -> Passage | None:
    """The longest run of intervals any top line of ``midi`` shares with any of ``known``."""
    best: tuple[int, Line, int, np.ndarray, int] | None = None
    for line in top_lines(midi):
        for melody in known:
            length, qi, ci = longest_common_run(line.intervals, melody)
            if length and (best is None or length > best[0]):
                best = (length, line, qi, melody, ci)
    if best is None:
        return None
    length, line, qi, melody, ci = best
    onsets, pitches = line.onsets[qi:qi + length + 1], line.pitches[qi:qi + length + 1]
    known_pitches = pitches[0] + np.concatenate([[0], np.cumsum(melody[ci:ci + length])])
    downbeats = midi.get_downbeats()
    bar = lambda t: int(np.searchsorted(downbeats, t + 1e-6, side="right")) or 1  # noqa: E731
    around = slice(max(0, qi - CONTEXT_NOTES), qi + length + 1 + CONTEXT_NOTES)
    return Passage(line.part, length, onsets, pitches, known_pitches, bar(onsets[0]), bar(onsets[-1]),
                   line.onsets[around], line.pitches[around])


NOTE_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")


def passage_png(passage: Passage, *, known_name: str, downbeats: np.ndarray, width: float = 10.0,
                height: float = 3.6) -> bytes:
    """Both melodies over the passage: the track's notes and the known piece's line, bars marked."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.subplots()
    step = float(np.median(np.diff(passage.onsets))) if len(passage.onsets) > 1 else 0.5
    end = passage.onsets[-1] + max(0.25, step)
    times = np.append(passage.onsets, end)
    ax.step(np.append(passage.context_onsets, passage.context_onsets[-1] + step),
            np.append(passage.context_pitches, passage.context_pitches[-1]), where="post", lw=1.2, color="#bbb",
            label="this track around the passage")
    ax.step(times, np.append(passage.pitches, passage.pitches[-1]), where="post", lw=2.2, color="#1f6fb4",
            label=f"this track ({passage.part})")
    ax.step(times, np.append(passage.known_pitches, passage.known_pitches[-1]) + 0.25, where="post", lw=1.6,
            color="#d1651f", ls="--", label=f"{known_name} (transposed, same rhythm)")
    ax.plot(passage.onsets, passage.pitches, "o", color="#1f6fb4", ms=4)
    for number, start in enumerate(downbeats, start=1):
        if passage.context_onsets[0] - 1e-6 <= start <= passage.context_onsets[-1] + step:
            ax.axvline(start, color="#999", lw=0.8)
            ax.text(start, ax.get_ylim()[1], f" bar {number}", va="top", fontsize=8, color="#555")
    everything = np.concatenate([passage.context_pitches, passage.known_pitches])
    lo, hi = int(everything.min()), int(everything.max())
    ticks = list(range(lo - lo % 2, hi + 2, 2))
    ax.set_yticks(ticks, [f"{NOTE_NAMES[p % 12]}{p // 12 - 1}" for p in ticks], fontsize=8)
    ax.axvspan(passage.onsets[0], end, color="#1f6fb4", alpha=0.06)
    ax.set_xlabel("seconds into the composition")
    ax.set_title(f"Bars {passage.first_bar}–{passage.last_bar}: {passage.notes} notes in a row follow the same "
                 f"intervals as {known_name}", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
