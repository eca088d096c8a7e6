"""A simulator of listeners in the manner of RecSim: a user model, a document model, an environment.

**Documents.** The catalog is real generated tracks: their measured attributes come from the
committed sample of real compose runs (``data/tracks.json``, made by ``sampledata``). A track is
heard as it truly is (``x_true``) but the service only knows what it measured, and measurement
carries noise (``MeasurementNoise``: tempo ±3 %, density ±8 %, register ±1 semitone, polyphony,
and now and then a key or mode read wrong), so the service sees ``x_obs``. Tracks composed during
the simulation (compose-next) get attributes drawn from how requests map to measured attributes
in the real runs (``Calibration.draw``).

**Listeners.** Each has a hidden taste ``θ`` over feat-v1, drawn from a *mixed* population: one of
``N_ARCHETYPES`` archetypes (favourite styles, a preferred tempo and energy, liked and disliked
instrument families, a leaning to major or minor, a preferred length), plus individual variation.
Some hate an instrument family outright. Their utility for a track is ``u = θ·x_true``. They
*state* preferences that are only partly right: each stated item is sometimes wrong (a random
style instead of a favourite, a tempo range off to one side) and sometimes missing (left at the
default); a hated family is stated as avoided only most of the time. Playing a track, a listener
completes it with probability ``sigmoid(BETA · (u - CUT))``, rising with its utility; otherwise
they skip, at a point in the track that comes earlier the worse the fit. A completed track is
sometimes liked or saved, a track left at once sometimes disliked. Between sessions tastes drift
a little (a random walk of ``DRIFT`` per weight per session).

**Environment.** Steps one listener through sessions of tracks: which tracks are allowed (not
heard within the repeat window, no stated-avoided instrument), plays one, returns the listener's
events, and adds newly composed tracks. All random draws that decide the listener's reactions
come from streams seeded by (seed, listener), so every policy meets the same listeners with the
same luck.

Pure module: numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from recommendations.engine import features as F
from recommendations.engine.calibration import Calibration

DAY_S = 86400.0
N_ARCHETYPES = 6
BETA = 2.5  # steepness of completion probability in utility
CUT = 0.35  # utility at which a track is completed half of the time
DRIFT = 0.03  # std of the per-session random walk of each taste weight
HATED_WEIGHT = -2.0  # a hated instrument family
STATED_AVOID_P = 0.8  # a hated family is stated as avoided this often
WRONG_P = 0.25  # a stated item is wrong this often
MISSING_P = 0.25  # ... and left unstated this often


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class MeasurementNoise:
    """What the service's measurement gets wrong (per track, once: measuring is deterministic)."""

    tempo_rel: float = 0.03
    density_rel: float = 0.08
    pitch: float = 1.0
    polyphony: float = 0.15
    key_slip: float = 0.1
    mode_slip: float = 0.08

    def observe(self, measured: Mapping, rng: np.random.Generator) -> dict:
        m = dict(measured)
        if m.get("tempo"):
            m["tempo"] = float(m["tempo"]) * math.exp(rng.normal(0, self.tempo_rel))
        if m.get("density"):
            m["density"] = float(m["density"]) * math.exp(rng.normal(0, self.density_rel))
        if m.get("pitch_mean") is not None:
            m["pitch_mean"] = float(m["pitch_mean"]) + rng.normal(0, self.pitch)
        if m.get("polyphony") is not None:
            m["polyphony"] = max(0.0, float(m["polyphony"]) + rng.normal(0, self.polyphony))
        if m.get("key_tonic") is not None and rng.random() < self.key_slip:
            m["key_tonic"] = (int(m["key_tonic"]) + (7, 5, 9, 3)[int(rng.integers(4))]) % 12
        if m.get("mode") in ("major", "minor") and rng.random() < self.mode_slip:
            m["mode"] = "minor" if m["mode"] == "major" else "major"
        return m


@dataclass(frozen=True)
class Document:
    id: int
    style: str
    mood: str | None
    duration_s: float
    families: frozenset[str]
    x_true: np.ndarray  # what the listener hears
    x_obs: np.ndarray  # what the service measured
    owner: int | None = None  # composed for this listener (private), None for the catalog
    request: Mapping | None = None


class DocumentModel:
    """Real tracks as the catalog; new tracks drawn from the real request → measured mapping."""

    def __init__(self, runs: Sequence[Mapping], *, noise: MeasurementNoise | None = None):
        self.runs = [r for r in runs if r.get("measured")]
        self.calibration = Calibration.fit(self.runs)
        self.noise = noise or MeasurementNoise()

    def _document(self, doc_id: int, measured: Mapping, *, style, mood, duration_s, rng, owner=None,
                  request=None) -> Document:
        seen = self.noise.observe(measured, rng)
        return Document(
            id=doc_id, style=style, mood=mood, duration_s=float(duration_s),
            families=frozenset(measured.get("families") or ()),
            x_true=F.track_vector(measured, style=style, mood=mood, duration_s=duration_s),
            x_obs=F.track_vector(seen, style=style, mood=mood, duration_s=duration_s),
            owner=owner, request=request,
        )

    def catalog(self, seed: int) -> list[Document]:
        """The shared catalog: every real track (its measurement noise drawn from ``seed``)."""
        rng = np.random.default_rng([seed, 1])
        return [self._document(i, r["measured"], style=r["style"], mood=r.get("mood"),
                               duration_s=r["duration_s"], rng=rng) for i, r in enumerate(self.runs)]

    def compose(self, doc_id: int, request: Mapping, rng: np.random.Generator, *, owner: int) -> Document:
        measured = self.calibration.draw(request, rng)
        return self._document(doc_id, measured, style=request["style"], mood=request.get("mood"),
                              duration_s=measured["duration_s"], rng=rng, owner=owner, request=request)


# ---------------------------------------------------------------- listeners


def _peak(n: int, at: float, width: float, amplitude: float) -> np.ndarray:
    """A bump over n ordered bins: +amplitude at ``at``, about -amplitude/2 far from it."""
    d = (np.arange(n) - at) / width
    return amplitude * (1.5 * np.exp(-0.5 * d * d) - 0.5)


def _archetype(rng: np.random.Generator) -> np.ndarray:
    theta = np.zeros(F.D)
    theta[F.I_BIAS] = rng.normal(0.0, 0.15)
    styles = rng.normal(-0.35, 0.25, len(F.STYLE_SLUGS))
    fav = rng.choice(len(styles), size=int(rng.integers(1, 3)), replace=False)
    styles[fav] = rng.uniform(0.6, 1.0, len(fav))
    theta[F.S_STYLE] = styles
    theta[F.S_TEMPO] = _peak(4, rng.uniform(0, 3), 0.9, rng.uniform(0.3, 0.6))
    theta[F.S_ENERGY] = _peak(3, rng.uniform(0, 2), 0.8, rng.uniform(0.2, 0.5))
    theta[F.S_REGISTER] = _peak(3, rng.uniform(0, 2), 0.8, rng.uniform(0.0, 0.2))
    theta[F.S_LENGTH] = _peak(3, rng.uniform(0, 2), 0.8, rng.uniform(0.1, 0.3))
    theta[F.I_MINOR] = rng.normal(0, 0.35)
    theta[F.S_METRE] = rng.normal(0, 0.1, len(F.METRES))
    theta[F.I_KEY] = rng.normal(0, 0.05, 2)
    theta[F.I_SPAN] = rng.normal(0, 0.15)
    theta[F.I_POLY] = rng.normal(0, 0.2)
    fams = rng.normal(0, 0.2, len(F.FAMILIES))
    picks = rng.choice(len(fams), size=4, replace=False)
    fams[picks[:2]] = rng.uniform(0.3, 0.6, 2)
    fams[picks[2:]] = rng.uniform(-0.7, -0.3, 2)
    theta[F.S_FAMILY] = fams
    theta[F.S_MOOD] = rng.normal(0, 0.1, len(F.MOODS))  # a label a listener reads, not hears
    return theta


@dataclass
class Listener:
    id: int
    archetype: int
    theta: np.ndarray  # hidden taste; drifts between sessions
    stated: dict  # what they told the service (partly right)
    hated: frozenset[str]  # families they truly cannot stand

    def utility(self, x_true: np.ndarray) -> np.ndarray:
        return np.asarray(x_true) @ self.theta

    def p_complete(self, x_true: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-BETA * (self.utility(x_true) - CUT)))


@dataclass(frozen=True)
class Response:
    completed: bool
    fraction: float  # how far into the track they got
    liked: bool = False
    saved: bool = False
    disliked: bool = False

    def events(self, duration_s: float) -> list[tuple[str, int, int]]:
        """(kind, position_ms, duration_ms) as the app would send them."""
        dur = int(duration_s * 1000)
        out = [("play", 0, dur)]
        if self.completed:
            out.append(("complete", dur, dur))
        else:
            out.append(("skip", int(self.fraction * dur), dur))
        for kind, on in (("like", self.liked), ("save", self.saved), ("dislike", self.disliked)):
            if on:
                out.append((kind, int(self.fraction * dur), dur))
        return out


def respond(p: float, u: np.ndarray) -> Response:
    """The listener's reaction to a track they complete with probability p, from uniforms u (5,)."""
    if u[0] < p:
        liked = u[2] < 0.5 * p * p
        return Response(True, 1.0, liked=liked, saved=liked and u[3] < 0.3)
    # the worse the fit, the earlier the skip: Beta(1 + 4p, 1 + 4(1 - p)) of the way in
    a, b = 1 + 4 * p, 1 + 4 * (1 - p)
    fraction = 0.95 * _beta_quantile(u[1], a, b)
    return Response(False, fraction, disliked=fraction < 0.2 and u[4] < 0.3)


def _beta_quantile(q: float, a: float, b: float) -> float:
    """Inverse CDF of Beta(a, b) by bisection on a fixed grid (pure numpy, deterministic)."""
    x = np.linspace(0, 1, 401)
    pdf = x ** (a - 1) * (1 - x) ** (b - 1)
    cdf = np.cumsum(pdf)
    cdf /= cdf[-1]
    return float(np.interp(q, cdf, x))


def _range_around(centre: float, half: float, lo: float, hi: float) -> tuple[int, int]:
    return int(max(lo, centre - half)), int(min(hi, centre + half))


def stated_preferences(theta: np.ndarray, hated: frozenset[str], rng: np.random.Generator) -> dict:
    """What a listener with hidden taste θ says they like: partly right, some wrong, some missing."""

    def fate() -> str:
        r = rng.random()
        return "wrong" if r < WRONG_P else "missing" if r < WRONG_P + MISSING_P else "right"

    prefs: dict = {"styles": [], "moods": [], "tempo_min": 70, "tempo_max": 130, "energy": 0.5,
                   "preferred_instruments": [], "avoided_instruments": [], "mode": "any",
                   "length_min_s": 120, "length_max_s": 240, "exploration": round(float(rng.uniform(0.1, 0.6)), 2)}
    order = np.argsort(-theta[F.S_STYLE])
    for s in order[: int(rng.integers(1, 3))]:
        f = fate()
        if f == "right":
            prefs["styles"].append(F.STYLE_SLUGS[s])
        elif f == "wrong":
            prefs["styles"].append(F.STYLE_SLUGS[int(rng.integers(len(F.STYLE_SLUGS)))])
    prefs["styles"] = sorted(set(prefs["styles"]))
    f = fate()
    if f != "missing":
        m = int(np.argmax(theta[F.S_MOOD])) if f == "right" else int(rng.integers(len(F.MOODS)))
        prefs["moods"] = [F.MOODS[m]]
    f = fate()
    if f != "missing":
        centre = F.TEMPO.value(np.clip(theta[F.S_TEMPO] - theta[F.S_TEMPO].min(), 0, None) ** 2)
        if f == "wrong":
            centre *= math.exp(rng.choice([-1, 1]) * rng.uniform(0.3, 0.5))
        prefs["tempo_min"], prefs["tempo_max"] = _range_around(centre, rng.uniform(15, 35), 40, 220)
    f = fate()
    if f != "missing":
        e = int(np.argmax(theta[F.S_ENERGY])) / 2 if f == "right" else rng.random()
        prefs["energy"] = round(float(np.clip(e + rng.normal(0, 0.1), 0, 1)), 2)
    fam = theta[F.S_FAMILY].copy()
    for i in np.argsort(-fam)[:2]:
        f = fate()
        if f == "right":
            prefs["preferred_instruments"].append(F.FAMILIES[i])
        elif f == "wrong":
            prefs["preferred_instruments"].append(F.FAMILIES[int(rng.integers(len(F.FAMILIES)))])
    prefs["preferred_instruments"] = sorted(set(prefs["preferred_instruments"]) - hated)
    prefs["avoided_instruments"] = sorted(h for h in hated if rng.random() < STATED_AVOID_P)
    f = fate()
    if f != "missing" and abs(theta[F.I_MINOR]) > 0.2:
        minor = theta[F.I_MINOR] > 0
        prefs["mode"] = ("minor" if minor else "major") if f == "right" else ("major" if minor else "minor")
    f = fate()
    if f == "right":
        centre = F.LENGTH.value(np.clip(theta[F.S_LENGTH] - theta[F.S_LENGTH].min(), 0, None) ** 2)
        prefs["length_min_s"], prefs["length_max_s"] = _range_around(centre, centre * 0.4, 30, 600)
    return prefs


class Population:
    """A mixed population of listeners: archetypes plus individual variation."""

    def __init__(self, seed: int, *, n_archetypes: int = N_ARCHETYPES, hateable: Sequence[str] = ()):
        rng = np.random.default_rng([seed, 7])
        self.seed = seed
        self.archetypes = [_archetype(rng) for _ in range(n_archetypes)]
        self.weights = rng.dirichlet(np.full(n_archetypes, 3.0))
        self.hateable = tuple(hateable) or ("drums", "brass", "synth_lead", "ethnic", "organ", "strings")

    def listener(self, i: int) -> Listener:
        rng = np.random.default_rng([self.seed, 11, i])
        k = int(rng.choice(len(self.archetypes), p=self.weights))
        theta = self.archetypes[k] + rng.normal(0, 0.15, F.D)
        theta[F.S_STYLE] += rng.normal(0, 0.2, len(F.STYLE_SLUGS))
        hated = frozenset([self.hateable[int(rng.integers(len(self.hateable)))]]) if rng.random() < 0.35 else frozenset()
        for h in hated:
            theta[F.S_FAMILY.start + F.FAMILIES.index(h)] = HATED_WEIGHT
        return Listener(i, k, theta, stated_preferences(theta, hated, rng), hated)


# ---------------------------------------------------------------- environment


@dataclass
class Play:
    doc: int  # position in the environment's pool
    at: float
    session: int
    response: Response


@dataclass
class Environment:
    """One listener over ``sessions`` sessions of ``per_session`` tracks (one session a day)."""

    listener: Listener
    documents: DocumentModel
    catalog: list[Document]
    seed: int
    sessions: int = 10
    per_session: int = 20
    window_sessions: int = 2  # never repeat what was heard in this many sessions (this one and the last)
    pool: list[Document] = field(init=False)
    X: np.ndarray = field(init=False)  # (N, D) float32 what the service knows of each pool track
    plays: list[Play] = field(init=False, default_factory=list)
    now: float = field(init=False, default=0.0)
    session: int = field(init=False, default=-1)

    def __post_init__(self) -> None:
        self.listener = replace(self.listener, theta=self.listener.theta.copy())
        self.pool = list(self.catalog)
        self.X = np.array([d.x_obs for d in self.pool], dtype=np.float32).reshape(-1, F.D)
        self._X_true = np.array([d.x_true for d in self.pool]).reshape(-1, F.D)
        rng = np.random.default_rng([self.seed, 13, self.listener.id])
        self._uniforms = rng.random((self.sessions, self.per_session, 5))
        self._drift = rng.normal(0, DRIFT, (self.sessions, F.D))
        self._compose_rng = np.random.default_rng([self.seed, 17, self.listener.id])
        avoided = set(self.listener.stated.get("avoided_instruments") or ())
        self._avoid_ok = np.array([not (d.families & avoided) for d in self.pool], dtype=bool)
        self._last_heard = np.full(len(self.pool), -10**9)

    # -- time
    def begin_session(self, s: int) -> None:
        self.session = s
        if s > 0:
            self.listener.theta = self.listener.theta + self._drift[s]
        self.now = s * DAY_S + 18 * 3600.0

    # -- what may be played
    def allowed(self) -> np.ndarray:
        return self._avoid_ok & (self._last_heard < self.session - self.window_sessions + 1)

    def true_relevance(self) -> np.ndarray:
        """P(complete) of each pool track for the listener's current hidden taste."""
        return self.listener.p_complete(self._X_true)

    # -- stepping
    def play(self, doc: int, step: int) -> tuple[Response, list[tuple[str, int, int]]]:
        d = self.pool[doc]
        p = float(self.listener.p_complete(d.x_true))
        response = respond(p, self._uniforms[self.session, step])
        self.plays.append(Play(doc, self.now, self.session, response))
        self._last_heard[doc] = self.session
        self.now += d.duration_s * (response.fraction if not response.completed else 1.0)
        return response, response.events(d.duration_s)

    def add_composed(self, requests: Sequence[Mapping]) -> list[int]:
        """Compose each request (attributes from real runs' mapping); their pool positions."""
        out = []
        avoided = set(self.listener.stated.get("avoided_instruments") or ())
        for q in requests:
            doc = self.documents.compose(len(self.pool), q, self._compose_rng, owner=self.listener.id)
            self.pool.append(doc)
            out.append(len(self.pool) - 1)
            self.X = np.vstack([self.X, doc.x_obs[None].astype(np.float32)])
            self._X_true = np.vstack([self._X_true, doc.x_true[None]])
            self._avoid_ok = np.append(self._avoid_ok, not (doc.families & avoided))
            self._last_heard = np.append(self._last_heard, -10**9)
        return out

    def recent(self, sessions: int = 1) -> np.ndarray:
        """Vectors of what was played in the last ``sessions`` sessions (the service's view)."""
        idx = [p.doc for p in self.plays if p.session > self.session - sessions - 1]
        return self.X[idx] if idx else np.zeros((0, F.D), np.float32)
