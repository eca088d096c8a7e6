"""Each quality gate trips on a crafted bad input, with a reason; a good master passes."""

import numpy as np
import pytest

from generation.audio import gates
from generation.audio.master import master
from tests.generation.audio.conftest import SR, pink_noise


@pytest.fixture(scope="module")
def good():
    audio, _ = master(pink_noise(10.0), SR)
    return audio


def _codes(report):
    return [code for code, _ in report.failures]


def test_a_good_master_passes(good):
    report = gates.run_gates(good, SR, requested_duration_s=10.0)
    assert report.passed and report.failures == []
    assert report.measurements["lufs"] == pytest.approx(-14.0, abs=0.5)


def test_silence_inside_the_track_trips(good):
    bad = good.copy()
    bad[:, 3 * SR:int(5.5 * SR)] = 0.0
    report = gates.run_gates(bad, SR, requested_duration_s=10.0)
    assert gates.SILENCE in _codes(report)
    assert "2.5 s of digital silence from 3.0 s" in dict(report.failures)[gates.SILENCE]


def test_a_short_pause_does_not_trip(good):
    bad = good.copy()
    bad[:, 3 * SR:int(4.5 * SR)] = 0.0
    assert gates.SILENCE not in _codes(gates.run_gates(bad, SR, requested_duration_s=10.0))


def test_clipping_trips(good):
    bad = good.copy()
    bad[0, 10_000:10_010] = 1.0
    report = gates.run_gates(bad, SR, requested_duration_s=10.0)
    assert gates.CLIPPING in _codes(report)


def test_loudness_out_of_range_trips(good):
    report = gates.run_gates(good * 10 ** (-2 / 20), SR, requested_duration_s=10.0)
    assert _codes(report) == [gates.LOUDNESS]
    assert "-16.0" in dict(report.failures)[gates.LOUDNESS]


def test_a_true_peak_over_trips_on_its_own(good):
    bad = good.copy()
    bad[:, 20_000] = 0.95  # -0.45 dBFS: not clipping, loudness unchanged, true peak too high
    report = gates.run_gates(bad, SR, requested_duration_s=10.0)
    assert _codes(report) == [gates.TRUE_PEAK]


def test_a_duration_off_by_more_than_5_percent_trips(good):
    assert gates.run_gates(good, SR, requested_duration_s=10.4).passed
    report = gates.run_gates(good, SR, requested_duration_s=11.0)
    assert _codes(report) == [gates.DURATION]
    assert "9.1%" in dict(report.failures)[gates.DURATION]


def test_nan_and_empty_audio_are_invalid():
    bad = np.zeros((2, SR), np.float32)
    bad[0, 3] = np.nan
    assert _codes(gates.run_gates(bad, SR, requested_duration_s=1.0)) == [gates.INVALID]
    assert not gates.run_gates(np.zeros((2, 0)), SR, requested_duration_s=1.0).passed


def test_all_silence_fails_silence_and_loudness():
    report = gates.run_gates(np.zeros((2, 5 * SR), np.float32), SR, requested_duration_s=5.0)
    assert set(_codes(report)) == {gates.SILENCE, gates.LOUDNESS}
