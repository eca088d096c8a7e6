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

from generation.model.vocab import MAX_PARTS, VOCAB

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
# mask rows by their interval list; few thousand distinct ones occur (370 bytes each)
_ROWS: dict[tuple, torch.Tensor] = {}
_ROWS_MAX = 16384


class _Stream:
    __slots__ = ("last", "pos", "bars", "part", "velset", "pos_note", "last_pitch", "done",
                 "used")

    def __init__(self, n_parts: int) -> None:
        self.last = K_BAR
        self.pos = -1
        self.bars = 1
        self.part = -1
        self.velset = [False] * MAX_PARTS
        self.pos_note = False  # a note has ended (DUR) at the current position
        self.last_pitch = -1
        self.done = False
        self.used = [i >= n_parts for i in range(MAX_PARTS)]  # parts that have had a note


class GrammarState:
    """Decoding state of B streams, all after the header's first BAR."""

    def __init__(self, batch: int, bar_len: int, n_parts: int, target_bars: int) -> None:
        self.g = GRAMMAR
        self.blen, self.nparts, self.target = bar_len, n_parts, target_bars
        self.streams = [_Stream(n_parts) for _ in range(batch)]

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
        rows = [self._row(self.intervals(s)) for s in self.streams]
        return rows[0].unsqueeze(0) if len(rows) == 1 else torch.stack(rows)

    def _row(self, intervals: tuple[tuple[int, int], ...]) -> torch.Tensor:
        row = _ROWS.get(intervals)
        if row is None:
            row = torch.zeros(self.g.size, dtype=torch.bool)
            for a, b in intervals:
                row[a:b] = True
            if len(_ROWS) < _ROWS_MAX:
                _ROWS[intervals] = row
        return row

    def update(self, tok: torch.Tensor | list[int]) -> int:
        """Advance every stream by its sampled token (B,); return how many are done."""
        kind, idx = self.g.kind, self.g.idx
        toks = tok.tolist() if isinstance(tok, torch.Tensor) else tok
        for s, t in zip(self.streams, toks, strict=True):
            k, i = kind[t], idx[t]
            if k == K_BAR:
                s.bars += 1
                s.pos, s.pos_note, s.last_pitch = -1, False, -1
            elif k == K_POS:
                s.pos, s.pos_note, s.last_pitch = i, False, -1
            elif k == K_PART:
                s.part, s.last_pitch = i, -1
            elif k == K_VEL:
                s.velset[s.part] = True
                s.last_pitch = -1
            elif k == K_PITCH:
                s.last_pitch = i
            elif k == K_DUR:
                s.pos_note = True
                s.used[s.part] = True
            elif k == K_EOS:
                s.done = True
            s.last = k
        return sum(s.done for s in self.streams)
