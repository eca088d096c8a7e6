"""Ranking: never a disallowed track; exploration widens; MMR spreads the list out."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommendations.engine import features as F
from recommendations.engine.ranking import mmr, rank
from recommendations.engine.taste import prior_from_preferences, update

from .strategies import PREFS


def _catalog(n, seed=0):
    """n tracks over the styles, moods, tempi and instruments a real catalog spans."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        style = F.STYLE_SLUGS[int(rng.integers(len(F.STYLE_SLUGS)))]
        measured = {
            "tempo": float(rng.uniform(55, 170)), "key_tonic": int(rng.integers(12)),
            "mode": ("major", "minor")[int(rng.integers(2))], "time_signature": ("4/4", "3/4", "6/8")[int(rng.integers(3))],
            "density": float(rng.uniform(0.8, 7)), "pitch_mean": float(rng.uniform(50, 74)),
            "pitch_min": 40, "pitch_max": 84, "polyphony": float(rng.uniform(1, 5)),
            "families": list(F.heard_families(style)),
        }
        mood = (*F.MOODS, None)[int(rng.integers(len(F.MOODS) + 1))]
        rows.append(F.track_vector(measured, style=style, mood=mood, duration_s=float(rng.uniform(40, 300))))
    return np.array(rows, dtype=np.float32)


CATALOG = _catalog(400)


def _ild(X):
    sim = F.similarity(X, X)
    n = len(X)
    return float((1 - sim)[~np.eye(n, dtype=bool)].mean())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.floats(0, 1), st.floats(0, 1))
def test_it_never_returns_a_disallowed_track_nor_one_twice(seed, k, share, exploration):
    rng = np.random.default_rng(seed)
    allowed = rng.random(len(CATALOG)) < share
    ranked = rank(prior_from_preferences(PREFS), CATALOG, exploration=exploration, rng=rng, k=k, allowed=allowed)
    assert allowed[ranked.indices].all()
    assert len(set(ranked.indices.tolist())) == len(ranked.indices) == min(k, int(allowed.sum()))
    assert ranked.scores.shape == ranked.explore.shape == ranked.indices.shape


def test_it_ranks_what_the_listener_likes_first():
    model = prior_from_preferences(PREFS)
    ranked = rank(model, CATALOG, exploration=0.0, rng=np.random.default_rng(1), k=10, diversity=0.0)
    top_styles = [F.STYLE_SLUGS[int(np.argmax(CATALOG[i][F.S_STYLE]))] for i in ranked.indices]
    assert sum(s in ("piano", "chamber") for s in top_styles) >= 6  # 2 of 7 styles: ~3 by chance


def test_mmr_raises_the_diversity_of_the_list():
    model = prior_from_preferences(PREFS)
    plain = rank(model, CATALOG, exploration=0.0, rng=np.random.default_rng(2), k=20, diversity=0.0)
    spread = rank(model, CATALOG, exploration=0.0, rng=np.random.default_rng(2), k=20, diversity=0.5)
    assert _ild(CATALOG[spread.indices]) > _ild(CATALOG[plain.indices]) + 0.02


def test_mmr_with_no_diversity_keeps_the_relevance_order():
    rel = np.array([0.2, 0.9, 0.5, 0.7])
    assert mmr(rel, np.ones((4, 4)), 3, 0.0).tolist() == [1, 3, 2]
    # with identical items, diversity cannot help: still the relevance order
    picks = mmr(rel, np.eye(4), 4, 0.5)
    assert picks.tolist() == [1, 3, 2, 0]


def test_exploration_widens_the_draw_and_marks_its_slots():
    model = prior_from_preferences(PREFS)

    def flagged(exploration):
        rng = np.random.default_rng(3)
        return np.mean([rank(model, CATALOG, exploration=exploration, rng=rng, k=20).explore.mean() for _ in range(30)])

    low, high = flagged(0.0), flagged(1.0)
    assert high > low
    assert 0 < high < 1


def test_a_listener_who_keeps_skipping_a_style_stops_being_offered_it():
    model = prior_from_preferences({})
    folk = np.array([i for i in range(len(CATALOG)) if CATALOG[i][F.S_STYLE][F.STYLE_SLUGS.index("folk")] == 1])
    before = rank(model, CATALOG, exploration=0.3, rng=np.random.default_rng(4), k=20).indices
    model = update(model, CATALOG[folk[:8]], -np.ones(8), np.ones(8), ages_s=np.zeros(8), now=1.0, kinds=["skip"] * 8)
    after = rank(model, CATALOG, exploration=0.3, rng=np.random.default_rng(4), k=20).indices
    assert np.isin(after, folk).sum() < max(1, np.isin(before, folk).sum())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.floats(0, 1))
def test_the_fast_top_pool_is_the_exact_top(seed, m, barred):
    from recommendations.engine.ranking import top_pool

    rng = np.random.default_rng(seed)
    scores = rng.standard_normal(50_000).astype(np.float32)
    scores[rng.random(len(scores)) < barred] = -np.inf
    got = top_pool(scores, m)
    finite = np.flatnonzero(np.isfinite(scores))
    want = finite[np.argsort(-scores[finite], kind="stable")][:m]
    assert np.array_equal(np.sort(scores[got]), np.sort(scores[want]))
