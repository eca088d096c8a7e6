"""Rank candidates for one listener: Thompson sampling, an ``allowed`` mask, MMR diversity.

1. Draw one θ from the taste posterior, its spread widened by the listener's ``exploration``
   (0 → a tenth of the posterior's spread; the default 0.3 → a third; 1 → 0.9 ×). Plain
   Thompson sampling over-explores a broad cold-start prior: tuned in ``evaluate_recs``, and score every candidate ``X @ θ``:
   one matrix-vector product over float32 rows, so a million candidates is a single scan.
2. Disallowed rows (heard in the repeat window, an avoided instrument, not visible) score -inf
   and are never returned.
3. Take the ``POOL``·k best by sampled score and re-rank them greedily by maximal marginal
   relevance: ``(1 - diversity) · relevance - diversity · (max similarity to those already
   chosen, and to the ``recent`` tracks just heard)``, relevance being the sampled score scaled
   to [0, 1] within the pool.
4. A slot is an *exploration* slot when the posterior mean alone would not have put the track in
   the first k of the pool: the sample's optimism chose it.

Pure module: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommendations.engine import features as F
from recommendations.engine.taste import TasteModel

BASE_SCALE = 0.1  # exploration 0: a tenth of the posterior's spread
WIDEN = 0.8  # exploration 1: BASE_SCALE + WIDEN = 0.9 × the posterior's spread
POOL = 4  # MMR looks at POOL × k candidates
MIN_POOL = 40
DIVERSITY = 0.45


@dataclass(frozen=True)
class Ranked:
    indices: np.ndarray  # (k,) int64 rows of X, best first
    scores: np.ndarray  # (k,) float32 sampled scores θ·x
    explore: np.ndarray  # (k,) bool: chosen by the sample's optimism, not by the mean


def exploration_scale(exploration: float) -> float:
    return BASE_SCALE + WIDEN * min(1.0, max(0.0, float(exploration)))


def top_pool(scores: np.ndarray, m: int) -> np.ndarray:
    """Indices of the ``m`` highest finite scores, best first.

    Over a large array a full selection (argpartition) costs more than the scan itself; instead a
    threshold is read off a strided sample (the score a few times above the m-th best's expected
    place) and only the scores above it are selected from; when the sample guessed too high, the
    full selection runs."""
    n = len(scores)
    m = min(m, n)
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    idx = None
    if n > 64 * m:
        stride = max(1, n // (32 * m))
        sample = scores[::stride]
        rank_in_sample = min(len(sample) - 1, 4 * m * len(sample) // n + 4)
        threshold = np.partition(sample, len(sample) - 1 - rank_in_sample)[len(sample) - 1 - rank_in_sample]
        if np.isfinite(threshold):
            above = np.flatnonzero(scores >= threshold)
            if len(above) >= m:
                idx = above[np.argpartition(-scores[above], m - 1)[:m]] if len(above) > m else above
    if idx is None:
        idx = np.argpartition(-scores, m - 1)[:m] if m < n else np.arange(n)
    idx = idx[np.isfinite(scores[idx])]
    return idx[np.argsort(-scores[idx], kind="stable")].astype(np.int64)


def mmr(relevance: np.ndarray, sim: np.ndarray, k: int, diversity: float,
        already: np.ndarray | None = None) -> np.ndarray:
    """Greedy maximal marginal relevance: positions into ``relevance`` (M,), given the (M, M)
    similarity matrix; ``diversity`` 0 keeps the relevance order. ``already`` (M,): each
    candidate's similarity to what the listener has just heard (counted as chosen before)."""
    m = len(relevance)
    k = min(k, m)
    if diversity <= 0 or (k <= 1 and already is None):
        return np.argsort(-relevance, kind="stable")[:k]
    chosen = np.zeros(k, dtype=np.int64)
    taken = np.zeros(m, dtype=bool)
    max_sim = np.zeros(m) if already is None else np.asarray(already, dtype=float).copy()
    for j in range(k):
        value = (1 - diversity) * relevance - diversity * max_sim
        value[taken] = -np.inf
        i = int(np.argmax(value))
        chosen[j] = i
        taken[i] = True
        max_sim = np.maximum(max_sim, sim[i])
    return chosen


def rank(model: TasteModel, X: np.ndarray, *, exploration: float, rng: np.random.Generator, k: int,
         allowed: np.ndarray | None = None, diversity: float = DIVERSITY,
         theta: np.ndarray | None = None, recent: np.ndarray | None = None) -> Ranked:
    """The k best candidates of X (N, D) float32 for this listener (fewer if fewer are allowed).
    ``theta`` replaces the Thompson draw (a fixed weight vector: the oracle, stated-only);
    ``recent`` (M, D): what the listener just heard, which the list should not repeat in kind."""
    if theta is None:
        theta = model.sample(rng, scale=exploration_scale(exploration))
    scores = X @ np.asarray(theta, dtype=X.dtype)  # (N,)
    if allowed is not None:
        np.copyto(scores, -np.inf, where=~np.asarray(allowed, dtype=bool))
    pool = top_pool(scores, max(POOL * k, MIN_POOL))
    if len(pool) == 0:
        return Ranked(np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, bool))
    Xp = X[pool]
    s = scores[pool].astype(np.float64)
    span = s.max() - s.min()
    relevance = (s - s.min()) / span if span > 0 else np.ones_like(s)
    already = F.similarity(Xp, recent).max(axis=1) if recent is not None and len(recent) else None
    picks = mmr(relevance, F.similarity(Xp, Xp), k, diversity, already)
    mean_rank = np.empty(len(pool), dtype=np.int64)
    mean_rank[np.argsort(-(Xp @ model.mean32), kind="stable")] = np.arange(len(pool))
    return Ranked(indices=pool[picks], scores=scores[pool[picks]].astype(np.float32),
                  explore=mean_rank[picks] >= min(k, len(pool)))
