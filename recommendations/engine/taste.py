"""A listener's taste: Bayesian linear regression over feat-v1, updated online from events.

The model says how much a listener enjoys a track with feature vector ``x``: ``θ·x`` with
``θ ~ N(mean, precision⁻¹)``. Targets are in [-1, 1] (1: finished and liked it; -1: left at
once or disliked it); ``event_signal`` turns a listening event into a (target, weight).

* **Prior (cold start).** ``prior_from_preferences``: the population's mean and covariance (what
  listeners in general turn out to like, and which tastes go together), shifted by what this
  listener stated (``stated_shift``: styles, moods, tempo range, energy, instruments, mode,
  length). Stated preferences are only partly right, so they move the mean but do not make the
  prior any surer.
* **Update.** Conjugate and exact: ``precision += Σ w x xᵀ / σ²``, ``information += Σ w y x / σ²``,
  ``mean = precision⁻¹ (prior_precision · prior_mean + information)``. Old feedback decays: the
  evidence (precision and information gathered from events) halves every ``half_life_s``, so the
  model drifts back toward the prior when a listener stops listening and follows a taste that
  changes.
* **Explanations.** The information each event kind contributed is kept, so the move of every
  feature away from the prior splits exactly into the part each kind of event caused.

Pure module: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from recommendations.engine import features as F

NOISE_VAR = 0.5  # σ² of one target around θ·x
HALF_LIFE_S = 21 * 86400.0  # evidence halves every three weeks
PRIOR_STD = 0.35  # prior std of each weight without a population prior
BIAS_PRIOR_STD = 0.6

# How far one stated preference moves the prior mean (target units per feature).
STATED = {
    "style": 0.35,  # a listed style up, the others down by a third of it
    "mood": 0.15,
    "tempo": 0.5,  # times (membership of the stated range - its mean)
    "energy": 0.4,
    "preferred_instrument": 0.2,
    "avoided_instrument": -1.0,  # strongly against (ranking also excludes them outright)
    "mode": 0.2,
    "length": 0.25,
}

# (target, weight) per event kind; skip and progress are graded by the position in the track.
EVENT_SIGNALS: dict[str, tuple[float, float]] = {
    "complete": (1.0, 1.0),
    "like": (1.0, 1.5),
    "save": (1.0, 2.0),
    "dislike": (-1.0, 3.0),
    "replay": (1.0, 1.5),
}
SKIP_WEIGHT = 1.0
PROGRESS_WEIGHT = 0.3


def _sym(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2


@dataclass(frozen=True)
class TasteModel:
    """A listener's taste (schema ``feat-v1``); derived values are cached on first use."""

    prior_mean: np.ndarray  # (D,) the prior's mean (population + stated shift)
    prior_precision: np.ndarray  # (D, D)
    data_precision: np.ndarray  # (D, D) evidence from events, decayed
    data_info: np.ndarray  # (D,) Σ w y x / σ², decayed
    stated: np.ndarray  # (D,) the part of prior_mean the stated preferences put there
    contributions: Mapping[str, np.ndarray] = field(default_factory=dict)  # kind → its part of data_info
    n_updates: int = 0
    n_events: int = 0
    updated_at: float = 0.0  # epoch seconds of the last update
    half_life_s: float = HALF_LIFE_S
    schema: str = F.SCHEMA

    @cached_property
    def precision(self) -> np.ndarray:
        return _sym(self.prior_precision + self.data_precision)

    @cached_property
    def _chol(self) -> np.ndarray:
        return np.linalg.cholesky(self.precision)  # precision = L Lᵀ

    @cached_property
    def mean(self) -> np.ndarray:
        rhs = self.prior_precision @ self.prior_mean + self.data_info
        return _solve_chol(self._chol, rhs)

    @cached_property
    def cov(self) -> np.ndarray:
        return _sym(_solve_chol(self._chol, np.eye(len(self.prior_mean))))

    @cached_property
    def mean32(self) -> np.ndarray:
        return self.mean.astype(np.float32)

    def sample(self, rng: np.random.Generator, *, scale: float = 1.0) -> np.ndarray:
        """One draw of θ from the posterior, its spread times ``scale`` (float32, (D,))."""
        z = rng.standard_normal(len(self.prior_mean))
        # Lᵀ u = z  ⇒  u ~ N(0, (L Lᵀ)⁻¹) = N(0, cov)
        u = np.linalg.solve(self._chol.T, z)
        return (self.mean + scale * u).astype(np.float32)

    def score_std(self, X: np.ndarray) -> np.ndarray:
        """Posterior std of θ·x for each row of X (N, D)."""
        V = np.linalg.solve(self._chol, np.asarray(X, dtype=float).T)  # L⁻¹ xᵀ
        return np.sqrt(np.sum(V * V, axis=0))

    def to_dict(self) -> dict:
        """JSON-ready (floats rounded to 6 significant digits; matrices as upper triangles)."""
        return {
            "schema": self.schema,
            "features": list(F.NAMES),
            "mean": _floats(self.mean),
            "prior_mean": _floats(self.prior_mean),
            "stated": _floats(self.stated),
            "prior_precision": _packed(self.prior_precision),
            "data_precision": _packed(self.data_precision),
            "data_info": _floats(self.data_info),
            "contributions": {k: _floats(v) for k, v in sorted(self.contributions.items())},
            "n_updates": self.n_updates,
            "n_events": self.n_events,
            "updated_at": self.updated_at,
            "half_life_s": self.half_life_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TasteModel:
        """The model ``to_dict`` wrote; ValueError if it is of another schema or malformed."""
        if data.get("schema") != F.SCHEMA:
            raise ValueError(f"taste model schema {data.get('schema')!r} is not {F.SCHEMA}")
        try:
            return cls(
                prior_mean=np.asarray(data["prior_mean"], dtype=float),
                prior_precision=_unpacked(data["prior_precision"]),
                data_precision=_unpacked(data["data_precision"]),
                data_info=np.asarray(data["data_info"], dtype=float),
                stated=np.asarray(data["stated"], dtype=float),
                contributions={k: np.asarray(v, dtype=float) for k, v in data.get("contributions", {}).items()},
                n_updates=int(data.get("n_updates", 0)),
                n_events=int(data.get("n_events", 0)),
                updated_at=float(data.get("updated_at", 0.0)),
                half_life_s=float(data.get("half_life_s", HALF_LIFE_S)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed taste model: {exc}") from exc


def _solve_chol(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(L.T, np.linalg.solve(L, b))


def _floats(v: np.ndarray) -> list[float]:
    return [float(f"{x:.6g}") for x in np.asarray(v, dtype=float).ravel()]


def _packed(m: np.ndarray) -> list[float]:
    return _floats(m[np.triu_indices(m.shape[0])])


def _unpacked(values: Sequence[float]) -> np.ndarray:
    n = int(round((math.sqrt(8 * len(values) + 1) - 1) / 2))
    if n * (n + 1) // 2 != len(values) or n != F.D:
        raise ValueError(f"expected a packed {F.D}x{F.D} matrix, got {len(values)} values")
    m = np.zeros((n, n))
    m[np.triu_indices(n)] = values
    return m + np.triu(m, 1).T


# ---------------------------------------------------------------- prior


def _range_memberships(bins: F.SoftBins, low: float, high: float) -> np.ndarray:
    """Average soft-bin membership of values spread over [low, high]."""
    grid = np.geomspace(low, high, 9) if bins.log else np.linspace(low, high, 9)
    return np.mean([bins.encode(float(x)) for x in grid], axis=0)


def _centred(m: np.ndarray) -> np.ndarray:
    return m - m.mean()


def _number(prefs: Mapping, key: str) -> float | None:
    value = prefs.get(key)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def stated_shift(prefs: Mapping) -> np.ndarray:
    """How the stated preferences move the prior mean (D,); unknown values are ignored."""
    shift = np.zeros(F.D)
    styles = [s for s in prefs.get("styles") or [] if s in F.STYLE_SLUGS]
    if styles:
        listed = F._multi_hot(styles, F.STYLE_SLUGS)
        shift[F.S_STYLE] += STATED["style"] * (listed - (1 - listed) / 3)
    moods = [m for m in prefs.get("moods") or [] if m in F.MOODS]
    if moods:
        listed = F._multi_hot(moods, F.MOODS)
        shift[F.S_MOOD] += STATED["mood"] * (listed - (1 - listed) / 3)
    lo, hi = _number(prefs, "tempo_min"), _number(prefs, "tempo_max")
    if lo and hi and 0 < lo <= hi:
        shift[F.S_TEMPO] += STATED["tempo"] * _centred(_range_memberships(F.TEMPO, lo, hi))
    energy = _number(prefs, "energy")
    if energy is not None:
        e = min(1.0, max(0.0, energy))
        lo_d, hi_d = F.ENERGY.centres[0], F.ENERGY.centres[-1]
        density = math.exp(math.log(lo_d) + e * (math.log(hi_d) - math.log(lo_d)))
        shift[F.S_ENERGY] += STATED["energy"] * _centred(F.ENERGY.encode(density))
    for fam in prefs.get("preferred_instruments") or []:
        if fam in F.FAMILIES:
            shift[F.S_FAMILY.start + F.FAMILIES.index(fam)] += STATED["preferred_instrument"]
    for fam in prefs.get("avoided_instruments") or []:
        if fam in F.FAMILIES:
            shift[F.S_FAMILY.start + F.FAMILIES.index(fam)] += STATED["avoided_instrument"]
    mode = prefs.get("mode")
    if mode in ("major", "minor"):
        shift[F.I_MINOR] += STATED["mode"] * (1 if mode == "minor" else -1)
    lo, hi = _number(prefs, "length_min_s"), _number(prefs, "length_max_s")
    if lo and hi and 0 < lo <= hi:
        shift[F.S_LENGTH] += STATED["length"] * _centred(_range_memberships(F.LENGTH, lo, hi))
    return shift


def default_population() -> TasteModel:
    """The population prior before any listener has been learned: no preference, a broad spread."""
    std = np.full(F.D, PRIOR_STD)
    std[F.I_BIAS] = BIAS_PRIOR_STD
    return _model(np.zeros(F.D), np.diag(1 / std**2), np.zeros(F.D))


def _model(mean: np.ndarray, precision: np.ndarray, stated: np.ndarray, *, updated_at: float = 0.0) -> TasteModel:
    return TasteModel(
        prior_mean=np.asarray(mean, dtype=float), prior_precision=_sym(np.asarray(precision, dtype=float)),
        data_precision=np.zeros((F.D, F.D)), data_info=np.zeros(F.D), stated=np.asarray(stated, dtype=float),
        updated_at=updated_at,
    )


def prior_from_preferences(prefs: Mapping, *, population: TasteModel | None = None,
                           now: float = 0.0) -> TasteModel:
    """The cold-start model: the population's mean and covariance, shifted by what was stated."""
    pop = population or default_population()
    shift = stated_shift(prefs)
    return _model(pop.mean + shift, pop.precision, shift, updated_at=now)


@dataclass
class PopulationSums:
    """Running sums over learned listeners for ``population_prior``: one pass over any number of
    stored models in constant memory (the service streams every listener's latest profile)."""

    n: int = 0
    resid: np.ndarray = field(default_factory=lambda: np.zeros(F.D))  # Σ r, r = mean - stated
    outer: np.ndarray = field(default_factory=lambda: np.zeros((F.D, F.D)))  # Σ r rᵀ
    cov: np.ndarray = field(default_factory=lambda: np.zeros((F.D, F.D)))  # Σ posterior cov

    def add(self, model: TasteModel) -> None:
        r = model.mean - model.stated  # what they turned out to like beyond what they stated
        self.n += 1
        self.resid += r
        self.outer += np.outer(r, r)
        self.cov += model.cov

    def prior(self, *, shrinkage: float = 0.3, min_std: float = 0.05) -> TasteModel:
        """The population prior of the listeners added (the default one below two)."""
        if self.n < 2:
            return default_population()
        mean = self.resid / self.n
        between = (self.outer - self.n * np.outer(mean, mean)) / (self.n - 1)
        cov = _sym(between + self.cov / self.n)
        diag = np.diag(np.maximum(np.diag(cov), min_std**2))
        cov = (1 - shrinkage) * cov + shrinkage * diag
        cov += np.eye(F.D) * min_std**2 * 0.1
        return _model(mean, np.linalg.inv(cov), np.zeros(F.D))


def population_prior(models: Sequence[TasteModel], *, shrinkage: float = 0.3,
                     min_std: float = 0.05) -> TasteModel:
    """Empirical-Bayes prior from learned listeners: the mean of what they turned out to like
    beyond what they stated, and the covariance of their tastes (between-listener spread plus
    the average remaining uncertainty), shrunk toward its diagonal."""
    sums = PopulationSums()
    for m in models:
        sums.add(m)
    return sums.prior(shrinkage=shrinkage, min_std=min_std)


# ---------------------------------------------------------------- events → evidence


def event_signal(kind: str, *, position_ms: int, duration_ms: int, replay: bool = False) -> tuple[float, float] | None:
    """(target, weight) of one listening event, or None when it says nothing about taste.

    complete, like, save and replays count for; a skip counts against, the more the earlier it
    comes (a skip in the first second: -1; at 90 %: -0.1); dislike is strongly against;
    progress is graded by how far the listener got; a first play alone says nothing, nor does
    taking a like or dislike back (unlike, undislike: what the rating taught decays as all
    evidence does; the rating itself is gone at once)."""
    fraction = min(1.0, max(0.0, position_ms / duration_ms)) if duration_ms and duration_ms > 0 else 0.0
    if replay and kind in ("play", "complete"):
        return EVENT_SIGNALS["replay"]
    if kind in EVENT_SIGNALS:
        return EVENT_SIGNALS[kind]
    if kind == "skip":
        return (-(1.0 - fraction), SKIP_WEIGHT)
    if kind == "progress":
        return (fraction, PROGRESS_WEIGHT * fraction) if fraction > 0 else None
    return None


def decayed(model: TasteModel, *, now: float) -> TasteModel:
    """The model with its evidence decayed to ``now``."""
    dt = max(0.0, now - model.updated_at)
    if dt == 0.0:
        return model
    g = 0.5 ** (dt / model.half_life_s)
    return replace(model, data_precision=model.data_precision * g, data_info=model.data_info * g,
                   contributions={k: v * g for k, v in model.contributions.items()}, updated_at=now)


def update(model: TasteModel, X: np.ndarray, targets: np.ndarray, weights: np.ndarray, *,
           ages_s: np.ndarray, now: float, kinds: Sequence[str] | None = None) -> TasteModel:
    """The posterior after a batch of events: X (N, D) the tracks' vectors, targets and weights
    (N,) from ``event_signal``, ages_s (N,) how long ago each happened. ``kinds`` (N,) names
    each event's kind for explanations."""
    X = np.asarray(X, dtype=float).reshape(-1, F.D)
    y = np.asarray(targets, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel() * 0.5 ** (np.maximum(np.asarray(ages_s, dtype=float).ravel(), 0) / model.half_life_s)
    if not (len(X) == len(y) == len(w)):
        raise ValueError(f"X, targets, weights must have the same length: {len(X)}, {len(y)}, {len(w)}")
    m = decayed(model, now=max(now, model.updated_at))
    if len(X) == 0:
        return m
    wx = X * (w / NOISE_VAR)[:, None]
    info = wx.T @ y
    contributions = dict(m.contributions)
    for kind in sorted(set(kinds or ["events"] * len(X))):
        rows = [i for i, k in enumerate(kinds or ["events"] * len(X)) if k == kind]
        contributions[kind] = contributions.get(kind, np.zeros(F.D)) + wx[rows].T @ y[rows]
    return replace(
        m, data_precision=_sym(m.data_precision + wx.T @ X), data_info=m.data_info + info,
        contributions=contributions, n_updates=m.n_updates + 1, n_events=m.n_events + len(X),
    )


# ---------------------------------------------------------------- explanations


def explain(model: TasteModel, prior: TasteModel, *, top: int = 6, min_change: float = 0.02) -> list[dict]:
    """The features whose weight moved most from ``prior``: direction, size, and which kinds of
    event moved them (shares of the move, exact: mean = P⁻¹(P₀μ₀ + Σ_kinds c_k))."""
    delta = model.mean - prior.mean
    parts = {k: _solve_chol(model._chol, c) for k, c in model.contributions.items()}
    shrink = _solve_chol(model._chol, model.prior_precision @ model.prior_mean) - model.prior_mean
    out = []
    for i in np.argsort(-np.abs(delta))[:top]:
        if abs(delta[i]) < min_change:
            break
        moved = {k: float(p[i]) for k, p in parts.items()}
        moved["prior_pull"] = float(shrink[i])
        same_way = {k: v for k, v in moved.items() if v * delta[i] > 0}
        total = sum(abs(v) for v in same_way.values()) or 1.0
        direction = "more" if delta[i] > 0 else "less"
        out.append({
            "feature": F.NAMES[i],
            "index": int(i),
            "direction": direction,
            "change": round(float(delta[i]), 4),
            "weight": round(float(model.mean[i]), 4),
            "prior": round(float(prior.mean[i]), 4),
            "words": f"{direction} fond of {F.describe_feature(int(i))}",
            "from": {k: round(abs(v) / total, 3) for k, v in sorted(same_way.items(), key=lambda kv: -abs(kv[1]))},
        })
    return out
