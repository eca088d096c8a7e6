"""Mixing: gain staging, pan, reverb bus, headroom, the plan it records."""

import json

import numpy as np
import pytest

from generation.audio import mix as mixing
from tests.generation.audio.conftest import SR, pink_noise, sine


def _stems():
    return {
        "00-melody_violin": np.stack([sine(2.0, 660.0, amp=0.05)] * 2),
        "01-bass_contrabass": np.stack([sine(2.0, 55.0, amp=0.4)] * 2),
        "02-drums": pink_noise(2.0) * 0.3,
    }


def test_it_mixes_to_a_stereo_bus_with_headroom():
    out = mixing.mix(_stems(), style="folk", sample_rate=SR)
    assert out.shape == (2, 2 * SR) and out.dtype == np.float32
    assert 20 * np.log10(np.max(np.abs(out))) == pytest.approx(mixing.MIX_PEAK_DBFS, abs=0.01)


def test_it_levels_stems_so_a_quiet_preset_is_not_lost():
    out = mixing.mix({"00-melody_flute": np.stack([sine(2.0, 880.0, amp=0.05)] * 2),
                      "01-bass_contrabass": np.stack([sine(2.0, 55.0, amp=0.5)] * 2)},
                     style="chamber", sample_rate=SR)  # fmt: skip
    spectrum = np.abs(np.fft.rfft(out[0]))
    f = np.fft.rfftfreq(out.shape[1], 1 / SR)
    melody = spectrum[(f > 870) & (f < 890)].max()
    bass = spectrum[(f > 50) & (f < 60)].max()
    # unlevelled, the melody would sit 20 dB under the bass; levelled, both reach the reference
    assert 20 * np.log10(melody / bass) > -6


def test_pan_places_a_stem_left_or_right():
    plan = mixing.mix_plan(["00-melody_violin"], style="chamber")
    assert plan.stems[0].pan < 0  # chamber's violin sits left
    out = mixing.mix({"00-melody_violin": np.stack([sine(2.0, 660.0)] * 2)}, style="chamber",
                     sample_rate=SR)  # fmt: skip
    left, right = np.sqrt(np.mean(out[0] ** 2)), np.sqrt(np.mean(out[1] ** 2))
    assert left > right * 1.3


def test_the_reverb_bus_adds_a_tail():
    click = np.zeros((2, 3 * SR), np.float32)
    click[:, 1000:1100] = 0.5
    out = mixing.mix({"00-melody_piano": click}, style="ambient", sample_rate=SR)
    assert np.max(np.abs(out[:, SR:2 * SR])) > 1e-3  # still ringing a second later


def test_the_plan_is_plain_data_for_provenance():
    plan = mixing.mix_plan(list(_stems()), style="lo-fi")
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["style"] == "lo-fi"
    assert [s["role"] for s in data["stems"]] == ["melody", "bass", "drums"]
    assert data["reverb"]["return_level"] == pytest.approx(0.18)


def test_a_silent_stem_is_skipped_and_no_stems_is_an_error():
    stems = _stems() | {"03-pad_warm": np.zeros((2, 2 * SR), np.float32)}
    assert np.isfinite(mixing.mix(stems, style="ambient", sample_rate=SR)).all()
    with pytest.raises(ValueError, match="no stems"):
        mixing.mix({}, style="ambient", sample_rate=SR)


def test_fit_length_cuts_pads_and_fades():
    x = np.ones((2, 3 * SR), np.float32)
    assert mixing.fit_length(x, SR, 2.0).shape == (2, 2 * SR)
    padded = mixing.fit_length(x, SR, 4.0)
    assert padded.shape == (2, 4 * SR) and padded[0, -1] == 0
    faded = mixing.fit_length(x, SR, 2.0)
    assert faded[0, 0] == 1 and abs(faded[0, -1]) < 1e-6 and faded[0, int(0.4 * SR)] == 1
