"""The admin pictures are real PNGs of the right thing."""

import io

import numpy as np
import pretty_midi
from matplotlib.image import imread

from generation.audio.arrange import arrange
from generation.audio.pictures import piano_roll_png, waveform_png
from tests.generation.audio.conftest import SR, pink_noise

PNG = b"\x89PNG\r\n\x1a\n"


def _image(data: bytes) -> np.ndarray:
    assert data[:8] == PNG
    return imread(io.BytesIO(data), format="png")


def test_the_piano_roll_colours_each_instrument(piece):
    img = _image(piano_roll_png(arrange(piece, "folk", seed=1, length_s=30)))
    assert img.shape[0] > 300 and img.shape[1] > 800
    colours = {tuple(np.round(px[:3], 1)) for px in img.reshape(-1, img.shape[2])[::37]}
    assert len(colours) > 8  # several instrument colours, not a blank canvas


def test_the_piano_roll_of_an_empty_midi_still_draws():
    assert _image(piano_roll_png(pretty_midi.PrettyMIDI())).size


def test_the_waveform_shows_the_audio_and_its_loudness():
    loud = _image(waveform_png(pink_noise(8.0), SR))
    quiet = _image(waveform_png(pink_noise(8.0) * 0.01, SR))
    assert loud.shape == quiet.shape
    assert not np.array_equal(loud, quiet)
    assert _image(waveform_png(pink_noise(1.0)[0], SR)).size  # mono, shorter than a 3 s window
