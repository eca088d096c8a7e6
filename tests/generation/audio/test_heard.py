"""What a listener hears: tempo and metre from onsets, key by two music21 finders."""

import pretty_midi
import pytest

from generation.audio.arrange import arrange
from generation.audio.heard import evaluate_heard, heard, heard_key, heard_tempo, tempo_matches
from tests.generation.audio.conftest import make_piece


@pytest.mark.parametrize(("style", "tempo", "strict"), [("folk", 72.0, True), ("lo-fi", 90.0, True),
                                                     ("cinematic", 127.0, False)])
def test_it_hears_the_tempo_the_arrangement_plays(style, tempo, strict):
    """Sparse timpani at 127 are heard in half time: the beat, at another metrical level."""
    out = arrange(make_piece(16), style, seed=2, length_s=60, tempo_bpm=tempo)
    assert tempo_matches(heard_tempo(out), tempo, levels=not strict)


def test_it_hears_a_played_tempo_not_the_tempo_event():
    out = arrange(make_piece(16), "piano", seed=2, length_s=60, tempo_bpm=100.0)
    out._tick_scales = [(0, 60.0 / (140.0 * out.resolution))]  # a lying tempo event: notes keep their times
    assert tempo_matches(heard_tempo(out), 100.0)


def test_it_finds_the_key_with_both_finders():
    scale = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    for k, p in enumerate([57, 59, 60, 62, 64, 65, 68, 69, 64, 57, 60, 64, 69]):  # A harmonic minor, tonic-heavy
        inst.notes.append(pretty_midi.Note(80, p, k * 0.5, k * 0.5 + (1.5 if p % 12 == 9 else 0.45)))
    scale.instruments.append(inst)
    assert heard_key(scale, "temperleykostkapayne") == (9, "minor")
    assert heard_key(scale, "aardenessen") == (9, "minor")


def test_accuracy_counts_tempo_metre_key_and_length():
    out = arrange(make_piece(16), "folk", seed=1, length_s=40, tempo_bpm=96.0, key=(0, "major"))
    h = heard(out).as_dict()
    row = {"requested": {"tempo_bpm": 96.0, "metre": "4/4", "key_tonic": 0, "mode": "major", "length_s": 40},
           "heard": h}
    result = evaluate_heard([row])
    assert result["tempo_within_2pct"] == 1.0 and result["length_within_5pct"] == 1.0
    assert result["key_mode_both_finders"]["major"]["n"] == 1
    assert result["metre"]["4/4"]["n"] == 1


def _played(bars: int, bpm: float, bar_q: float, notes_in_bar) -> pretty_midi.PrettyMIDI:
    """A bar pattern ``(position in quarters, pitch, velocity, length in quarters)`` repeated."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    inst = pretty_midi.Instrument(0)
    q = 60.0 / bpm
    melody = [67, 69, 71, 72, 74, 72, 71, 69]
    for b in range(bars):
        for k, (pos, pitch, vel, length) in enumerate(notes_in_bar):
            if pitch is None:  # the tune: its pitches move from bar to bar
                pitch = melody[(4 * (b % 2) + k) % len(melody)]  # a two-bar phrase
            start = (b * bar_q + pos) * q
            inst.notes.append(pretty_midi.Note(vel, pitch, start, start + length * q * 0.9))
    pm.instruments.append(inst)
    return pm


def test_a_jig_is_heard_in_six_eight_at_its_quarter_tempo_not_its_dotted_quarter_rate():
    from generation.audio.heard import heard_tempo_and_metre

    jig = [(0.0, 43, 100, 1.5), (1.5, 50, 90, 1.5)] + [(k * 0.5, None, 100 if k % 3 == 0 else 70, 0.5)
                                                       for k in range(6)]
    tempo, metre = heard_tempo_and_metre(_played(24, 120.0, 3.0, jig))
    assert metre == "6/8" and tempo_matches(tempo, 120.0)


def test_a_waltz_is_heard_in_three_four():
    from generation.audio.heard import heard_tempo_and_metre

    waltz = [(0.0, 41, 105, 1.0), (1.0, 57, 70, 1.0), (1.0, 60, 70, 1.0), (2.0, 57, 70, 1.0), (2.0, 60, 70, 1.0),
             (0.0, None, 95, 2.0), (2.0, None, 80, 1.0)]
    tempo, metre = heard_tempo_and_metre(_played(24, 132.0, 3.0, waltz))
    assert metre == "3/4" and tempo_matches(tempo, 132.0)


def test_a_tracks_measured_metre_is_the_one_played_not_the_midi_time_signature():
    """A waltz whose file says 4/4: ``measured`` (what the API shows) says 3/4, read from the onsets."""
    from generation.audio.heard import heard_attributes

    waltz = [(0.0, 41, 105, 1.0), (1.0, 57, 70, 1.0), (1.0, 60, 70, 1.0), (2.0, 57, 70, 1.0), (2.0, 60, 70, 1.0),
             (0.0, None, 95, 2.0), (2.0, None, 80, 1.0)]
    played = _played(24, 132.0, 3.0, waltz)
    played.time_signature_changes = [pretty_midi.TimeSignature(4, 4, 0.0)]
    measured = heard_attributes(played)
    assert (measured["time_signature"], measured["metre_from"]) == ("3/4", "onsets")
    assert tempo_matches(measured["tempo"], 132.0) and measured["tempo_from"] == "onsets"
