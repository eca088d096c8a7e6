"""Compose next: requests stay inside the stated ranges, avoid what is avoided, follow the taste."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from generation.model.conditioning import Conditioning
from recommendations.engine import features as F
from recommendations.engine.compose_next import candidate_requests, choose_requests, request_vectors
from recommendations.engine.taste import prior_from_preferences, update

from .strategies import PREFS, preferences


def _conditioning(q):
    return Conditioning(q["tempo_bpm"], q["key_tonic"], q["mode"], q["time_signature"], q["density"],
                        q["register"], q["polyphony"], q["length_bars"], tuple(q["families"]))


@settings(max_examples=50, deadline=None)
@given(preferences, st.integers(0, 2**32 - 1))
def test_requests_stay_within_the_stated_ranges_and_avoid_avoided_instruments(prefs, seed):
    requests = choose_requests(prior_from_preferences(prefs), prefs, rng=np.random.default_rng(seed), n=3, candidates=32)
    for q in requests:
        _conditioning(q).validate()
        assert prefs["tempo_min"] <= q["tempo_bpm"] <= prefs["tempo_max"]
        assert prefs["length_min_s"] <= q["length_s"] <= prefs["length_max_s"]
        if prefs["styles"] and any(F.heard_families(s, prefs["avoided_instruments"]) for s in prefs["styles"]):
            assert q["style"] in prefs["styles"]
        if prefs["moods"]:
            assert q["mood"] in prefs["moods"]
        if prefs["mode"] != "any":
            assert q["mode"] == prefs["mode"]
        avoided = set(prefs["avoided_instruments"])
        assert not avoided & set(q["families"])
        assert not avoided & set(F.heard_families(q["style"], q["avoid_instruments"]))
        assert set(q["avoid_instruments"]) == avoided


def test_a_rounded_tempo_stays_inside_a_range_with_uneven_bounds():
    prefs = {**PREFS, "tempo_min": 66.0 * 0.92, "tempo_max": 66.0 * 1.08}  # a radio's seed tempo ± 8 %
    for seed in range(40):
        for q in choose_requests(prior_from_preferences(prefs), prefs, rng=np.random.default_rng(seed), n=3):
            assert prefs["tempo_min"] <= q["tempo_bpm"] <= prefs["tempo_max"], q["tempo_bpm"]


def test_it_composes_what_the_taste_has_learned_to_like():
    prefs = {**PREFS, "styles": [], "moods": [], "mode": "any", "tempo_min": 60, "tempo_max": 170}
    model = prior_from_preferences(prefs)
    # the listener finished every fast electronic piece and skipped everything else early
    X = request_vectors(candidate_requests(prefs, rng=np.random.default_rng(0), count=60))
    y = np.where((X[:, F.S_STYLE][:, F.STYLE_SLUGS.index("electronic")] == 1), 1.0, -1.0)
    model = update(model, X, y, np.ones(len(y)), ages_s=np.zeros(len(y)), now=1.0)
    requests = choose_requests(model, prefs, rng=np.random.default_rng(1), n=5)
    assert sum(q["style"] == "electronic" for q in requests) >= 4


def test_the_novelty_bonus_spreads_the_requests_out():
    model = prior_from_preferences(PREFS)

    def spread(novelty):
        out = []
        for seed in range(6):
            qs = choose_requests(model, PREFS, rng=np.random.default_rng(seed), n=8, novelty=novelty)
            V = np.array([F.request_vector(q, style=q["style"], mood=q["mood"], length_s=q["length_s"]) for q in qs])
            sim = F.similarity(V, V)
            out.append(float((1 - sim)[~np.eye(len(V), dtype=bool)].mean()))
        return np.mean(out)

    assert spread(3.0) > spread(0.0) + 0.02


def test_a_listener_who_avoids_everything_a_style_needs_gets_no_request_rather_than_a_wrong_one():
    prefs = {**PREFS, "styles": ["piano"], "avoided_instruments": list(F.FAMILIES)}
    assert choose_requests(prior_from_preferences(prefs), prefs, rng=np.random.default_rng(0), n=2) == []
