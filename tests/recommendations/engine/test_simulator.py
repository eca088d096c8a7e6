"""The simulator behaves like listeners, and in it Cadenza beats a random order."""

import numpy as np
import pytest

from recommendations.engine import evaluation, sampledata
from recommendations.engine import features as F
from recommendations.engine.simulator import DocumentModel, Environment, Population, respond

RUNS = sampledata.load()["tracks"]


@pytest.fixture(scope="module")
def documents():
    return DocumentModel(RUNS)


def test_the_catalog_is_the_real_compose_runs_measured_with_noise(documents):
    catalog = documents.catalog(1)
    assert len(catalog) == len(RUNS) >= 100
    x_true = np.array([d.x_true for d in catalog])
    x_obs = np.array([d.x_obs for d in catalog])
    differs = np.abs(x_true - x_obs).max(axis=1) > 1e-6
    assert 0.5 < differs.mean() <= 1.0  # measurement carries noise ...
    assert np.array_equal(x_true[:, F.S_STYLE], x_obs[:, F.S_STYLE])  # ... but not about the style


def test_a_listener_completes_more_often_the_better_the_fit_and_skips_earlier_the_worse():
    u = np.random.default_rng(0).random((4000, 5))
    good = [respond(0.9, row) for row in u]
    bad = [respond(0.1, row) for row in u]
    assert np.mean([r.completed for r in good]) > 0.85 > 0.15 > np.mean([r.completed for r in bad])
    early = np.mean([r.fraction for r in bad if not r.completed])
    late = np.mean([r.fraction for r in good if not r.completed])
    assert early < 0.3 < late


def test_stated_preferences_are_partly_right(documents):
    population = Population(3)
    listeners = [population.listener(i) for i in range(200)]
    right = wrong = 0
    for lst in listeners:
        best = set(np.argsort(-lst.theta[F.S_STYLE])[:2])
        for s in lst.stated["styles"]:
            right += F.STYLE_SLUGS.index(s) in best
            wrong += F.STYLE_SLUGS.index(s) not in best
    missing = sum(not lst.stated["styles"] for lst in listeners)
    assert right > wrong > 0 and missing > 0
    assert len({lst.archetype for lst in listeners}) > 3  # a mixed population
    hated = [lst for lst in listeners if lst.hated]
    assert hated and any(not lst.stated["avoided_instruments"] for lst in hated)


def test_compose_next_in_the_simulation_delivers_what_real_runs_deliver(documents):
    request = dict(RUNS[0]["request"])
    env = Environment(Population(1).listener(0), documents, documents.catalog(1), seed=1)
    env.begin_session(0)
    before = len(env.pool)
    env.add_composed([request] * 20)
    made = env.pool[before:]
    assert len(made) == 20 and all(d.owner == 0 and d.style == request["style"] for d in made)
    tempi = [F.TEMPO.value(d.x_true[F.S_TEMPO]) for d in made]
    assert len(set(np.round(tempi, 1))) > 5  # real runs' residuals, not one fixed answer


def test_tastes_drift_a_little_between_sessions(documents):
    env = Environment(Population(1).listener(0), documents, documents.catalog(1), seed=1)
    start = env.listener.theta.copy()
    for s in range(10):
        env.begin_session(s)
    moved = np.abs(env.listener.theta - start)
    assert 0.0 < moved.mean() < 0.2


def test_the_quick_evaluation_shows_cadenza_beating_random():
    config = evaluation.Config(listeners=12, seeds=3, sessions=4, per_session=10, cohort=6)
    report = evaluation.evaluate(RUNS, config, policies=["cadenza", "random"])
    cad, rnd = (report["policies"][p]["sessions"] for p in ("cadenza", "random"))
    later = range(1, config.sessions)
    assert np.mean([cad[s]["skip_rate"]["mean"] for s in later]) < 0.8 * np.mean([rnd[s]["skip_rate"]["mean"] for s in later])
    assert np.mean([cad[s]["ndcg10"]["mean"] for s in later]) > np.mean([rnd[s]["ndcg10"]["mean"] for s in later]) + 0.05
    assert report["goals"]["repeats_in_window"]["value"] == 0
    assert report["goals"]["avoided_instruments"]["value"] == 0
