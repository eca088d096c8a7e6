"""An interpolated Witten-Bell n-gram over tokens: the baseline the transformer must beat."""

from __future__ import annotations

import math
from collections import defaultdict


class NGram:
    def __init__(self, order: int, vocab_size: int) -> None:
        self.order, self.V = order, vocab_size
        self.pair: dict[tuple, int] = defaultdict(int)  # (context..., token) -> count
        self.ctx: dict[tuple, int] = defaultdict(int)  # context -> count
        self.types: dict[tuple, int] = defaultdict(int)  # context -> distinct followers

    def fit(self, sequences: list[list[int]]) -> NGram:
        for seq in sequences:
            for i in range(1, len(seq)):
                for n in range(0, self.order):  # context length n
                    if i - n < 0:
                        break
                    key = tuple(seq[i - n:i + 1])
                    if self.pair[key] == 0:
                        self.types[key[:-1]] += 1
                    self.pair[key] += 1
                    self.ctx[key[:-1]] += 1
        return self

    def prob(self, context: tuple, tok: int, order: int | None = None) -> float:
        p = 1.0 / self.V
        for n in range(0, order or self.order):
            if n > len(context):
                break
            h = context[len(context) - n:] if n else ()
            c = self.ctx.get(h, 0)
            if c == 0:
                break
            t = self.types[h]
            p = (self.pair.get(h + (tok,), 0) + t * p) / (c + t)
        return p

    def nll(self, sequences: list[list[int]], order: int | None = None) -> tuple[float, int]:
        """Total NLL (nats) and number of predicted tokens (every token after the first), using
        an ``order`` up to the fitted one."""
        order = order or self.order
        total, count = 0.0, 0
        for seq in sequences:
            for i in range(1, len(seq)):
                ctx = tuple(seq[max(0, i - order + 1):i])
                total -= math.log(self.prob(ctx, seq[i], order))
                count += 1
        return total, count
