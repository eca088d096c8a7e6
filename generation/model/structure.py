"""Musical structure of a quantised piece: form, cadences, voice-leading, pitch and rhythm.

Pure functions on a ``Piece`` (the tokenizer's grid form), the same for generated pieces and
corpus pieces, so evaluation can set each figure beside the corpus's own:

* ``motif_reuse(piece, bars)``: share of ``bars``-bar windows of the top line whose pattern
  (onsets inside the window, intervals from its first note: transposition-invariant) occurs
  at another window start in the piece;
* ``tonic_ending(piece, tonic)``: a line's last note is the tonic; several parts' last sounding
  chord is the tonic triad (tonic present, nothing outside it) with the root in the bass;
* ``phrase_end_cadences(piece, tonic, mode)``: at every 4-bar boundary before the end, the last
  onset of the bar is at least a beat long and sounds I or V (bass on its root when there are
  several parts; the line on a chord tone);
* ``outer_parallels(piece)``: share of moves of the outer voices (highest and lowest sounding
  pitch at successive onsets, both moving) from a perfect fifth/octave (or unison) into the same;
* ``pitch_class_entropy`` (bits) and ``empty_beat_rate`` (beats with nothing sounding).
"""

from __future__ import annotations

import math
from collections import Counter

from generation.model.plan import beat_ticks, triad
from generation.model.vocab import Piece, bar_ticks


def top_line(piece: Piece) -> list[tuple[int, int, int]]:
    """(onset, pitch, duration) of the highest note starting at each onset tick."""
    best: dict[int, tuple[int, int]] = {}
    for n in piece.notes:
        if n.start not in best or n.pitch > best[n.start][0]:
            best[n.start] = (n.pitch, n.dur)
    return [(t, p, d) for t, (p, d) in sorted(best.items())]


def _windows(piece: Piece, bars: int) -> list[tuple]:
    blen = bar_ticks(piece.ts)
    line = top_line(piece)
    if not line:
        return []
    n_bars = line[-1][0] // blen + 1
    by_bar: dict[int, list[tuple[int, int, int]]] = {}
    for t, p, d in line:
        by_bar.setdefault(t // blen, []).append((t, p, d))
    out = []
    for b in range(n_bars - bars + 1):
        notes = [x for k in range(b, b + bars) for x in by_bar.get(k, [])]
        if len(notes) < 2:
            out.append(None)
            continue
        t0, p0 = b * blen, notes[0][1]
        out.append(tuple((t - t0, p - p0) for t, p, _ in notes))
    return out


def motif_reuse(piece: Piece, bars: int = 1) -> float:
    wins = _windows(piece, bars)
    real = [w for w in wins if w is not None]
    if not real:
        return 0.0
    counts = Counter(real)
    return sum(1 for w in real if counts[w] > 1) / len(real)


def _sounding(piece: Piece, tick: int) -> list[int]:
    return sorted(n.pitch for n in piece.notes if n.start <= tick < n.start + n.dur)


def tonic_ending(piece: Piece, tonic: int, mode: str) -> bool:
    if not piece.notes:
        return False
    last = max(n.start for n in piece.notes)
    if len(piece.families) == 1 and len({n.pitch for n in piece.notes if n.start == last}) == 1:
        return top_line(piece)[-1][1] % 12 == tonic % 12
    chord = _sounding(piece, last)
    pcs = {p % 12 for p in chord}
    triad_pcs = triad(tonic, 3 if mode == "minor" else 4)
    return tonic % 12 in pcs and pcs <= triad_pcs and chord[0] % 12 == tonic % 12


def phrase_end_cadences(piece: Piece, tonic: int, mode: str, phrase_bars: int = 4) -> float | None:
    """Share of 4-bar phrase ends (before the final bar) that cadence on I or V."""
    blen, beat = bar_ticks(piece.ts), beat_ticks(piece.ts)
    if not piece.notes:
        return None
    n_bars = max(n.start for n in piece.notes) // blen + 1
    chords = (triad(tonic, 3 if mode == "minor" else 4), triad(tonic + 7, 4))
    roots = (tonic % 12, (tonic + 7) % 12)
    hits = []
    for b in range(phrase_bars, n_bars, phrase_bars):
        onsets = [n for n in piece.notes if (b - 1) * blen <= n.start < b * blen]
        if not onsets:
            hits.append(False)
            continue
        t = max(n.start for n in onsets)
        longest = max(n.dur for n in onsets if n.start == t)
        sound = _sounding(piece, t)
        top = max(p for p in sound)
        ok = False
        for chord, root in zip(chords, roots, strict=True):
            if len(piece.families) > 1 and len(sound) > 1:
                ok |= sound[0] % 12 == root and top % 12 in chord
            else:
                ok |= top % 12 in chord
        hits.append(ok and longest >= beat)
    return sum(hits) / len(hits) if hits else None


def outer_voices(piece: Piece) -> list[tuple[int, int]]:
    """(highest, lowest) sounding pitch at each onset tick where two or more notes sound."""
    out = []
    for t in sorted({n.start for n in piece.notes}):
        s = _sounding(piece, t)
        if len(s) >= 2:
            out.append((s[-1], s[0]))
    return out


def outer_parallels(piece: Piece) -> tuple[int, int]:
    """(parallel perfect moves, moves where both outer voices change)."""
    pairs = outer_voices(piece)
    par = moves = 0
    for (t0, b0), (t1, b1) in zip(pairs, pairs[1:], strict=False):
        if t0 == t1 or b0 == b1:
            continue
        moves += 1
        i0, i1 = (t0 - b0) % 12, (t1 - b1) % 12
        if i0 == i1 and i0 in (0, 7):
            par += 1
    return par, moves


def pitch_class_entropy(piece: Piece) -> float:
    c = Counter(n.pitch % 12 for n in piece.notes)
    total = sum(c.values())
    return -sum(v / total * math.log2(v / total) for v in c.values()) if total else 0.0


def empty_beat_rate(piece: Piece) -> float:
    beat = beat_ticks(piece.ts)
    if not piece.notes:
        return 1.0
    end = max(n.start + n.dur for n in piece.notes)
    n_beats = max(1, -(-end // beat))
    covered = [False] * n_beats
    for n in piece.notes:
        for k in range(n.start // beat, min(n_beats, -(-(n.start + n.dur) // beat))):
            covered[k] = True
    return covered.count(False) / n_beats


# --- metre from onsets ------------------------------------------------------------------------
METRE_FAMILIES = {"2/4": "duple", "4/4": "duple", "2/2": "duple", "3/4": "triple",
                  "3/8": "triple", "3/2": "triple", "6/8": "compound", "9/8": "compound",
                  "12/8": "compound", "6/4": "compound"}
# (bar period, beat) in ticks for each family, as a listener would count it
_FAMILY_GRID = {"duple": (24, 12), "triple": (36, 12), "compound": (36, 18)}


def metre_from_onsets(piece: Piece) -> str:
    """duple / triple / compound from onsets alone (duration-weighted accents): the family whose
    bar starts stand out most over its off-beat eighths (onsets off its beats)."""
    w: dict[int, float] = {}
    for n in piece.notes:
        w[n.start] = w.get(n.start, 0.0) + min(n.dur, 48)
    if not w:
        return "duple"
    end = max(w) + 1
    scores = {}
    for fam, (period, beat) in _FAMILY_GRID.items():
        unit = 6  # eighth notes: the off-beats of both beat sizes
        bars = max(1, -(-end // period))
        down = sum(v for t, v in w.items() if t % period == 0) / bars
        off = sum(v for t, v in w.items() if t % beat and t % unit == 0) / (
            bars * (period // unit - period // beat))
        scores[fam] = down - off
    return max(scores, key=lambda f: (scores[f], f))
