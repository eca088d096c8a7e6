"""Policies compared in the simulator, the loop that runs them, and the figures it reports.

Every policy meets the same listeners with the same seeds (``simulator.Environment``). Each
session the listener opens their playlist (NDCG@10 of it against their hidden taste is recorded),
then plays ``per_session`` tracks; after each track its events reach the policy and the playlist
is ranked again, as the service rebuilds it on every events batch. Before each session a policy
that composes may ask for new tracks (compose-next, ahead of time, within a quota).

Policies:
* ``cadenza``  - the engine itself: ``taste.prior_from_preferences`` (with a population prior
  learned from a separate cohort of simulated listeners), ``taste.event_signal`` + ``taste.update``
  on every event, ``ranking.rank`` (Thompson sampling widened by the stated exploration, MMR
  against what was just played), ``compose_next.choose_requests`` when fewer than
  ``GOOD_FIT_TARGET`` unplayed good-fit tracks remain;
* ``random``     - a random order of the allowed tracks;
* ``popularity`` - most-completed first (completion rates of the cohort under random exposure);
* ``stated``     - the stated preferences alone: the cold-start prior, never updated (composes
  from it too);
* ``bandit``     - Vowpal Wabbit ``--cb_explore_adf --squarecb`` on the same feat-v1 vectors, one
  model per listener, cost = -target of the same event signal; it composes the quota every
  session, choosing among the same candidate requests by its own predictions (optional extra
  ``eval``: ``pip install -e '.[eval]'``);
* ``oracle``     - ranks by the hidden taste (including its drift) over the measured features and
  composes by it: the ceiling for any policy that sees what the service measures.

Every policy is held to the service's rules through the environment's ``allowed`` mask (no
repeat inside the window, no stated-avoided instrument).

Pure module: numpy (and vowpalwabbit when installed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommendations.engine import features as F
from recommendations.engine import ranking, taste
from recommendations.engine.compose_next import candidate_requests, choose_requests, request_vectors
from recommendations.engine.simulator import DocumentModel, Environment, Listener, Population

K_NDCG = 10
PLAYLIST = 20  # the playlist length a listener sees
QUOTA_PER_SESSION = 10  # compose-next may ask for this many tracks a day
GOOD_FIT_TARGET = 40  # keep two sessions' worth of unplayed good-fit tracks ahead
GOOD_FIT_SCORE = 0.5  # predicted target above which a track is a good fit (mostly finished)
RECENT_FOR_MMR = 5  # MMR keeps the list unlike the last few tracks played
T_95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
        12: 2.18, 15: 2.13, 20: 2.09, 30: 2.04}


# ---------------------------------------------------------------- policies


class Policy:
    """A recommender under test: ranks the pool, learns from events, maybe composes."""

    name = "policy"

    def begin(self, listener: Listener, rng: np.random.Generator, now: float) -> None:
        self.stated = listener.stated
        self.rng = rng

    def rank(self, env: Environment, allowed: np.ndarray, k: int) -> np.ndarray:
        raise NotImplementedError

    def observe(self, x: np.ndarray, events: Sequence[tuple[str, int, int]], now: float) -> None:
        pass

    def requests(self, env: Environment, allowed: np.ndarray, quota: int) -> list[dict]:
        return []


class RandomPolicy(Policy):
    name = "random"

    def rank(self, env, allowed, k):
        idx = np.flatnonzero(allowed)
        return self.rng.permutation(idx)[:k]


class PopularityPolicy(Policy):
    name = "popularity"

    def __init__(self, completion_rate: Mapping[int, float]):
        self.rate = completion_rate

    def rank(self, env, allowed, k):
        idx = np.flatnonzero(allowed)
        score = np.array([self.rate.get(env.pool[i].id if env.pool[i].owner is None else -1, 0.0) for i in idx])
        score = score + 1e-6 * self.rng.random(len(idx))  # ties in random order
        return idx[np.argsort(-score)][:k]


def _signals(events: Sequence[tuple[str, int, int]]) -> tuple[list[float], list[float], list[str]]:
    targets, weights, kinds = [], [], []
    for kind, position, duration in events:
        s = taste.event_signal(kind, position_ms=position, duration_ms=duration)
        if s is not None:
            targets.append(s[0])
            weights.append(s[1])
            kinds.append(kind)
    return targets, weights, kinds


class TastePolicy(Policy):
    """A policy built on a TasteModel and the production ranking and compose-next functions."""

    name = "cadenza"
    learns = True
    diversity = ranking.DIVERSITY

    def __init__(self, *, population: taste.TasteModel | None = None, expected: Callable | None = None):
        self.population = population
        self.expected = expected

    def begin(self, listener, rng, now):
        super().begin(listener, rng, now)
        self.model = taste.prior_from_preferences(listener.stated, population=self.population, now=now)
        self.exploration = float(listener.stated.get("exploration", 0.3))

    def theta(self, env: Environment) -> np.ndarray | None:
        return None  # a Thompson draw per ranking

    def rank(self, env, allowed, k):
        recent = env.recent(0)[-RECENT_FOR_MMR:]
        r = ranking.rank(self.model, env.X, exploration=self.exploration, rng=self.rng, k=k, allowed=allowed,
                         diversity=self.diversity, theta=self.theta(env), recent=recent if len(recent) else None)
        return r.indices

    def observe(self, x, events, now):
        if not self.learns:
            return
        targets, weights, kinds = _signals(events)
        if targets:
            n = len(targets)
            self.model = taste.update(self.model, np.repeat(x[None], n, 0), np.array(targets), np.array(weights),
                                      ages_s=np.zeros(n), now=now, kinds=kinds)

    def good_fit(self, env: Environment, allowed: np.ndarray) -> int:
        theta = self.theta(env)
        scores = env.X[allowed] @ (self.model.mean32 if theta is None else theta)
        return int(np.sum(scores > GOOD_FIT_SCORE))

    def requests(self, env, allowed, quota):
        missing = GOOD_FIT_TARGET - self.good_fit(env, allowed)
        if missing <= 0:
            return []
        return choose_requests(self.model, self.stated, rng=self.rng, n=min(quota, missing),
                               recent=env.recent(2), expected=self.expected, theta=self.theta(env))


class StatedPolicy(TastePolicy):
    name = "stated"
    learns = False

    def theta(self, env):
        return self.model.mean32


class OraclePolicy(TastePolicy):
    name = "oracle"
    learns = False
    diversity = 0.0

    def theta(self, env):
        return env.listener.theta.astype(np.float32)

    def requests(self, env, allowed, quota):  # the ceiling composes all it may, by the true taste
        return choose_requests(self.model, self.stated, rng=self.rng, n=quota, recent=env.recent(2),
                               expected=self.expected, theta=self.theta(env))


class BanditPolicy(Policy):
    """Vowpal Wabbit's contextual bandit over action-dependent features (feat-v1)."""

    name = "bandit"
    ARGS = "--cb_explore_adf --squarecb --quiet --noconstant"

    def __init__(self):
        import vowpalwabbit  # noqa: F401  (ImportError: the optional extra is missing)

    def begin(self, listener, rng, now):
        from vowpalwabbit import Workspace

        super().begin(listener, rng, now)
        self.vw = Workspace(f"{self.ARGS} --random_seed {int(rng.integers(2**31 - 1))}")
        self._lines: dict[int, str] = {}
        self._pmf: dict[int, float] = {}

    @staticmethod
    def _line(x: np.ndarray) -> str:
        return "|a " + " ".join(f"f{i}:{v:.4g}" for i, v in enumerate(x) if v != 0.0)

    def _doc_line(self, env: Environment, i: int) -> str:
        if i not in self._lines:
            self._lines[i] = self._line(env.X[i])
        return self._lines[i]

    def _pmf_of(self, lines: list[str]) -> np.ndarray:
        pmf = np.asarray(self.vw.predict(["shared |s c", *lines]), dtype=float)
        return pmf / pmf.sum() if pmf.sum() > 0 else np.full(len(lines), 1 / max(1, len(lines)))

    def rank(self, env, allowed, k):
        idx = np.flatnonzero(allowed)
        if len(idx) == 0:
            return idx
        pmf = self._pmf_of([self._doc_line(env, i) for i in idx])
        first = int(self.rng.choice(len(idx), p=pmf))  # VW's exploration picks what is played
        order = np.argsort(-(pmf + 1e-9 * self.rng.random(len(idx))))
        order = np.concatenate([[first], order[order != first]])[:k]
        self._pmf = {int(idx[j]): float(pmf[j]) for j in order[:1]}
        return idx[order]

    def observe(self, x, events, now):
        targets, weights, _ = _signals(events)
        if not targets:
            return
        reward = float(np.average(targets, weights=weights))
        prob = max(next(iter(self._pmf.values()), 1.0), 1e-3)
        self.vw.learn(["shared |s c", f"0:{-reward:.4f}:{prob:.4f} {self._line(x)}"])

    def requests(self, env, allowed, quota):
        pool = candidate_requests(self.stated, rng=self.rng, count=96)
        if not pool:
            return []
        pmf = self._pmf_of([self._line(v) for v in request_vectors(pool)])
        return [pool[i] for i in np.argsort(-pmf)[:quota]]


# ---------------------------------------------------------------- metrics


def ndcg(relevance: np.ndarray, ranked: np.ndarray, allowed: np.ndarray, k: int = K_NDCG) -> float:
    """NDCG@k of ``ranked`` with graded relevance (P(complete) under the hidden taste), against
    the best k the allowed pool holds."""
    ideal = np.sort(relevance[allowed])[::-1][:k]
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    idcg = float(ideal @ disc[: len(ideal)])
    gains = relevance[ranked[:k]]
    return float(gains @ disc[: len(gains)]) / idcg if idcg > 0 else 0.0


def intra_list_diversity(X: np.ndarray) -> float:
    """Mean pairwise (1 - cosine similarity) of the feature vectors of one session's tracks."""
    if len(X) < 2:
        return 0.0
    sim = F.similarity(X, X)
    return float((1 - sim)[~np.eye(len(X), dtype=bool)].mean())


@dataclass
class SessionStats:
    skip_rate: float
    ndcg10: float
    diversity: float
    repeats: int
    avoided: int
    composed: int


@dataclass
class ListenerRun:
    sessions: list[SessionStats] = field(default_factory=list)
    model: taste.TasteModel | None = None


def run_listener(policy: Policy, listener: Listener, documents: DocumentModel, catalog, *, seed: int,
                 sessions: int, per_session: int, window_sessions: int = 2,
                 quota: int = QUOTA_PER_SESSION) -> ListenerRun:
    env = Environment(listener, documents, catalog, seed=seed, sessions=sessions, per_session=per_session,
                      window_sessions=window_sessions)
    rng = np.random.default_rng([seed, 19, listener.id])
    policy.begin(env.listener, rng, now=0.0)
    avoided = set(listener.stated.get("avoided_instruments") or ())
    run = ListenerRun()
    for s in range(sessions):
        env.begin_session(s)
        composed = policy.requests(env, env.allowed(), quota)
        env.add_composed(composed)
        allowed = env.allowed()
        first = policy.rank(env, allowed, PLAYLIST)
        n = ndcg(env.true_relevance(), first, allowed)
        played: list[int] = []
        skips = 0
        for t in range(per_session):
            allowed = env.allowed()
            ranked = first if t == 0 else policy.rank(env, allowed, PLAYLIST)
            if len(ranked) == 0:
                break
            doc = int(ranked[0])
            response, events = env.play(doc, t)
            policy.observe(env.X[doc], events, env.now)
            played.append(doc)
            skips += not response.completed
        window = [p.doc for p in env.plays if p.session > s - window_sessions and p.session <= s]
        run.sessions.append(SessionStats(
            skip_rate=skips / max(1, len(played)),
            ndcg10=n,
            diversity=intra_list_diversity(env.X[played]),
            repeats=len(window) - len(set(window)),
            avoided=sum(bool(env.pool[d].families & avoided) for d in played),
            composed=len(composed),
        ))
    run.model = getattr(policy, "model", None)
    return run


# ---------------------------------------------------------------- the experiment


@dataclass(frozen=True)
class Config:
    listeners: int = 400
    seeds: int = 16  # listeners are split over seeds (25 each); confidence intervals are over seeds
    sessions: int = 10
    per_session: int = 20
    cohort: int = 60  # separate listeners who teach the population prior and popularity
    window_sessions: int = 2
    quota: int = QUOTA_PER_SESSION
    base_seed: int = 9


def _ci(values: Sequence[float]) -> dict:
    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return {"mean": round(mean, 4), "ci95": [round(mean, 4), round(mean, 4)]}
    t = T_95.get(n - 1) or T_95[max(k for k in T_95 if k <= n - 1)]
    half = t * float(v.std(ddof=1)) / math.sqrt(n)
    return {"mean": round(mean, 4), "ci95": [round(mean - half, 4), round(mean + half, 4)]}


def learn_cohort(documents: DocumentModel, catalog, config: Config) -> tuple[taste.TasteModel, dict[int, float]]:
    """A separate cohort of simulated listeners: Cadenza (without a population prior) learns each
    of them, and their learned tastes become the population prior (empirical Bayes, as the
    service would from its own listeners); their completions under random exposure give each
    catalog track's completion rate (smoothed) for the popularity baseline."""
    population = Population(config.base_seed + 1000)
    seed = config.base_seed + 1000
    models = []
    plays = np.zeros(len(catalog))
    completes = np.zeros(len(catalog))
    for i in range(config.cohort):
        listener = population.listener(i)
        run = run_listener(TastePolicy(expected=documents.calibration.expected), listener, documents, catalog,
                           seed=seed, sessions=config.sessions, per_session=config.per_session,
                           window_sessions=config.window_sessions, quota=config.quota)
        models.append(run.model)
        env = Environment(listener, documents, catalog, seed=seed, sessions=2, per_session=config.per_session)
        rng = np.random.default_rng([seed, 23, i])
        for s in range(2):
            env.begin_session(s)
            for t, doc in enumerate(rng.permutation(np.flatnonzero(env.allowed()))[: config.per_session]):
                response, _ = env.play(int(doc), t)
                plays[doc] += 1
                completes[doc] += response.completed
    rates = (completes + 1) / (plays + 2)
    return taste.population_prior(models), {d.id: float(rates[i]) for i, d in enumerate(catalog)}


POLICIES = ("cadenza", "random", "popularity", "stated", "bandit", "oracle")


def bandit_available() -> bool:
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


def evaluate(runs: Sequence[Mapping], config: Config = Config(), *, policies: Sequence[str] = POLICIES,
             progress: Callable[[str], None] | None = None) -> dict:
    """Run every policy on the same listeners and seeds; per-session figures with 95 % CIs."""
    started = time.perf_counter()
    documents = DocumentModel(runs)
    catalog = documents.catalog(config.base_seed)
    population_prior, rates = learn_cohort(documents, catalog, config)
    expected = documents.calibration.expected
    makers: dict[str, Callable[[], Policy]] = {
        "cadenza": lambda: TastePolicy(population=population_prior, expected=expected),
        "random": RandomPolicy,
        "popularity": lambda: PopularityPolicy(rates),
        "stated": lambda: StatedPolicy(expected=expected),
        "bandit": BanditPolicy,
        "oracle": lambda: OraclePolicy(expected=expected),
    }
    missing = []
    if "bandit" in policies and not bandit_available():
        missing.append("bandit: vowpalwabbit is not installed (pip install -e '.[eval]')")
        policies = [p for p in policies if p != "bandit"]
    per_seed = max(1, config.listeners // config.seeds)
    # results[policy][seed] -> list of ListenerRun
    results: dict[str, list[list[ListenerRun]]] = {p: [] for p in policies}
    timings: dict[str, float] = dict.fromkeys(policies, 0.0)
    for s in range(config.seeds):
        seed = config.base_seed + s
        population = Population(config.base_seed)  # one mixed population; listeners differ by seed
        listeners = [population.listener(s * per_seed + i) for i in range(per_seed)]
        for name in policies:
            t0 = time.perf_counter()
            results[name].append([run_listener(makers[name](), lst, documents, catalog, seed=seed,
                                               sessions=config.sessions, per_session=config.per_session,
                                               window_sessions=config.window_sessions, quota=config.quota)
                                  for lst in listeners])
            timings[name] += time.perf_counter() - t0
        if progress:
            progress(f"seed {s + 1}/{config.seeds}")
    return report(results, config, timings=timings, missing=missing, documents=documents,
                  seconds=time.perf_counter() - started, per_seed=per_seed)


def _seed_means(runs: list[list[ListenerRun]], session: int, attr: str) -> list[float]:
    return [float(np.mean([getattr(r.sessions[session], attr) for r in seed_runs])) for seed_runs in runs]


def report(results, config: Config, *, timings, missing, documents, seconds, per_seed) -> dict:
    metrics = ("skip_rate", "ndcg10", "diversity", "repeats", "avoided", "composed")
    out: dict = {
        "config": {**config.__dict__, "listeners": per_seed * config.seeds, "listeners_per_seed": per_seed},
        "catalog": {"tracks": len(documents.runs), "calibration": documents.calibration.report},
        "policies": {},
        "missing": missing,
    }
    for name, runs in results.items():
        sessions = []
        for s in range(config.sessions):
            row = {m: _ci(_seed_means(runs, s, m)) for m in metrics}
            row["repeats_total"] = int(sum(r.sessions[s].repeats for seed_runs in runs for r in seed_runs))
            row["avoided_total"] = int(sum(r.sessions[s].avoided for seed_runs in runs for r in seed_runs))
            sessions.append(row)
        out["policies"][name] = {"sessions": sessions, "seconds": round(timings[name], 1)}
    if "random" in results and "oracle" in results:
        for name, runs in results.items():
            for s, row in enumerate(out["policies"][name]["sessions"]):
                for m, sign in (("ndcg10", 1), ("skip_rate", -1)):
                    gaps = []
                    for seed_i in range(config.seeds):
                        mine = np.mean([getattr(r.sessions[s], m) for r in runs[seed_i]])
                        rnd = np.mean([getattr(r.sessions[s], m) for r in results["random"][seed_i]])
                        orc = np.mean([getattr(r.sessions[s], m) for r in results["oracle"][seed_i]])
                        gaps.append(sign * (mine - rnd) / (sign * (orc - rnd)) if sign * (orc - rnd) > 1e-9 else float("nan"))
                    row[f"gap_closed_{m}"] = _ci(gaps)
    out["goals"] = goals(out, config)
    out["seconds"] = round(seconds, 1)
    return out


def _apart(a: dict, b: dict) -> bool:
    """a's 95 % CI lies entirely on the better (higher) side of b's."""
    return a["ci95"][0] > b["ci95"][1]


def goals(out: dict, config: Config) -> dict:
    p = out["policies"]
    if "cadenza" not in p or "random" not in p:
        return {}
    last = config.sessions - 1
    cad, rnd = p["cadenza"]["sessions"], p["random"]["sessions"]
    g: dict = {
        "skip_rate_last_vs_random": {
            "value": round(cad[last]["skip_rate"]["mean"] / max(1e-9, rnd[last]["skip_rate"]["mean"]), 3),
            "goal": "<= 0.5"},
        "diversity_vs_random": {
            "value": round(min(c["diversity"]["mean"] / max(1e-9, r["diversity"]["mean"]) for c, r in zip(cad, rnd, strict=True)), 3),
            "goal": ">= 0.8 (worst session)"},
        "repeats_in_window": {"value": sum(s["repeats_total"] for s in cad), "goal": "0"},
        "avoided_instruments": {"value": sum(s["avoided_total"] for s in cad), "goal": "0"},
    }
    if "gap_closed_ndcg10" in cad[last]:
        g["gap_closed_ndcg10_last"] = {"value": cad[last]["gap_closed_ndcg10"]["mean"], "goal": ">= 0.8"}
        g["gap_closed_skip_rate_last"] = {"value": cad[last]["gap_closed_skip_rate"]["mean"], "goal": ">= 0.8"}
    for rival in ("bandit", "stated"):
        if rival in p and config.sessions >= 3:
            rows = p[rival]["sessions"]
            g[f"ahead_of_{rival}_from_session_3"] = {
                "skip_rate": all(_apart({"ci95": [-c["skip_rate"]["ci95"][1], -c["skip_rate"]["ci95"][0]]},
                                        {"ci95": [-r["skip_rate"]["ci95"][1], -r["skip_rate"]["ci95"][0]]})
                                 for c, r in zip(cad[2:], rows[2:], strict=True)),
                "ndcg10": all(_apart(c["ndcg10"], r["ndcg10"]) for c, r in zip(cad[2:], rows[2:], strict=True)),
                "goal": "CIs apart in every session from 3 on",
            }
    for goal in g.values():
        if "value" in goal:
            v = goal["value"]
            rule = goal["goal"]
            goal["met"] = bool(
                (rule.startswith("<=") and v <= float(rule.split()[1]))
                or (rule.startswith(">=") and v >= float(rule.split()[1]))
                or (rule == "0" and v == 0)
            )
        else:
            goal["met"] = goal["skip_rate"] and goal["ndcg10"]
    return g
