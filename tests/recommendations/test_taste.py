"""Preferences → conditioning: every draw is a valid cond-v1 request the model has seen the like of."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.vocabulary import INSTRUMENT_FAMILIES, MOODS, STYLES
from recommendations.taste import FOUR_PART_POLYPHONY, draw_request

PREFS = {
    "styles": ["piano", "chamber"], "moods": ["calm"], "tempo_min": 66, "tempo_max": 120,
    "energy": 0.4, "preferred_instruments": ["piano", "strings"], "avoided_instruments": ["brass"],
    "mode": "any", "length_min_s": 40, "length_max_s": 60, "exploration": 0.3,
}

preferences = st.fixed_dictionaries({
    "styles": st.lists(st.sampled_from(STYLES), min_size=1, max_size=3, unique=True),
    "moods": st.lists(st.sampled_from(MOODS), max_size=3, unique=True),
    "tempo_min": st.integers(40, 120),
    "tempo_max": st.integers(120, 220),
    "energy": st.floats(0, 1),
    "preferred_instruments": st.lists(st.sampled_from(INSTRUMENT_FAMILIES), max_size=3, unique=True),
    "avoided_instruments": st.lists(st.sampled_from(INSTRUMENT_FAMILIES), max_size=3, unique=True),
    "mode": st.sampled_from(["major", "minor", "any"]),
    "length_min_s": st.integers(30, 120),
    "length_max_s": st.integers(120, 600),
    "exploration": st.floats(0, 1),
})


def test_it_draws_the_same_request_for_the_same_seed():
    assert draw_request(PREFS, seed=3) == draw_request(PREFS, seed=3)
    assert {draw_request(PREFS, seed=s).conditioning for s in range(8)} != {draw_request(PREFS, seed=0).conditioning}


def test_the_jobs_overrides_win():
    req = draw_request(PREFS, seed=1, overrides={"style": "folk", "mood": "tense", "tempo": 150, "key": 9,
                                                 "mode": "minor", "length_s": 75})
    c = req.conditioning
    assert (req.style, req.mood, req.length_s) == ("folk", "tense", 75.0)
    assert (c.tempo_bpm, c.key_tonic, c.mode) == (150.0, 9, "minor")


@settings(max_examples=200, deadline=None)
@given(prefs=preferences, seed=st.integers(0, 2**31))
def test_every_draw_is_a_valid_request_in_a_texture_of_the_corpus(prefs, seed):
    req = draw_request(prefs, seed=seed)
    c = req.conditioning.validate()
    assert req.style in prefs["styles"]
    assert not set(c.families) & set(prefs["avoided_instruments"])
    assert prefs["length_min_s"] <= req.length_s <= prefs["length_max_s"]
    # the corpus has single lines (polyphony 1) and four-part harmony (about 4), nothing between
    assert c.polyphony in (1.0, FOUR_PART_POLYPHONY)
    assert c.n_parts == (1 if c.polyphony == 1.0 else 4)
    if len(c.families) > 1:
        assert c.n_parts == 4
    # density follows the texture: every voice of four-part harmony moves
    assert (3.2 <= c.density <= 4.8) if c.n_parts == 4 else (0.75 <= c.density <= 3.25)


def test_a_short_track_composes_no_more_bars_than_it_plays():
    for seed in range(20):
        c = draw_request(PREFS, seed=seed, overrides={"length_s": 30}).conditioning
        num, den = (int(x) for x in c.time_signature.split("/"))
        bars_played = 30 * c.tempo_bpm / 60 / (num * 4 / den)
        assert c.length_bars <= max(16, 4 * math.ceil(bars_played / 4))
    long = [draw_request(PREFS, seed=s, overrides={"length_s": 300}).conditioning for s in range(20)]
    assert len({c.length_bars for c in long}) > 1 and max(c.length_bars for c in long) <= 32
