"""Form plans: repeated bars, cadence bars, voice-leading and the scale, under random logits and
through ``compose`` (debug checkpoint)."""

import pytest
import torch

from generation.model.compose import compose, load_bundle
from generation.model.conditioning import Conditioning
from generation.model.grammar import GrammarState
from generation.model.plan import make_plan, phrase_lengths
from generation.model.structure import motif_reuse, tonic_ending
from generation.model.vocab import VOCAB, Piece, bar_ticks, tokens_to_piece


def _decode(plans, ts, n_parts, target, seed=0):
    """Drive the grammar with random logits (plus the plan's bias) until every stream ends."""
    gen = torch.Generator().manual_seed(seed)
    B = len(plans)
    st = GrammarState(B, bar_ticks(ts), n_parts, target, plans)
    seqs = [[VOCAB.bos, VOCAB.index[f"TS_{ts}"], VOCAB.tempo0, *[VOCAB.inst0] * n_parts,
             VOCAB.bar] for _ in range(B)]
    for _ in range(20000):
        m = st.mask()
        assert bool(m.any(dim=1).all())
        bias = st.bias()
        logits = torch.randn(B, len(VOCAB), generator=gen) * 3 + (0 if bias is None else bias)
        tok = torch.multinomial(torch.softmax(logits.masked_fill(~m, -1e9), -1), 1,
                                generator=gen)[:, 0]
        forced = st.forced()
        tok = torch.tensor([int(t) if f is None else f for t, f in zip(tok.tolist(), forced, strict=True)])
        st.update(tok)
        for b in range(B):
            if seqs[b][-1] != VOCAB.eos:
                seqs[b].append(int(tok[b]))
        if bool(st.done.all()):
            break
    assert bool(st.done.all())
    return [tokens_to_piece(s) for s in seqs]


def _bar(piece: Piece, b: int) -> list[tuple]:
    blen = bar_ticks(piece.ts)
    return sorted((n.start - (b - 1) * blen, n.part, n.pitch, n.dur) for n in piece.notes
                  if (b - 1) * blen <= n.start < b * blen)


def test_it_cuts_pieces_into_phrases_of_four_bars_or_two_for_short_ones():
    assert phrase_lengths(16) == [4, 4, 4, 4]
    assert phrase_lengths(18) == [4, 4, 4, 6]
    assert phrase_lengths(6) == [2, 2, 2]


def test_it_repeats_a_lines_strains_with_a_new_ending_and_ends_on_the_tonic_held():
    plans = [make_plan(seed=s, index=0, tonic=2, mode="minor", n_bars=16, n_parts=1,
                       time_signature="4/4", bar_len=48) for s in range(8)]
    assert {p.letters for p in plans} == {"AABB", "AABA"}
    for plan, piece in zip(plans, _decode(plans, "4/4", 1, 16), strict=True):
        for bar, src in plan.copies.items():
            assert _bar(piece, bar) == _bar(piece, src)
        assert tonic_ending(piece, 2, "minor")
        last = max(piece.notes, key=lambda n: n.start)
        assert last.start == 15 * 48 + 24 and last.dur == 24  # held from mid-bar to the end
        assert motif_reuse(piece, 1) >= 0.4


def test_it_ends_several_parts_on_the_tonic_triad_with_the_root_in_the_bass():
    plans = [make_plan(seed=s, index=1, tonic=9, mode="minor", n_bars=8, n_parts=3,
                       time_signature="3/4", bar_len=36) for s in range(6)]
    for _plan, piece in zip(plans, _decode(plans, "3/4", 3, 8), strict=True):
        assert tonic_ending(piece, 9, "minor"), piece.notes[-6:]
        chord = [n for n in piece.notes if n.start == 7 * 36 + 12]
        assert sorted(n.part for n in chord) == [0, 1, 2]
        assert min(chord, key=lambda n: n.pitch).part == 2 and chord[-1].pitch % 12 == 9
        # the half cadence after the first phrase stands on V (E) in the bass
        half = [n for n in piece.notes if n.start == 3 * 36 + 12 and n.part == 2]
        assert half and half[0].pitch % 12 == 4


def test_it_keeps_the_bass_out_of_parallel_fifths_and_octaves_with_the_top_part():
    plan = make_plan(seed=0, index=0, tonic=0, mode="major", n_bars=8, n_parts=2,
                     time_signature="4/4", bar_len=48)
    st = GrammarState(1, 48, 2, 8, [plan])
    v = VOCAB.index
    # G over C (a fifth), then the top moves to A
    for name in ("POS_0", "PART_0", "VEL_4", "PITCH_67", "DUR_12", "PART_1", "VEL_4", "PITCH_48",
                 "DUR_12", "POS_12", "PART_0", "PITCH_69", "DUR_12", "PART_1"):
        assert st.mask()[0, v[name]], name
        st.update([v[name]])
    m = st.mask()[0]
    assert not m[v["PITCH_50"]] and not m[v["PITCH_62"]] and not m[v["PITCH_38"]]  # D: fifths
    assert m[v["PITCH_48"]] and m[v["PITCH_53"]] and m[v["PITCH_49"]]  # held C, F, anything else


def test_it_biases_pitches_toward_the_requested_scale():
    plans = [make_plan(seed=s, index=0, tonic=4, mode="major", n_bars=8, n_parts=1,
                       time_signature="4/4", bar_len=48) for s in range(6)]
    pieces = _decode(plans, "4/4", 1, 8)
    scale = plans[0].scale
    notes = [n for p in pieces for n in p.notes]
    assert sum(n.pitch % 12 in scale for n in notes) / len(notes) > 0.8  # random: 7/12


COND = Conditioning(110.0, 7, "major", "4/4", 2.0, 64.0, 1.0, 16, ("strings",))


def test_compose_records_the_form_and_regenerates_it_byte_for_byte(debug_run):
    bundle = load_bundle(debug_run["ckpt"])
    a = compose(bundle, COND, seed=4, n_candidates=2, check_originality=False)
    b = compose(bundle, COND, seed=4, n_candidates=2, check_originality=False,
                plan=a.sampling["plan"])
    assert a.midi_bytes == b.midi_bytes
    form = a.sampling["form"]
    assert form["version"] == a.sampling["plan"] == "form-v1"
    assert form["cadences"]["16"] == "I" and form["letters"] in ("AABB", "AABA")
    piece = tokens_to_piece(a.tokens)
    assert tonic_ending(piece, 7, "major")
    for bar, src in form["copies"].items():  # (durations may be cut by what follows)
        assert [x[:3] for x in _bar(piece, int(bar))] == [x[:3] for x in _bar(piece, src)]


def test_compose_without_a_plan_is_the_decoding_of_older_tracks(debug_run):
    bundle = load_bundle(debug_run["ckpt"])
    old = compose(bundle, COND, seed=4, n_candidates=2, check_originality=False, plan=None)
    assert old.sampling["plan"] is None and old.sampling["form"] is None
    with pytest.raises(ValueError, match="unknown plan"):
        compose(bundle, COND, seed=4, n_candidates=2, check_originality=False, plan="form-v9")
