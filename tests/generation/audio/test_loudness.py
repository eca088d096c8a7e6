"""Loudness against pyloudnorm, and the fast true peak against the whole-file 4x measurement."""

import numpy as np
import pyloudnorm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.audio import loudness
from tests.generation.audio.conftest import SR, clipped_square, pink_noise, sine, speech_like


def _signals():
    rng = np.random.default_rng(3)
    return {
        "pink": pink_noise(6.0),
        "sine_mono": sine(4.0)[None],
        "speech": speech_like(8.0)[None],
        "square": clipped_square(3.0),
        "quiet_noise": (rng.normal(0, 1e-3, (2, SR * 5))).astype(np.float32),
        "steps": np.concatenate([sine(3.0, amp=0.05), sine(3.0, amp=0.5)])[None].repeat(2, 0),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_it_measures_what_pyloudnorm_measures(name):
    x = _signals()[name]
    meter = pyloudnorm.Meter(SR)
    ref = meter.integrated_loudness(x.T.astype(np.float64))
    assert loudness.integrated_loudness(x, SR) == pytest.approx(ref, abs=0.01)
    ref_lra = meter.loudness_range(x.T.astype(np.float64))
    assert loudness.loudness_range(x, SR) == pytest.approx(ref_lra, abs=0.02)


def test_it_reports_silence_as_minus_infinity():
    assert loudness.integrated_loudness(np.zeros((2, SR)), SR) == float("-inf")


def test_a_full_scale_sine_reads_minus_3_lufs_per_channel():
    # BS.1770: a 0 dBFS 997 Hz sine on one channel reads -3.01 LKFS
    assert loudness.integrated_loudness(sine(5.0, 997.0, amp=1.0)[None], SR) == pytest.approx(
        -3.01, abs=0.05)


def _hard_signals():
    rng = np.random.default_rng(11)
    n = SR * 2
    t = np.arange(n) / SR
    quarter = np.sin(2 * np.pi * SR / 4 * t + np.pi / 4)  # samples at ±0.707, true peak 1.0
    # the largest sample (an impulse of 1.0) sits in one block; a quarter-rate sine of true
    # peak 1.2 whose samples only reach 0.85 sits in another: the fast path must find it
    hidden = np.zeros(n)
    hidden[1000] = 1.0
    hidden[50_000:50_400] = 1.2 * quarter[:400]
    near_nyquist = np.sin(2 * np.pi * 0.49 * SR * t + 0.3)
    noise = np.clip(rng.normal(0, 0.5, (2, n)), -1, 1)
    limited = np.tanh(4 * pink_noise(2.0)) * 0.89
    return {
        "quarter_rate": quarter[None],
        "hidden_over": hidden[None],
        "near_nyquist": near_nyquist[None],
        "full_scale_noise": noise,
        "clipped_square": clipped_square(2.0),
        "limited": limited,
        "edge_impulse": np.pad(np.ones(1), (n - 1, 0))[None],
    }


@pytest.mark.parametrize("name", list(_hard_signals()))
def test_fast_true_peak_equals_the_whole_file_measurement(name):
    x = _hard_signals()[name].astype(np.float32)
    assert loudness.true_peak(x) == pytest.approx(loudness.true_peak_reference(x), rel=1e-6)


def test_inter_sample_peaks_exceed_sample_peaks():
    x = _hard_signals()["hidden_over"].astype(np.float32)
    assert loudness.sample_peak_dbfs(x) == pytest.approx(0.0, abs=1e-6)
    assert loudness.true_peak_dbtp(x) > 1.2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 30_000),
    block=st.sampled_from([64, 512, 4096]),
    spikes=st.integers(0, 5),
)
def test_fast_true_peak_equals_reference_on_random_signals(seed, n, block, spikes):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, rng.uniform(0.01, 0.6), (2, n))
    for _ in range(spikes):  # isolated spikes and quarter-rate bursts anywhere
        at = int(rng.integers(0, n))
        x[:, at:at + 8] = rng.uniform(-1.3, 1.3) * np.array([1, 1, -1, -1, 1, 1, -1, -1])[: n - at]
    x = x.astype(np.float32)
    assert loudness.true_peak(x, block=block) == pytest.approx(
        loudness.true_peak_reference(x), rel=1e-6)


def test_a_forked_process_gets_its_own_dsp_threads():
    """A prefork worker inherits the parent's pool object but not its threads."""
    import multiprocessing

    loudness.integrated_loudness(pink_noise(1.0), SR)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        child = pool.apply_async(loudness.integrated_loudness, (pink_noise(1.0), SR))
        assert child.get(timeout=30) == pytest.approx(loudness.integrated_loudness(pink_noise(1.0), SR))
