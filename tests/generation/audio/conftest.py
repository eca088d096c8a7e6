"""Fixtures for the audio package: a small composed piece, synthetic signals, the soundfont."""

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from generation.audio.render import default_soundfont

SR = 44100


def make_piece(bars: int = 16, *, tempo: float = 100.0) -> pretty_midi.PrettyMIDI:
    """A two-voice piece in C major: a melody over a chord-tone line, I-vi-IV-V per 4 bars."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    beat = 60.0 / tempo
    top = pretty_midi.Instrument(program=0, name="melody")
    low = pretty_midi.Instrument(program=0, name="harmony")
    progression = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]
    rng = np.random.default_rng(5)
    for bar in range(bars):
        chord = progression[bar % 4] if bar < bars - 1 else (48, 52, 55)
        for k, p in enumerate(chord):
            low.notes.append(pretty_midi.Note(70, p - 12 + 12 * (k > 0),
                                              (bar * 4 + k) * beat, (bar * 4 + k + 1.5) * beat))
        for step in range(4):
            p = int(chord[step % 3] + 12 + rng.choice([0, 2, -1]))
            low_s, high_s = (bar * 4 + step) * beat, (bar * 4 + step + 1) * beat
            top.notes.append(pretty_midi.Note(84, p, low_s, high_s))
    pm.instruments += [top, low]
    return pm


@pytest.fixture(scope="session")
def piece() -> pretty_midi.PrettyMIDI:
    return make_piece()


@pytest.fixture(scope="session")
def soundfont() -> Path:
    return default_soundfont()


def pink_noise(seconds: float, sr: int = SR, *, seed: int = 0, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    spec = np.fft.rfft(rng.normal(size=(channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / sr)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=1)
    return (0.25 * x / np.max(np.abs(x))).astype(np.float32)


def sine(seconds: float, freq: float = 440.0, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speech_like(seconds: float, sr: int = SR, *, seed: int = 1) -> np.ndarray:
    """Syllable-rate (4 Hz) bursts of formant-filtered noise with short pauses, mono."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    noise = rng.normal(size=n)
    voiced = sum(np.sin(2 * np.pi * 140 * k * np.arange(n) / sr) / k for k in range(1, 12))
    sig = 0.6 * voiced + 0.2 * noise
    sig = sosfilt(butter(2, [300, 3400], "bandpass", fs=sr, output="sos"), sig)
    t = np.arange(n) / sr
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    env *= (np.sin(2 * np.pi * 0.3 * t) > -0.6)  # pauses between phrases
    x = sig * env
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def clipped_square(seconds: float, sr: int = SR, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = 1.6 * np.sign(np.sin(2 * np.pi * freq * t)) + 0.3 * np.sin(2 * np.pi * 3 * freq * t)
    return np.clip(x, -1.0, 1.0).astype(np.float32)[None].repeat(2, axis=0)
