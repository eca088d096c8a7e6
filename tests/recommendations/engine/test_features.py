"""feat-v1: a documented, total map from measured attributes (or a request) to a vector."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recommendations.engine import features as F

MEASURED = {
    "tempo": 66.0, "key_tonic": 9, "mode": "minor", "time_signature": "3/4", "density": 1.6,
    "pitch_min": 50, "pitch_max": 74, "pitch_mean": 61.0, "polyphony": 1.0, "length_bars": 24,
    "n_notes": 120, "instruments": [[0, False]], "families": ["piano"], "density_bucket": 3,
}


def test_the_table_documents_every_index_in_order():
    assert [i for i, _, _ in F.FEATURES] == list(range(F.D))
    assert len(set(F.NAMES)) == F.D
    for name in F.NAMES:
        assert name in F.__doc__ or name.split("_")[0] in F.__doc__


def test_a_track_is_described_in_words_a_listener_reads():
    v = F.track_vector(MEASURED, style="piano", mood="calm", duration_s=150)
    assert v.dtype == np.float32 and v.shape == (F.D,)
    assert F.describe(v) == "calm slow minor piano"
    fast = F.track_vector({**MEASURED, "tempo": 150, "mode": "major"}, style="folk", mood=None, duration_s=150)
    assert F.describe(fast) == "fast major folk"


def test_soft_bins_sum_to_one_and_move_with_the_value():
    for bins in (F.TEMPO, F.ENERGY, F.REGISTER, F.LENGTH):
        lo, hi = bins.centres[0] * 0.5, bins.centres[-1] * 1.5
        prev = None
        for x in np.linspace(lo, hi, 25):
            m = bins.encode(float(x))
            assert abs(m.sum() - 1) < 1e-6
            centre = bins.value(m)
            if prev is not None:
                assert centre >= prev - 1e-9
            prev = centre


@settings(deadline=None)  # timing varies with the shared machine
@given(st.dictionaries(st.sampled_from(sorted(MEASURED)), st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
    st.lists(st.text(max_size=8), max_size=3), st.integers(-5, 500))))
def test_missing_or_malformed_attributes_give_neutral_values_never_an_exception(measured):
    v = F.track_vector(measured, style="nope", mood="nope", duration_s=float("nan"))
    assert v.shape == (F.D,) and np.all(np.isfinite(v))
    assert v[F.I_BIAS] == 1.0


def test_a_request_lands_in_the_same_space_as_the_track_it_asks_for():
    request = {"tempo_bpm": 66.0, "key_tonic": 9, "mode": "minor", "time_signature": "3/4", "density": 1.6,
               "register": 61.0, "polyphony": 1.0, "families": ["piano"], "avoid_instruments": []}
    r = F.request_vector(request, style="piano", mood="calm", length_s=150)
    t = F.track_vector(MEASURED, style="piano", mood="calm", duration_s=150)
    assert F.similarity(r[None], t[None])[0, 0] > 0.97
    assert F.describe(r) == F.describe(t)


def test_a_request_sounds_with_the_styles_instruments_without_the_avoided_ones():
    request = {"tempo_bpm": 120.0, "mode": "major", "avoid_instruments": ["drums"]}
    v = F.request_vector(request, style="electronic", mood=None, length_s=120)
    fams = {f for f, x in zip(F.FAMILIES, v[F.S_FAMILY], strict=True) if x > 0}
    assert "drums" not in fams and {"synth_lead", "bass"} <= fams
    with_drums = F.request_vector({**request, "avoid_instruments": []}, style="electronic", mood=None, length_s=120)
    assert with_drums[F.S_FAMILY][F.FAMILIES.index("drums")] == 1.0
