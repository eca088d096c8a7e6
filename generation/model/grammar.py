"""Grammar-constrained decoding: a per-stream state machine that names the allowed tokens.

After the forced header (``BOS TS TEMPO INST+ BAR``) the mask allows only valid continuations:

* after BAR: a POS inside the bar (no empty bars); the first bar starts with POS_0;
* after POS: PART (a declared part other than the current one), VEL (if a part is current),
  PITCH (if the current part has a velocity);
* after PART: VEL, or PITCH if that part already has a velocity; after VEL: PITCH;
* after PITCH: DUR; after DUR: PITCH (higher than the previous one of the same group), PART
  (a higher part at the same position), VEL, POS (later in the bar), BAR (while fewer than the
  target bars; the first bar ends only once every declared part has played in it), EOS (once
  the target bar count is reached and every part has played);
* pitches are limited to 21..108 (the piano range).

So every sampled sequence parses, has exactly the target number of bars, and terminates.

Every part enters in the first bar, as in the corpus's four-part chorales. (Requiring only that
each part had played before EOS let a model that had written one line force the silent parts in
at the very end: a cluster of stray notes on the final beat that the arranger then took for the
closing cadence. Once every part has played in bar one, the model continues the texture.)

Every token kind occupies one contiguous range of the vocabulary, so what a stream may emit next
is a short list of half-open vocabulary intervals. The state is kept in plain Python integers
(a decode step touches a few of them per stream) and each stream's mask row is looked up by its
interval list (a few thousand distinct lists occur). At batch 1 a step's grammar work costs a
few microseconds, where a vectorised state machine over ``(B, V)`` tensors spent ~50 small
tensor operations per token.
"""

from __future__ import annotations

import torch

from generation.model.plan import SCALE_PENALTY, TONIC_BONUS, Cadence, Plan
from generation.model.vocab import MAX_DUR, MAX_PARTS, VOCAB

K_BAR, K_POS, K_PART, K_VEL, K_PITCH, K_DUR, K_EOS, K_OTHER = range(8)
PITCH_LO, PITCH_HI = 21, 108


class Grammar:
    """Per-token tables and the vocabulary range of each kind (built once per vocabulary)."""

    def __init__(self) -> None:
        v = VOCAB
        codes = {"BAR": K_BAR, "POS": K_POS, "PART": K_PART, "VEL": K_VEL,
                 "PITCH": K_PITCH, "DUR": K_DUR, "EOS": K_EOS}
        self.kind: list[int] = []
        self.idx: list[int] = []
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for t, name in enumerate(v.names):
            code = codes.get(v.kind(t), K_OTHER)
            self.kind.append(code)
            self.idx.append(int(name.split("_")[1])
                            if code in (K_POS, K_PART, K_VEL, K_PITCH, K_DUR) else -1)
            first.setdefault(code, t)
            last[code] = t
        for code in codes.values():
            span = range(first[code], last[code] + 1)
            if any(self.kind[t] != code for t in span):
                raise ValueError(f"vocabulary kind {code} is not one contiguous range")
        self.start = first  # vocabulary index of each kind's first token
        self.end = {k: last[k] + 1 for k in last}
        # POS_i / PART_i / PITCH_i sit at start + i (their index is their offset)
        for code in (K_POS, K_PART, K_PITCH):
            if self.idx[first[code]] != 0:
                raise ValueError(f"kind {code} does not start at index 0")
        self.size = len(v.names)


GRAMMAR = Grammar()


def _runs(pitches: list[int], base: int) -> list[tuple[int, int]]:
    """Sorted pitches -> vocabulary intervals [base + a, base + b) of consecutive runs."""
    out: list[tuple[int, int]] = []
    for p in pitches:
        if out and out[-1][1] == base + p:
            out[-1] = (out[-1][0], base + p + 1)
        else:
            out.append((base + p, base + p + 1))
    return out


_SCALE_ROWS: dict[tuple | None, torch.Tensor] = {}


def _scale_row(key: tuple[frozenset, frozenset] | None) -> torch.Tensor:
    """(V,) float: -SCALE_PENALTY on pitches outside the scale, +TONIC_BONUS on the favoured
    pitch classes (zeros for None)."""
    row = _SCALE_ROWS.get(key)
    if row is None:
        row = torch.zeros(GRAMMAR.size)
        if key is not None:
            scale, favoured = key
            p0 = GRAMMAR.start[K_PITCH]
            for p in range(128):
                if p % 12 not in scale:
                    row[p0 + p] = -SCALE_PENALTY
                elif p % 12 in favoured:
                    row[p0 + p] = TONIC_BONUS
        _SCALE_ROWS[key] = row
    return row
# (allowed, blocked) mask rows by their interval list; few thousand distinct lists occur
# (2 x 370 bytes each)
_ROWS: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
_ROWS_MAX = 16384


class _Stream:
    __slots__ = ("last", "pos", "bars", "part", "velset", "pos_note", "last_pitch", "done",
                 "used", "plan", "vel", "notes", "queue", "chord_part", "ceiling", "lastp",
                 "top_now", "bass_now", "prev_top", "prev_bass",
                 "outer", "tick", "active", "held", "now", "pair0")

    def __init__(self, n_parts: int, plan: Plan | None = None) -> None:
        self.last = K_BAR
        self.pos = -1
        self.bars = 1
        self.part = -1
        self.velset = [False] * MAX_PARTS
        self.pos_note = False  # a note has ended (DUR) at the current position
        self.last_pitch = -1
        self.done = False
        self.used = [i >= n_parts for i in range(MAX_PARTS)]  # parts that have had a note
        # planned decoding (form, cadences, voice-leading); unused when plan is None
        self.plan = plan
        self.vel = [-1] * MAX_PARTS  # current velocity bucket of each part
        self.notes: list[tuple[int, int, int, int, int, int]] = []  # bar pos part vel pitch dur
        self.queue: list[int] = []  # forced tokens (a repeated bar) still to emit
        self.chord_part = -1  # in a cadence chord: the part that plays next
        self.ceiling = 999  # in a cadence chord: the pitch of the part above
        self.lastp = [-1] * MAX_PARTS  # each part's latest pitch
        self.top_now = self.bass_now = self.prev_top = self.prev_bass = -1
        # form-v2: the sounding outer voices (held notes included), as structure.py hears them
        self.outer = plan is not None and plan.outer_voices
        self.tick = -1  # the current position's absolute tick
        self.active: list[tuple[int, int]] = []  # (end tick, pitch) of notes begun before it
        self.held: list[int] = []  # pitches begun earlier, still sounding at the tick
        self.now: list[int] = []  # pitches begun at the tick so far
        self.pair0: tuple[int, int] | None = None  # (top, bass) at the last onset with two


class GrammarState:
    """Decoding state of B streams, all after the header's first BAR."""

    def __init__(self, batch: int, bar_len: int, n_parts: int, target_bars: int,
                 plans: list[Plan | None] | None = None) -> None:
        self.g = GRAMMAR
        self.blen, self.nparts, self.target = bar_len, n_parts, target_bars
        plans = plans if plans is not None else [None] * batch
        if len(plans) != batch:
            raise ValueError("one plan (or None) per stream")
        self.streams = [_Stream(n_parts, p) for p in plans]

    @property
    def done(self) -> torch.Tensor:
        return torch.tensor([s.done for s in self.streams], dtype=torch.bool)

    def all_done(self) -> bool:
        return all(s.done for s in self.streams)

    def intervals(self, s: _Stream) -> tuple[tuple[int, int], ...]:
        """The vocabulary intervals [a, b) stream ``s`` may emit from next."""
        g = self.g
        start, end = g.start, g.end
        eos = (start[K_EOS], end[K_EOS])
        if s.done:
            return (eos,)
        if s.plan is not None:
            return self._planned(s)
        last = s.last
        vel = (start[K_VEL], end[K_VEL])
        pitch_all = (start[K_PITCH] + PITCH_LO, start[K_PITCH] + PITCH_HI + 1)
        out: list[tuple[int, int]] = []
        if last == K_BAR:
            lo = s.pos + 1
            hi = 1 if (s.bars == 1 and s.pos < 0) else self.blen  # the first bar starts at 0
            if hi > lo:
                out.append((start[K_POS] + lo, start[K_POS] + hi))
        elif last == K_POS:
            out += self._parts(s)
            if s.part >= 0:
                out.append(vel)
                if s.velset[s.part]:
                    out.append(pitch_all)
        elif last == K_PART:
            out.append(vel)
            if s.velset[s.part]:
                out.append(pitch_all)
        elif last == K_VEL:
            out.append(pitch_all)
        elif last == K_PITCH:
            out.append((start[K_DUR], end[K_DUR]))
        elif last == K_DUR:
            if s.part >= 0 and s.velset[s.part]:
                lo = max(PITCH_LO, s.last_pitch + 1)
                if lo <= PITCH_HI:
                    out.append((start[K_PITCH] + lo, pitch_all[1]))
            out += self._parts(s)
            out.append(vel)
            if s.pos + 1 < self.blen:
                out.append((start[K_POS] + s.pos + 1, start[K_POS] + self.blen))
            if s.bars < self.target:
                if s.bars > 1 or all(s.used):
                    out.append((start[K_BAR], end[K_BAR]))
            elif all(s.used):  # (already true after bar one; a one-bar piece checks here)
                out.append(eos)
        if not out:  # safety net (never expected): a stream with nothing allowed may end
            out.append(eos)
        return tuple(out)

    def _planned(self, s: _Stream) -> tuple[tuple[int, int], ...]:
        """``intervals`` under a plan: cadence bars end in a held chord; voice-leading."""
        g = self.g
        start, end = g.start, g.end
        cad = s.plan.cadences.get(s.bars)
        chord = cad is not None and s.pos == cad.hold_from and s.chord_part >= 0
        last = s.last
        vel = (start[K_VEL], end[K_VEL])
        pos_hi = self.blen if cad is None else cad.hold_from + 1
        out: list[tuple[int, int]] = []
        if last == K_BAR:
            hi = 1 if (s.bars == 1 and s.pos < 0) else pos_hi
            out.append((start[K_POS], start[K_POS] + hi))
        elif last == K_POS and chord:
            if s.part == s.chord_part:
                out.append(vel)
                if s.velset[s.part]:
                    out += self._pitches(s, cad)
            else:
                out.append((start[K_PART] + s.chord_part, start[K_PART] + s.chord_part + 1))
        elif last == K_POS:
            out += self._parts(s)
            if s.part >= 0:
                out.append(vel)
                if s.velset[s.part]:
                    out += self._pitches(s, None)
        elif last == K_PART:
            out.append(vel)
            if s.velset[s.part]:
                out += self._pitches(s, cad if chord else None)
        elif last == K_VEL:
            out += self._pitches(s, cad if chord else None)
        elif last == K_PITCH:
            if chord:
                d = min(self.blen - cad.hold_from, end[K_DUR] - start[K_DUR])
                out.append((start[K_DUR] + d - 1, start[K_DUR] + d))
            else:
                out.append((start[K_DUR], start[K_DUR] + self._dur_cap(s)))
        elif last == K_DUR and chord:
            if s.chord_part < self.nparts:
                out.append((start[K_PART] + s.chord_part, start[K_PART] + s.chord_part + 1))
            elif s.bars < self.target:
                out.append((start[K_BAR], end[K_BAR]))
            else:
                out.append((start[K_EOS], end[K_EOS]))
        elif last == K_DUR:
            if s.part >= 0 and s.velset[s.part]:
                lo = max(PITCH_LO, s.last_pitch + 1)
                if lo <= PITCH_HI and s.outer:
                    out += _runs(self._outer_free(s, lo), start[K_PITCH])
                elif lo <= PITCH_HI:
                    out.append((start[K_PITCH] + lo, start[K_PITCH] + PITCH_HI + 1))
            out += self._parts(s)
            out.append(vel)
            if s.pos + 1 < pos_hi:
                out.append((start[K_POS] + s.pos + 1, start[K_POS] + pos_hi))
            if cad is None and s.bars < self.target and (s.bars > 1 or all(s.used)):
                out.append((start[K_BAR], end[K_BAR]))
        if not out:
            out.append((start[K_EOS], end[K_EOS]))
        return tuple(out)

    def _dur_cap(self, s: _Stream) -> int:
        """Longest duration: a note stops before the next cadence chord (within the longest
        duration's reach), so the chord sounds alone."""
        cap = self.g.end[K_DUR] - self.g.start[K_DUR]
        for k in range(cap // self.blen + 2):
            offset = k * self.blen
            cad = s.plan.cadences.get(s.bars + k)
            if cad is not None and offset + cad.hold_from > s.pos:
                return max(1, min(cap, offset + cad.hold_from - s.pos))
        return cap

    def _pitches(self, s: _Stream, cad: Cadence | None) -> list[tuple[int, int]]:
        """Pitch intervals: a cadence chord's tones (near the part's last pitch, below the part
        above), or any pitch except, for the bass, one that moves in parallel perfect fifths or
        octaves with the top part."""
        p0 = self.g.start[K_PITCH]
        allowed: list[int]
        if cad is not None:
            bass = self.nparts > 1 and s.part == self.nparts - 1
            pcs = cad.bass if bass else cad.chord
            # room below for the parts still to play (an octave each), under the part above
            floor = PITCH_LO + 12 * (self.nparts - 1 - s.part)
            tones = [p for p in range(PITCH_LO, PITCH_HI + 1) if p % 12 in pcs]
            fit = [p for p in tones if floor <= p < s.ceiling] or tones
            near = fit
            if s.lastp[s.part] >= 0:
                near = [p for p in fit if abs(p - s.lastp[s.part]) <= 9]
            allowed = near or fit
            if s.outer and self.nparts > 1:
                allowed = self._outer_chord(s, cad, near, fit) or allowed
        elif s.outer:
            allowed = self._outer_free(s, PITCH_LO)
        else:
            allowed = list(range(PITCH_LO, PITCH_HI + 1))
            if (self.nparts > 1 and s.part == self.nparts - 1 and s.bass_now < 0
                    and min(s.top_now, s.prev_top, s.prev_bass) >= 0 and s.top_now != s.prev_top):
                ic = (s.prev_top - s.prev_bass) % 12
                if ic in (0, 7):
                    allowed = [p for p in allowed
                               if p == s.prev_bass or (s.top_now - p) % 12 != ic]
        return _runs(allowed, p0)

    def _outer_free(self, s: _Stream, lo: int) -> list[int]:
        """Pitches from ``lo`` up that leave the sounding outer voices out of parallels."""
        pitches = list(range(lo, PITCH_HI + 1))
        if s.pair0 is None or (s.pair0[0] - s.pair0[1]) % 12 not in (0, 7):
            return pitches
        return [p for p in pitches if not self._into_parallel(s, p)] or pitches

    def _into_parallel(self, s: _Stream, p: int) -> bool:
        """Whether sounding ``p`` now makes the outer voices move in parallel from the last
        onset's (each pitch that changes the top or the bottom is checked, so the last one to
        change them, which fixes the position's outer voices, is too)."""
        sound = s.held + s.now
        if s.pair0 is None or not sound:
            return False
        return _parallel(s.pair0, max(max(sound), p), min(min(sound), p))

    def _outer_chord(self, s: _Stream, cad: Cadence, near: list[int],
                     fit: list[int]) -> list[int]:
        """A cadence chord's tones (near ones first) that keep the outer voices out of parallels,
        into the chord and out of it into a repeated bar that follows (whose first outer voices
        are known: its source bar). The top is chosen before the bass, knowing its pitch class.
        Empty when none does."""
        nxt = self._copy_entry(s)
        bass_pc = min(cad.bass)
        top_part, bass_part = s.part == 0, s.part == self.nparts - 1

        def bad(p: int) -> bool:
            if self._into_parallel(s, p):
                return True
            if top_part:
                for pair in (s.pair0, nxt):
                    if pair is not None and _parallel(pair, p, bass_pc):  # (bass: its pc)
                        return True
            if bass_part and nxt is not None:
                top = max([*s.held, *s.now, p])
                return _parallel((top, p), *nxt)
            return False

        for tones in (near, fit):
            ok = [p for p in tones if not bad(p)]
            if ok:
                return ok
        return []

    def _copy_entry(self, s: _Stream) -> tuple[int, int] | None:
        """(top, bass) at the first onset with two sounding notes of the next bar, when the plan
        repeats a bar there (nothing sounds into it from a cadence bar)."""
        src = s.plan.copies.get(s.bars + 1)
        if src is None:
            return None
        notes = [(n[1], n[4], min(n[5], MAX_DUR)) for n in s.notes if n[0] == src]
        for pos in sorted({n[0] for n in notes}):
            sound = [p for start, p, d in notes if start <= pos < start + d]
            if len(sound) >= 2:
                return max(sound), min(sound)
        return None

    def forced(self) -> list[int | None]:
        """Per stream: the token it must emit next (a repeated bar), or None."""
        return [s.queue[0] if s.queue else None for s in self.streams]

    def bias(self) -> torch.Tensor | None:
        """(B, V) logits added before sampling (the plan's scale), or None without plans."""
        if all(s.plan is None for s in self.streams):
            return None
        rows = [_scale_row(None if s.plan is None else (s.plan.scale, s.plan.favoured))
                for s in self.streams]
        return torch.stack(rows)

    def _repeat(self, s: _Stream, src: int) -> list[int]:
        """The tokens that play bar ``src`` again from the stream's current state, then BAR."""
        g = self.g
        out: list[int] = []
        part, vel, last_pos = s.part, list(s.vel), -1
        for _, pos, p, v, pitch, dur in sorted(n for n in s.notes if n[0] == src):
            if pos != last_pos:
                out.append(g.start[K_POS] + pos)
                last_pos = pos
            if p != part:
                out.append(g.start[K_PART] + p)
                part = p
            if v != vel[p]:
                out.append(g.start[K_VEL] + v)
                vel[p] = v
            out += [g.start[K_PITCH] + pitch, g.start[K_DUR] + dur - 1]
        return out + [g.start[K_BAR]]

    def _parts(self, s: _Stream) -> list[tuple[int, int]]:
        """PART tokens: a declared part other than the current one; at a position where a note
        has already ended only a higher part (or one that has not played yet)."""
        p0 = self.g.start[K_PART]
        out = []
        for i in range(self.nparts):
            if i == s.part:
                continue
            if i > s.part or not s.pos_note or not s.used[i]:
                out.append((p0 + i, p0 + i + 1))
        return out

    def mask(self) -> torch.Tensor:
        """(B, V) bool: the tokens each stream may emit next."""
        return self._stack(0)

    def blocked(self) -> torch.Tensor:
        """(B, V) bool: the tokens each stream may not emit next (``~mask()``, one pass less)."""
        return self._stack(1)

    def _stack(self, which: int) -> torch.Tensor:
        rows = [self._rows(self.intervals(s))[which] for s in self.streams]
        return rows[0].unsqueeze(0) if len(rows) == 1 else torch.stack(rows)

    def _rows(self, intervals: tuple[tuple[int, int], ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """(allowed, blocked) rows of an interval list, memoised."""
        rows = _ROWS.get(intervals)
        if rows is None:
            row = torch.zeros(self.g.size, dtype=torch.bool)
            for a, b in intervals:
                row[a:b] = True
            rows = (row, ~row)
            if len(_ROWS) < _ROWS_MAX:
                _ROWS[intervals] = rows
        return rows

    def update(self, tok: torch.Tensor | list[int]) -> int:
        """Advance every stream by its sampled token (B,); return how many are done."""
        kind, idx = self.g.kind, self.g.idx
        toks = tok.tolist() if isinstance(tok, torch.Tensor) else tok
        last_part = self.nparts - 1
        for s, t in zip(self.streams, toks, strict=True):
            k, i = kind[t], idx[t]
            if s.queue:
                if t != s.queue[0]:
                    raise ValueError("a forced token was not emitted")
                s.queue.pop(0)
            if k in (K_BAR, K_POS):
                if s.top_now >= 0:
                    s.prev_top = s.top_now
                if s.bass_now >= 0:
                    s.prev_bass = s.bass_now
                s.top_now = s.bass_now = -1
            if s.outer and k in (K_BAR, K_POS):
                self._next_onset(s, k, i)
            if k == K_BAR:
                s.bars += 1
                s.pos, s.pos_note, s.last_pitch = -1, False, -1
                s.chord_part = -1
                if s.plan is not None and s.bars in s.plan.copies:
                    s.queue = self._repeat(s, s.plan.copies[s.bars])
            elif k == K_POS:
                s.pos, s.pos_note, s.last_pitch = i, False, -1
                if s.plan is not None:
                    cad = s.plan.cadences.get(s.bars)
                    if cad is not None and i == cad.hold_from:
                        s.chord_part, s.ceiling = 0, 999
            elif k == K_PART:
                s.part, s.last_pitch = i, -1
            elif k == K_VEL:
                s.velset[s.part] = True
                s.vel[s.part] = i
                s.last_pitch = -1
            elif k == K_PITCH:
                s.last_pitch = i
                if s.part == 0:
                    s.top_now = i
                if s.part == last_part and s.bass_now < 0:
                    s.bass_now = i
            elif k == K_DUR:
                s.pos_note = True
                s.used[s.part] = True
                if s.plan is not None:
                    s.notes.append((s.bars, s.pos, s.part, s.vel[s.part], s.last_pitch, i))
                    s.lastp[s.part] = s.last_pitch
                    if s.outer:
                        s.now.append(s.last_pitch)
                        s.active.append((s.tick + min(i, MAX_DUR), s.last_pitch))
                    if s.chord_part >= 0:
                        s.chord_part += 1
                        s.ceiling = s.last_pitch
            elif k == K_EOS:
                s.done = True
            s.last = k
        return sum(s.done for s in self.streams)

    def _next_onset(self, s: _Stream, k: int, i: int) -> None:
        """Close the position (its outer voices, if two notes sound) and, at POS, open the
        next one with the notes still sounding."""
        if s.now:
            sound = s.held + s.now
            if len(sound) >= 2:
                s.pair0 = (max(sound), min(sound))
            s.now = []
        if k == K_POS:
            s.tick = (s.bars - 1) * self.blen + i
            s.active = [n for n in s.active if n[0] > s.tick]
            s.held = [p for _, p in s.active]


def _parallel(pair: tuple[int, int], top: int, bass: int) -> bool:
    """Whether the outer voices moving from ``pair`` (top, bass) to (``top``, ``bass``) make
    parallel perfect fifths, octaves or unisons (both voices move; by pitch class)."""
    ic = (pair[0] - pair[1]) % 12
    return ic in (0, 7) and top != pair[0] and bass != pair[1] and (top - bass) % 12 == ic
