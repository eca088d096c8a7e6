"""Tokenizer: exact round trips at grid resolution, strict parsing."""

import io

import pretty_midi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generation.model.vocab import (
    FAMILIES,
    MAX_DUR,
    MAX_PARTS,
    N_TEMPO,
    N_VEL,
    TIME_SIGNATURES,
    VOCAB,
    GridNote,
    Piece,
    bar_ticks,
    midi_bytes,
    midi_to_piece,
    midi_to_tokens,
    piece_to_tokens,
    tokens_to_midi,
    tokens_to_piece,
)


@st.composite
def pieces(draw):
    ts = draw(st.sampled_from(TIME_SIGNATURES))
    fams = tuple(draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=MAX_PARTS)))
    n_bars = draw(st.integers(1, 6))
    note = st.builds(
        GridNote,
        start=st.integers(0, n_bars * bar_ticks(ts) - 1),
        part=st.integers(0, len(fams) - 1),
        vel=st.integers(0, N_VEL - 1),
        pitch=st.integers(0, 127),
        dur=st.integers(1, MAX_DUR),
    )
    notes = draw(st.lists(note, min_size=1, max_size=40))
    # every part plays at least once (a MIDI file keeps no empty track)
    notes += [GridNote(draw(st.integers(0, bar_ticks(ts) - 1)), i, 5, 60 + i, 4)
              for i in range(len(fams))]
    return Piece(ts, draw(st.integers(0, N_TEMPO - 1)), fams, notes).canonical()


@settings(max_examples=150, deadline=None)
@given(pieces())
def test_it_round_trips_tokens_midi_tokens_exactly(piece):
    tokens = piece_to_tokens(piece)
    pm = tokens_to_midi(tokens)
    assert midi_to_tokens(pm) == tokens
    assert tokens_to_piece(tokens) == piece


@settings(max_examples=60, deadline=None)
@given(pieces())
def test_it_round_trips_through_midi_file_bytes(piece):
    tokens = piece_to_tokens(piece)
    data = midi_bytes(tokens_to_midi(tokens))
    again = pretty_midi.PrettyMIDI(io.BytesIO(data))
    assert midi_to_tokens(again) == tokens
    assert midi_bytes(tokens_to_midi(tokens)) == data  # deterministic bytes


def test_it_quantises_off_grid_midi_to_the_nearest_tick():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(program=41)
    # 120 BPM: a quarter = 0.5 s, a tick = 0.5/12 s; 0.26 s is ~6.24 ticks -> 6
    inst.notes.append(pretty_midi.Note(velocity=100, pitch=64, start=0.26, end=0.51))
    pm.instruments.append(inst)
    p = midi_to_piece(pm)
    assert p.families == ("strings",)
    assert p.notes == [GridNote(6, 0, 100 // 16, 64, 6)]


def test_it_uses_three_tokens_per_note_in_a_melody():
    notes = [GridNote(12 * i, 0, 5, 60 + i, 12) for i in range(8)]
    toks = piece_to_tokens(Piece("4/4", 10, ("pipe",), notes))
    # header 4 + 2 BAR + first note adds PART and VEL + 8 * (POS PITCH DUR) + EOS
    assert len(toks) == 4 + 2 + 2 + 8 * 3 + 1


@pytest.mark.parametrize("bad", [
    ["BOS", "TS_4/4", "TEMPO_3", "INST_piano", "BAR", "POS_0", "PITCH_60", "DUR_4"],  # no part
    ["BOS", "TS_4/4", "TEMPO_3", "INST_piano", "BAR", "POS_0", "PART_0", "VEL_3", "DUR_4"],
    ["BOS", "TS_4/4", "TEMPO_3", "INST_piano", "BAR", "POS_5", "POS_2"],  # backwards
    ["BOS", "TS_3/4", "TEMPO_3", "INST_piano", "BAR", "POS_40"],  # outside a 3/4 bar
    ["BOS", "TS_4/4", "TEMPO_3", "INST_piano", "BAR", "POS_0", "PART_1"],  # undeclared
    ["TS_4/4", "TEMPO_3", "INST_piano", "BAR", "EOS"],  # no BOS
])
def test_it_rejects_invalid_token_orders(bad):
    with pytest.raises(ValueError):
        tokens_to_piece([VOCAB.index[n] for n in bad])


def test_it_rejects_unsupported_metre_and_too_many_parts():
    pm = pretty_midi.PrettyMIDI()
    pm.time_signature_changes.append(pretty_midi.TimeSignature(5, 8, 0))
    pm.instruments.append(pretty_midi.Instrument(0))
    with pytest.raises(ValueError, match="time signature"):
        midi_to_tokens(pm)
    pm = pretty_midi.PrettyMIDI()
    pm.instruments += [pretty_midi.Instrument(0) for _ in range(5)]
    with pytest.raises(ValueError, match="parts"):
        midi_to_tokens(pm)
