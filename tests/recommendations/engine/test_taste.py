"""Taste: the prior follows what was stated; events move it the way a listener would expect."""

import json

import numpy as np
import pytest
from hypothesis import given, settings

from recommendations.engine import features as F
from recommendations.engine.taste import (
    TasteModel,
    default_population,
    event_signal,
    explain,
    population_prior,
    prior_from_preferences,
    update,
)

from .strategies import PREFS, preferences

DAY = 86400.0


def _track(style, tempo, mode="minor", families=("piano",), mood=None):
    measured = {"tempo": tempo, "mode": mode, "key_tonic": 0, "time_signature": "4/4", "density": 2.0,
                "pitch_mean": 62, "pitch_min": 50, "pitch_max": 74, "polyphony": 1.0, "families": list(families)}
    return F.track_vector(measured, style=style, mood=mood, duration_s=150)


SLOW_PIANO = _track("piano", 66)
SLOW_PIANO_2 = _track("piano", 70, families=("piano", "strings"))
FAST_FOLK = _track("folk", 150, mode="major", families=("strings", "guitar", "drums"))


def _after(kind, *, position=0.0, model=None, track=SLOW_PIANO, now=DAY):
    model = model or prior_from_preferences({})
    target, weight = event_signal(kind, position_ms=int(position * 200_000), duration_ms=200_000)
    return update(model, track[None], np.array([target]), np.array([weight]), ages_s=np.zeros(1), now=now, kinds=[kind])


def _sampled_score(model, x, draws=400):
    rng = np.random.default_rng(0)
    return float(np.mean([model.sample(rng) @ x for _ in range(draws)]))


def test_a_skip_lowers_the_sampled_score_of_similar_tracks_more_than_of_different_ones():
    prior = prior_from_preferences({})
    skipped = _after("skip", position=0.05)
    drop_similar = _sampled_score(prior, SLOW_PIANO_2) - _sampled_score(skipped, SLOW_PIANO_2)
    drop_other = _sampled_score(prior, FAST_FOLK) - _sampled_score(skipped, FAST_FOLK)
    assert drop_similar > 0.1
    assert drop_similar > 1.25 * abs(drop_other)


def test_an_early_skip_counts_against_more_than_a_late_one_and_a_dislike_more_than_a_skip():
    early, late = _after("skip", position=0.05), _after("skip", position=0.85)
    dislike = _after("dislike", position=0.5)
    scores = [_sampled_score(m, SLOW_PIANO_2) for m in (late, early, dislike)]
    assert scores[0] > scores[1] > scores[2]


def test_complete_like_and_save_count_for_and_a_first_play_says_nothing():
    prior = _sampled_score(prior_from_preferences({}), SLOW_PIANO_2)
    for kind in ("complete", "like", "save"):
        assert _sampled_score(_after(kind, position=1.0), SLOW_PIANO_2) > prior + 0.1
    assert event_signal("play", position_ms=0, duration_ms=1000) is None
    assert event_signal("play", position_ms=0, duration_ms=1000, replay=True)[0] > 0
    assert event_signal("progress", position_ms=800, duration_ms=1000)[0] > event_signal(
        "progress", position_ms=200, duration_ms=1000)[0]


def test_old_feedback_decays_back_toward_the_prior():
    prior = prior_from_preferences({})
    fresh = _after("dislike", now=DAY)
    # the same dislike, seen again after sixty days of silence, then nothing new
    later = update(fresh, np.zeros((0, F.D)), np.zeros(0), np.zeros(0), ages_s=np.zeros(0), now=61 * DAY)
    base = prior.mean @ SLOW_PIANO
    assert fresh.mean @ SLOW_PIANO < base - 0.2
    assert fresh.mean @ SLOW_PIANO < later.mean @ SLOW_PIANO < base
    # an event that happened long ago weighs less than one that just happened
    old = update(prior, SLOW_PIANO[None], np.array([-1.0]), np.array([3.0]), ages_s=np.array([60 * DAY]), now=DAY)
    assert old.mean @ SLOW_PIANO > fresh.mean @ SLOW_PIANO


def test_the_prior_follows_stated_preferences():
    m = prior_from_preferences(PREFS)
    slow_minor_piano = _track("piano", 70, "minor")
    fast_major_electronic = _track("electronic", 150, "major", families=("synth_lead", "bass", "drums"))
    brass = _track("chamber", 70, "minor", families=("brass", "strings"))
    assert m.mean @ slow_minor_piano > m.mean @ fast_major_electronic + 0.5
    assert m.mean @ brass < m.mean @ _track("chamber", 70, "minor", families=("strings",)) - 0.5
    fast = prior_from_preferences({**PREFS, "tempo_min": 140, "tempo_max": 180})
    assert fast.mean @ _track("piano", 160) > fast.mean @ _track("piano", 62)


@settings(max_examples=40, deadline=None)
@given(preferences)
def test_any_stated_preferences_give_a_proper_prior(prefs):
    m = prior_from_preferences(prefs)
    assert np.all(np.isfinite(m.mean)) and np.all(np.linalg.eigvalsh(m.precision) > 0)


def test_a_population_prior_carries_what_listeners_share():
    # every learned listener liked slow piano beyond what they stated
    learned = []
    for i in range(20):
        m = prior_from_preferences({"energy": i / 20})
        m = update(m, np.repeat(SLOW_PIANO[None], 5, 0), np.ones(5), np.ones(5), ages_s=np.zeros(5), now=DAY)
        learned.append(m)
    pop = population_prior(learned)
    newcomer = prior_from_preferences({}, population=pop)
    blank = prior_from_preferences({})
    assert newcomer.mean @ SLOW_PIANO_2 > blank.mean @ SLOW_PIANO_2 + 0.2


def test_the_population_sums_of_one_pass_give_the_batch_mean_and_covariance():
    rng = np.random.default_rng(5)
    learned = []
    for i in range(12):
        m = prior_from_preferences({"energy": i / 12, "styles": ["piano"] if i % 2 else []})
        X = rng.normal(0, 0.5, (6, len(SLOW_PIANO)))
        learned.append(update(m, X, rng.uniform(-1, 1, 6), np.ones(6), ages_s=np.zeros(6), now=DAY))
    pop = population_prior(learned, shrinkage=0.0, min_std=0.0)
    resid = np.array([m.mean - m.stated for m in learned])
    cov = np.cov(resid, rowvar=False) + np.mean([m.cov for m in learned], axis=0)
    assert np.allclose(pop.mean, resid.mean(axis=0))
    assert np.allclose(pop.cov, cov, atol=1e-8)
    assert population_prior(learned[:1]).mean.tolist() == default_population().mean.tolist()


def test_it_round_trips_through_json_and_refuses_another_schema():
    m = _after("like")
    data = json.loads(json.dumps(m.to_dict()))
    back = TasteModel.from_dict(data)
    assert np.allclose(back.mean, m.mean, atol=1e-4) and back.n_events == 1
    with pytest.raises(ValueError, match="schema"):
        TasteModel.from_dict({**data, "schema": "feat-v0"})
    with pytest.raises(ValueError, match="malformed"):
        TasteModel.from_dict({**data, "data_precision": [1.0, 2.0]})


def test_explain_names_the_features_that_moved_and_the_events_that_moved_them():
    prior = prior_from_preferences({})
    m = prior
    for _ in range(3):
        m = _after("skip", position=0.05, model=m, track=FAST_FOLK)
    m = _after("like", model=m, track=SLOW_PIANO)
    moves = explain(m, prior)
    assert moves, "something moved"
    by_name = {mv["feature"]: mv for mv in moves}
    assert by_name["style_folk"]["direction"] == "less" and "skip" in by_name["style_folk"]["from"]
    assert any(mv["direction"] == "more" and "like" in mv["from"] for mv in moves)
    assert all(mv["words"] for mv in moves) and "bias" not in by_name
