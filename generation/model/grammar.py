"""Grammar-constrained decoding: a vectorised state machine over a batch of streams.

After the forced header (``BOS TS TEMPO INST+ BAR``) the mask allows only valid continuations:

* after BAR: a POS inside the bar (no empty bars); the first bar starts with POS_0;
* after POS: PART (a declared part other than the current one), VEL (if a part is current),
  PITCH (if the current part has a velocity);
* after PART: VEL, or PITCH if that part already has a velocity; after VEL: PITCH;
* after PITCH: DUR; after DUR: PITCH (higher than the previous one of the same group), PART
  (a higher part at the same position), VEL, POS (later in the bar), BAR (while fewer than the
  target bars), EOS (only once the target bar count is reached and every part has played);
* pitches are limited to 21..108 (the piano range).

So every sampled sequence parses, has exactly the target number of bars, and terminates.
"""

from __future__ import annotations

import torch

from generation.model.vocab import MAX_PARTS, VOCAB

K_BAR, K_POS, K_PART, K_VEL, K_PITCH, K_DUR, K_EOS, K_OTHER = range(8)
PITCH_LO, PITCH_HI = 21, 108


class Grammar:
    """Precomputed per-token tables (built once per vocabulary)."""

    def __init__(self) -> None:
        v = VOCAB
        V = len(v)
        kind = torch.full((V,), K_OTHER, dtype=torch.long)
        idx = torch.full((V,), -1, dtype=torch.long)
        for t, name in enumerate(v.names):
            k = v.kind(t)
            code = {"BAR": K_BAR, "POS": K_POS, "PART": K_PART, "VEL": K_VEL,
                    "PITCH": K_PITCH, "DUR": K_DUR, "EOS": K_EOS}.get(k, K_OTHER)
            kind[t] = code
            if code in (K_POS, K_PART, K_VEL, K_PITCH, K_DUR):
                idx[t] = int(name.split("_")[1])
        self.kind, self.idx = kind, idx
        self.is_ = {k: (kind == k) for k in range(8)}
        self.pitch_ok = (kind == K_PITCH) & (idx >= PITCH_LO) & (idx <= PITCH_HI)


GRAMMAR = Grammar()


class GrammarState:
    """Decoding state of B streams, all after the header's first BAR."""

    def __init__(self, batch: int, bar_len: int, n_parts: int, target_bars: int) -> None:
        B = batch
        self.g = GRAMMAR
        self.last = torch.full((B,), K_BAR, dtype=torch.long)
        self.pos = torch.full((B,), -1, dtype=torch.long)
        self.blen = torch.full((B,), bar_len, dtype=torch.long)
        self.bars = torch.ones(B, dtype=torch.long)
        self.target = torch.full((B,), target_bars, dtype=torch.long)
        self.nparts = torch.full((B,), n_parts, dtype=torch.long)
        self.part = torch.full((B,), -1, dtype=torch.long)
        self.velset = torch.zeros(B, MAX_PARTS + 1, dtype=torch.bool)  # column MAX_PARTS: none
        self.pos_note = torch.zeros(B, dtype=torch.bool)
        self.last_pitch = torch.full((B,), -1, dtype=torch.long)
        self.done = torch.zeros(B, dtype=torch.bool)
        # parts that have had a note; EOS waits until every declared part has one
        self.used = torch.zeros(B, MAX_PARTS + 1, dtype=torch.bool)
        self.used[:, n_parts:] = True

    def _cur_velset(self) -> torch.Tensor:
        col = torch.where(self.part < 0, torch.full_like(self.part, MAX_PARTS), self.part)
        return self.velset.gather(1, col[:, None])[:, 0]

    def mask(self) -> torch.Tensor:
        """(B, V) bool: the tokens each stream may emit next."""
        g, i = self.g, self.g.idx[None, :]
        isk = {k: v[None, :] for k, v in g.is_.items()}
        col = lambda t: t[:, None]  # noqa: E731
        has_part = col(self.part >= 0)
        vel_ok = col(self._cur_velset())
        part_order = torch.where(col(self.pos_note), i > col(self.part), i != col(self.part))
        unused = ~self.used.gather(1, i.clamp(0, MAX_PARTS).expand(self.last.shape[0], -1))
        part_order = part_order | (unused & (i != col(self.part)))
        part_ok = isk[K_PART] & (i < col(self.nparts)) & part_order
        pitch = g.pitch_ok[None, :]
        pos_ok = isk[K_POS] & (i > col(self.pos)) & (i < col(self.blen))
        # velocity set for the part a PART token would switch to
        last = col(self.last)
        # the first bar starts on its downbeat (no leading silence, no anacrusis)
        first = col((self.bars == 1) & (self.pos < 0))
        after_bar = pos_ok & (~first | (i == 0))
        after_pos = part_ok | (isk[K_VEL] & has_part) | (pitch & has_part & vel_ok)
        after_part = isk[K_VEL] | (pitch & vel_ok)
        after_vel = pitch.expand(self.last.shape[0], -1)
        after_pitch = isk[K_DUR].expand(self.last.shape[0], -1)
        after_dur = (
            (pitch & vel_ok & (i > col(self.last_pitch)))
            | part_ok | isk[K_VEL] | pos_ok
            | (isk[K_BAR] & col(self.bars < self.target))
            | (isk[K_EOS] & col((self.bars >= self.target) & self.used.all(dim=1)))
        )
        m = torch.where(last == K_BAR, after_bar, torch.zeros_like(after_dur))
        m = torch.where(last == K_POS, after_pos, m)
        m = torch.where(last == K_PART, after_part, m)
        m = torch.where(last == K_VEL, after_vel, m)
        m = torch.where(last == K_PITCH, after_pitch, m)
        m = torch.where(last == K_DUR, after_dur, m)
        m = torch.where(col(self.done), isk[K_EOS].expand_as(m), m)
        # safety net (never expected): a stream with nothing allowed may end
        m = m | (isk[K_EOS] & ~m.any(dim=1, keepdim=True))
        return m

    def update(self, tok: torch.Tensor) -> None:
        """Advance every stream by its sampled token (B,)."""
        g = self.g
        k, i = g.kind[tok], g.idx[tok]
        minus1 = torch.full_like(self.pos, -1)
        is_bar, is_pos, is_part = k == K_BAR, k == K_POS, k == K_PART
        is_vel, is_pitch, is_dur = k == K_VEL, k == K_PITCH, k == K_DUR
        self.bars = self.bars + is_bar.long()
        self.pos = torch.where(is_bar, minus1, torch.where(is_pos, i, self.pos))
        self.pos_note = torch.where(is_bar | is_pos, torch.zeros_like(self.pos_note),
                                    self.pos_note | is_dur)
        self.part = torch.where(is_part, i, self.part)
        if bool(is_vel.any()):
            rows = torch.nonzero(is_vel)[:, 0]
            self.velset[rows, self.part[rows]] = True
        reset = is_bar | is_pos | is_part | is_vel
        self.last_pitch = torch.where(reset, minus1, torch.where(is_pitch, i, self.last_pitch))
        if bool(is_dur.any()):
            rows = torch.nonzero(is_dur)[:, 0]
            self.used[rows, self.part[rows]] = True
        self.done = self.done | (k == K_EOS)
        self.last = k
