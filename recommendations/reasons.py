"""Why a track is in a listener's playlist, in one line of words. Pure (numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommendations.engine import features as F

VERBS = {"complete": "finished", "like": "liked", "save": "saved", "replay": "played again"}
SIMILAR = 0.8  # cosine similarity at which a track is "like" one the listener enjoyed


@dataclass(frozen=True)
class Enjoyed:
    """Tracks the listener enjoyed (complete, like, save, replay), their vectors and how."""

    X: np.ndarray  # (M, D)
    verbs: Sequence[str]  # (M,) one of VERBS' values


def reason(x: np.ndarray, *, explore: bool, enjoyed: Enjoyed, stated: Sequence[str]) -> str:
    """E.g. "slow minor piano, like the ones you finished"; exploration slots say so."""
    words = F.describe(x) or "a new piece"
    if explore:
        return f"{words}: something new, to learn what else you like"
    if len(enjoyed.X):
        sims = F.similarity(x[None, :], enjoyed.X)[0]
        close = [enjoyed.verbs[i] for i in np.argsort(-sims) if sims[i] >= SIMILAR]
        if close:
            verb = max(set(close), key=close.count)
            return f"{words}, like the ones you {verb}" if close.count(verb) > 1 else f"{words}, like one you {verb}"
        return f"{words}, close to what you have been enjoying"
    if stated:
        return f"{words}, from what you said you like ({', '.join(stated[:3])})"
    return f"{words}, to start learning your taste"
