"""Attribute measurement: key finder, density, polyphony, length, metre."""

import pretty_midi
from hypothesis import given, settings
from hypothesis import strategies as st

from generation.model.attributes import density_bucket, find_key, measure


def melody(pitches, *, tempo=120.0, step=0.5, ts=(4, 4), program=0):
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*ts, 0))
    inst = pretty_midi.Instrument(program=program)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(velocity=80, pitch=p, start=i * step,
                                           end=(i + 1) * step))
    pm.instruments.append(inst)
    return pm


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 67, 60]
A_MINOR = [57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57, 64, 57, 68, 69]


def test_it_finds_c_major_and_a_minor():
    a = measure(melody(C_MAJOR))
    assert (a.key_tonic, a.mode) == (0, "major")
    b = measure(melody(A_MINOR))
    assert (b.key_tonic, b.mode) == (9, "minor")


@settings(max_examples=30, deadline=None)
@given(st.integers(-12, 12))
def test_it_finds_keys_transposition_equivariantly(k):
    for base, tonic in ((C_MAJOR, 0), (A_MINOR, 9)):
        a = measure(melody([p + k for p in base]))
        assert a.key_tonic == (tonic + k) % 12


def test_it_measures_density_length_range_and_tempo():
    # 16 eighth notes at 120 BPM in 4/4 = 2 bars, 2 notes per beat
    a = measure(melody([60 + (i % 5) for i in range(16)], step=0.25, tempo=120))
    assert a.length_bars == 2
    assert a.density == 2.0
    assert density_bucket(a.density) == density_bucket(2.0)
    assert (a.pitch_min, a.pitch_max) == (60, 64)
    assert a.tempo == 120.0
    assert a.time_signature == "4/4"
    assert a.families == ("piano",)
    assert a.polyphony == 1.0


def test_it_measures_polyphony_and_families_of_several_parts():
    pm = melody([60] * 4, program=40)
    bass = pretty_midi.Instrument(program=32)
    bass.notes.append(pretty_midi.Note(velocity=80, pitch=36, start=0, end=2.0))
    pm.instruments.append(bass)
    a = measure(pm)
    assert a.polyphony == 2.0
    assert a.families == ("bass", "strings")
    assert a.as_dict()["families"] == ["bass", "strings"]


def test_it_handles_an_empty_piece():
    a = measure(pretty_midi.PrettyMIDI())
    assert a.n_notes == 0 and a.length_bars == 0


def test_find_key_of_silence_is_c_major():
    assert find_key([0] * 12) == (0, "major")
