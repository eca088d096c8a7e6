"""How compose requests map to what is measured on the tracks they become, learned from real runs.

A request asks for a tempo, a density, a register, a key and mode, a metre and a length; what
the listener hears is the composition *arranged* in a style, and the arranger adds parts (and, as
of a given pipeline, may keep or replace the requested tempo). ``Calibration.fit(runs)`` learns
that mapping from (request, measured) pairs - the committed sample of real compose runs
(``sampledata``), or a service's own tracks:

* numeric attributes (log tempo, log density, mean pitch, polyphony, pitch span, log duration):
  least squares on [1, the requested value, style one-hot], with the residuals of the real runs
  kept per style;
* key, mode and metre: how often the request is kept, and what comes out when it is not;
* instrument families: the sets real runs of the style (and avoided instruments) sounded with.

``expected(request)`` is the mean mapping (compose-next uses it to predict a request's features);
``draw(request, rng)`` adds a real run's residual and the observed slips of key, mode and metre
(the simulator uses it to make the tracks compose-next asks for).

Pure module: numpy only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommendations.engine import features as F

# measured attribute ← (requested key, log scale)
NUMERIC: dict[str, tuple[str | None, bool]] = {
    "tempo": ("tempo_bpm", True),
    "density": ("density", True),
    "pitch_mean": ("register", False),
    "polyphony": ("polyphony", False),
    "span": (None, False),
    "duration_s": ("length_s", True),
}
RIDGE = 1e-3


def _measured_value(run: Mapping, name: str) -> float | None:
    m = run.get("measured") or {}
    if name == "span":
        lo, hi = m.get("pitch_min"), m.get("pitch_max")
        return None if lo is None or hi is None else float(hi) - float(lo)
    if name == "duration_s":
        return run.get("duration_s")
    value = m.get(name)
    return None if value is None else float(value)


def _design(request: Mapping, name: str, style: np.ndarray | None = None) -> np.ndarray:
    """[1, the requested value (log where the attribute is), style one-hot]."""
    key, log = NUMERIC[name]
    v = 0.0
    if key is not None:
        v = float(request.get(key) or 0.0)
        v = math.log(max(v, 1e-3)) if log else v
    style = F._one_hot(request.get("style"), F.STYLE_SLUGS) if style is None else style
    return np.concatenate([[1.0, v], style])


@dataclass
class Calibration:
    coef: dict[str, np.ndarray]  # attribute → coefficients over _design
    residuals: dict[str, dict[str, list[float]]]  # attribute → style → residuals of real runs
    kept: dict[str, float]  # "mode" / "key_tonic" / "time_signature" → share kept
    key_offsets: list[int]
    metres_when_changed: dict[str, list[str]]
    families: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]]
    n_runs: int = 0
    report: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, runs: Sequence[Mapping]) -> Calibration:
        runs = [r for r in runs if r.get("measured") and r.get("request")]
        if not runs:
            raise ValueError("no compose runs to calibrate from")
        coef, residuals, report = {}, {}, {}
        for name, (_, log) in NUMERIC.items():
            rows = [(r, _measured_value(r, name)) for r in runs]
            rows = [(r, y) for r, y in rows if y is not None and (not log or y > 0)]
            X = np.array([_design(r["request"], name) for r, _ in rows])
            y = np.array([math.log(v) if log else v for _, v in rows])
            beta = np.linalg.solve(X.T @ X + RIDGE * np.eye(X.shape[1]), X.T @ y)
            res = y - X @ beta
            coef[name] = beta
            by_style: dict[str, list[float]] = {}
            for (r, _), e in zip(rows, res, strict=True):
                by_style.setdefault(r["request"]["style"], []).append(float(e))
            residuals[name] = by_style
            report[name] = {"slope": round(float(beta[1]), 3), "residual_std": round(float(res.std()), 3)}
        kept = {}
        for key, req_key in (("mode", "mode"), ("key_tonic", "key_tonic"), ("time_signature", "time_signature")):
            kept[key] = float(np.mean([r["measured"].get(key) == r["request"].get(req_key) for r in runs]))
            report[f"{key}_kept"] = round(kept[key], 3)
        offsets = [(int(r["measured"]["key_tonic"]) - int(r["request"]["key_tonic"])) % 12 for r in runs
                   if r["measured"].get("key_tonic") is not None and r["measured"]["key_tonic"] != r["request"]["key_tonic"]]
        metres: dict[str, list[str]] = {}
        for r in runs:
            if r["measured"].get("time_signature") != r["request"]["time_signature"]:
                metres.setdefault(r["request"]["time_signature"], []).append(r["measured"].get("time_signature"))
        fams: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]] = {}
        for r in runs:
            k = (r["request"]["style"], tuple(sorted(r["request"].get("avoid_instruments") or ())))
            fams.setdefault(k, []).append(tuple(r["measured"].get("families") or ()))
        return cls(coef, residuals, kept, offsets or [0], metres, fams, n_runs=len(runs), report=report)

    def _numeric(self, request: Mapping, name: str, residual: float, style: np.ndarray) -> float:
        _, log = NUMERIC[name]
        value = float(_design(request, name, style) @ self.coef[name]) + residual
        return math.exp(value) if log else value

    def _families(self, request: Mapping, rng: np.random.Generator | None) -> list[str]:
        avoid = tuple(sorted(request.get("avoid_instruments") or ()))
        seen = self.families.get((request.get("style"), avoid))
        if not seen:
            return list(F.heard_families(request.get("style", ""), avoid))
        if rng is None:
            return list(Counter(seen).most_common(1)[0][0])
        return list(seen[int(rng.integers(len(seen)))])

    def _measured(self, request: Mapping, values: dict[str, float], *, tonic: int, mode: str, metre: str,
                  families: list[str]) -> dict:
        mean = values["pitch_mean"]
        span = max(0.0, values["span"])
        return {
            "tempo": round(values["tempo"], 3), "key_tonic": tonic, "mode": mode, "time_signature": metre,
            "density": round(values["density"], 4), "pitch_min": int(round(mean - span / 2)),
            "pitch_max": int(round(mean + span / 2)), "pitch_mean": round(mean, 3),
            "polyphony": round(max(0.0, values["polyphony"]), 4), "families": families,
            "duration_s": round(values["duration_s"], 2),
        }

    def expected(self, request: Mapping) -> dict:
        """The measured attributes a request is expected to deliver (the mean mapping)."""
        style = F._one_hot(request.get("style"), F.STYLE_SLUGS)
        values = {name: self._numeric(request, name, 0.0, style) for name in NUMERIC}
        mode = request.get("mode") if self.kept["mode"] >= 0.5 else None
        return self._measured(request, values, tonic=int(request.get("key_tonic") or 0), mode=mode,
                              metre=request.get("time_signature"), families=self._families(request, None))

    def draw(self, request: Mapping, rng: np.random.Generator) -> dict:
        """What one real compose run of this request might measure (residuals of real runs)."""
        style = request.get("style")
        one_hot = F._one_hot(style, F.STYLE_SLUGS)
        values = {}
        for name in NUMERIC:
            pool = self.residuals[name].get(style) or [e for v in self.residuals[name].values() for e in v]
            values[name] = self._numeric(request, name, pool[int(rng.integers(len(pool)))], one_hot)
        mode = request.get("mode")
        if rng.random() >= self.kept["mode"]:
            mode = "minor" if mode == "major" else "major"
        tonic = int(request.get("key_tonic") or 0)
        if rng.random() >= self.kept["key_tonic"]:
            tonic = (tonic + self.key_offsets[int(rng.integers(len(self.key_offsets)))]) % 12
        metre = request.get("time_signature")
        changed = self.metres_when_changed.get(metre)
        if changed and rng.random() >= self.kept["time_signature"]:
            metre = changed[int(rng.integers(len(changed)))]
        return self._measured(request, values, tonic=tonic, mode=mode, metre=metre,
                              families=self._families(request, rng))
