"""Mastering external and internal audio to -14 LUFS / -1 dBTP (checked with the slow
whole-file true peak and pyloudnorm, not with the code under test)."""

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from generation.audio.loudness import true_peak_reference
from generation.audio.master import MasteringError, lookahead_limit, master
from tests.generation.audio.conftest import SR, clipped_square, pink_noise, sine, speech_like


def _check(out, rate, report):
    lufs = pyloudnorm.Meter(rate).integrated_loudness(out.T.astype(np.float64))
    tp = 20 * np.log10(true_peak_reference(out))
    assert lufs == pytest.approx(-14.0, abs=0.5)
    assert tp <= -1.0 + 1e-3
    assert report.lufs == pytest.approx(lufs, abs=0.01)
    assert report.true_peak_dbtp == pytest.approx(tp, abs=0.01)
    assert np.max(np.abs(out.mean(axis=1))) < 1e-3  # no DC offset
    assert np.max(np.abs(out[:, :2])) < 1e-2 and np.max(np.abs(out[:, -2:])) < 1e-2  # fades
    assert out.shape[0] == 2 and out.dtype == np.float32


def _rates():
    return {
        "sine": (np.stack([sine(6.0, 1000.0, amp=0.3)] * 2), SR),
        "pink_noise": (pink_noise(6.0), SR),
        "speech_like_mono": (speech_like(8.0)[None], SR),
        "clipped_square": (clipped_square(4.0), SR),
        "mono_22k": (resample_poly(speech_like(6.0), 1, 2)[None].astype(np.float32), 22050),
        "very_quiet": (pink_noise(6.0) * 10 ** (-45 / 20), SR),
        "48k_loud": (np.tanh(8 * pink_noise(5.0, 48000)).astype(np.float32), 48000),
    }


@pytest.mark.parametrize("name", list(_rates()))
def test_external_audio_masters_to_target(name):
    audio, rate = _rates()[name]
    out, report = master(audio, rate)
    _check(out, rate, report)
    assert out.shape[1] == audio.shape[-1]


def test_the_report_records_the_chain_and_the_input():
    audio = pink_noise(5.0) * 0.1
    _, report = master(audio, SR)
    plugins = [p["plugin"] for p in report.chain]
    assert plugins[:5] == ["HighpassFilter", "LowShelfFilter", "PeakFilter", "HighShelfFilter",
                           "Compressor"]
    assert "LookaheadLimiter" in plugins
    assert report.input_lufs < -20 and report.gain_db > 5
    assert report.as_dict()["lra"] is not None


def test_silence_and_garbage_are_refused_with_a_reason():
    with pytest.raises(MasteringError, match="silent"):
        master(np.zeros((2, SR * 3), np.float32), SR)
    with pytest.raises(MasteringError, match="too short"):
        master(np.ones((2, 100), np.float32) * 0.1, SR)
    bad = pink_noise(2.0)
    bad[0, 5] = np.nan
    with pytest.raises(MasteringError, match="NaN"):
        master(bad, SR)


def test_the_limiter_holds_its_ceiling_and_leaves_quiet_audio_alone():
    loud = pink_noise(3.0) * 8
    out = lookahead_limit(loud, SR, -3.0)
    assert np.max(np.abs(out)) <= 10 ** (-3 / 20) * (1 + 1e-6)
    quiet = pink_noise(3.0) * 0.1
    assert np.array_equal(lookahead_limit(quiet, SR, -3.0), quiet)


def test_the_chain_per_channel_equals_the_stereo_chain():
    from generation.audio.master import _board, chain_parameters, run_chain

    x = pink_noise(3.0) * 2.0  # loud enough for the compressor to work
    x[1] *= 0.3  # different levels left and right: a linked compressor would differ
    params = chain_parameters(SR, brightness_db=-1.5)
    assert np.array_equal(run_chain(params, x, SR), _board(params)(x, SR))


def test_bright_material_with_big_inter_sample_overs_still_lands_on_target():
    """Quarter-rate bursts (hi-hat-like) peak 3 dB above their samples: a sample-peak limiter
    alone would leave a true-peak trim that pulls the loudness out of range."""
    x = pink_noise(8.0) * 0.3
    t = np.arange(x.shape[1])
    burst = np.sin(2 * np.pi * t / 4 + np.pi / 4) * ((t // 5000) % 4 == 0)
    x += (3.0 * burst).astype(np.float32)
    out, report = master(x, SR)
    _check(out, SR, report)


@pytest.mark.parametrize("n, size", [(1, 3), (5, 9), (100, 7), (1000, 31), (12345, 2647)])
def test_running_min_equals_scipys_minimum_filter(n, size):
    from scipy.ndimage import minimum_filter1d

    from generation.audio.master import running_min

    x = np.random.default_rng(n).random(n).astype(np.float32)
    assert np.array_equal(running_min(x, size), minimum_filter1d(x, size=size, mode="nearest"))
