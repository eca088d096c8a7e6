"""The matching passage a reviewer sees: found where the originality check found it (pure, no database)."""

import numpy as np
import pretty_midi
import pytest

from generation.evidence.passage import (
    SENTINEL,
    longest_common_run,
    matching_passage,
    passage_png,
    piece_melodies,
)
from generation.model.originality import check_originality, load_index
from tests.generation.reviewing import melody


def test_the_longest_common_run_is_found_with_both_starts():
    a = np.array([9, 1, 2, 3, 4, 9, 9])
    b = np.array([0, 0, 1, 2, 3, 4, 5])
    assert longest_common_run(a, b) == (4, 1, 2)
    assert longest_common_run(a, np.array([7, 8])) == (0, 0, 0)
    assert longest_common_run(np.array([]), b) == (0, 0, 0)


def test_a_pieces_melodies_are_split_at_the_sentinel():
    seq = np.array([1, 2, SENTINEL, 3, SENTINEL, 5, 6, SENTINEL])
    owner = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    assert [m.tolist() for m in piece_melodies(seq, owner, 0)] == [[1, 2], [3]]
    assert [m.tolist() for m in piece_melodies(seq, owner, 1)] == [[5, 6]]


@pytest.mark.parametrize(("piece", "notes"), [("airdsAirs/book1.abc#19", 14), ("airdsAirs/book1.abc#19", 20)])
def test_the_passage_is_the_run_the_originality_check_measured(piece, notes):
    midi = melody(5, copy_of=(piece, notes))
    verdict = check_originality(midi)
    index = load_index()
    passage = matching_passage(midi, piece_melodies(index.seq, index.owner, index.names.index(verdict["nearest_piece"])))
    assert verdict["nearest_piece"] == piece
    assert passage.notes == verdict["longest_match_notes"] >= notes
    # the copy leaves the eighth note (half a beat each at 120 BPM, 4/4: 2 s a bar), so it starts at 3.5 s in bar 2
    assert passage.onsets[0] == pytest.approx(3.5) and passage.first_bar == 2
    assert passage.last_bar == 1 + int(passage.onsets[-1] // 2.0)
    assert np.array_equal(np.diff(passage.pitches), np.diff(passage.known_pitches))  # the same intervals
    png = passage_png(passage, known_name=piece, downbeats=midi.get_downbeats())
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_a_tune_with_no_shared_run_has_no_passage():
    midi = pretty_midi.PrettyMIDI(initial_tempo=100)
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=80, pitch=60, start=0, end=0.5)]  # one note: no interval
    midi.instruments.append(piano)
    assert matching_passage(midi, [np.array([1, 2, 3])]) is None
