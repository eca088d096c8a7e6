"""Structure figures on hand-made pieces."""

from generation.model.structure import (
    empty_beat_rate,
    motif_reuse,
    outer_parallels,
    tonic_ending,
)
from generation.model.vocab import GridNote, Piece


def _line(pitches, ts="4/4", dur=12):
    return Piece(ts, 10, ("strings",), [GridNote(i * dur, 0, 4, p, dur)
                                         for i, p in enumerate(pitches)])


def test_it_counts_bars_whose_pattern_comes_back_transposed():
    a = [60, 62, 64, 65]
    piece = _line(a + [67, 60, 59, 57] + [p + 5 for p in a] + [70, 71, 72, 60])
    assert motif_reuse(piece, 1) == 0.5


def test_it_hears_a_line_end_on_the_tonic_and_a_chord_need_its_root_in_the_bass():
    assert tonic_ending(_line([64, 62, 60]), 0, "major")
    assert not tonic_ending(_line([64, 62, 67]), 0, "major")
    chord = Piece("4/4", 10, ("strings", "bass"), [
        GridNote(0, 0, 4, 72, 48), GridNote(0, 0, 4, 67, 48), GridNote(0, 1, 4, 52, 48)])
    assert not tonic_ending(chord, 0, "major")  # E in the bass


def test_it_finds_parallel_fifths_between_the_outer_voices():
    notes = [GridNote(0, 0, 4, 67, 12), GridNote(0, 1, 4, 60, 12),
             GridNote(12, 0, 4, 69, 12), GridNote(12, 1, 4, 62, 12),
             GridNote(24, 0, 4, 71, 12), GridNote(24, 1, 4, 55, 12)]
    assert outer_parallels(Piece("4/4", 10, ("strings", "bass"), notes)) == (1, 2)


def test_it_counts_beats_where_nothing_sounds():
    piece = Piece("4/4", 10, ("strings",), [GridNote(0, 0, 4, 60, 12), GridNote(36, 0, 4, 60, 12)])
    assert empty_beat_rate(piece) == 0.5
