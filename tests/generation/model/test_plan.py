"""Form plans: repeated bars, cadence bars, voice-leading and the scale, under random logits and
through ``compose`` (debug checkpoint)."""


import pytest
import torch

from generation.model import DEFAULT_CHECKPOINT, V1_CHECKPOINT
from generation.model.compose import compose, load_bundle
from generation.model.conditioning import Conditioning
from generation.model.grammar import GrammarState
from generation.model.plan import make_plan, phrase_lengths
from generation.model.structure import motif_reuse, outer_parallels, tonic_ending
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
    assert form["version"] == a.sampling["plan"] == "form-v2"
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


def _feed(st: GrammarState, names: list[str]) -> None:
    for name in names:
        assert st.mask()[0, VOCAB.index[name]], name
        st.update([VOCAB.index[name]])


def _allowed_pitches(st: GrammarState) -> set[int]:
    m = st.mask()[0]
    return {p for p in range(128) if m[VOCAB.index[f"PITCH_{p}"]]}


def _middle_part_takes_the_bass(version: str) -> GrammarState:
    """G over C (a fifth); then the soprano moves to A, the bass rests, the alto is lowest."""
    plan = make_plan(seed=0, index=0, tonic=0, mode="major", n_bars=8, n_parts=4,
                     time_signature="4/4", bar_len=48, version=version)
    st = GrammarState(1, 48, 4, 8, [plan])
    _feed(st, ["POS_0", "PART_0", "VEL_4", "PITCH_67", "DUR_12", "PART_1", "VEL_4", "PITCH_64",
               "DUR_12", "PART_2", "VEL_4", "PITCH_55", "DUR_12", "PART_3", "VEL_4", "PITCH_48",
               "DUR_12", "POS_12", "PART_0", "PITCH_69", "DUR_12", "PART_1"])
    return st


def test_form_v2_keeps_a_middle_part_out_of_parallels_when_it_becomes_the_sounding_bass():
    allowed = _allowed_pitches(_middle_part_takes_the_bass("form-v2"))
    assert not allowed & {38, 50, 62}  # D under A: fifths again
    assert {60, 61, 63, 68, 74} <= allowed  # (D above A: a fourth)


def test_form_v2_checks_the_bass_against_a_held_middle_part_that_sounds_on_top():
    plan = make_plan(seed=0, index=0, tonic=0, mode="major", n_bars=8, n_parts=4,
                     time_signature="4/4", bar_len=48, version="form-v2")
    st = GrammarState(1, 48, 4, 8, [plan])
    # G over C (a fifth); the soprano stops, the alto's E is held and sounds on top
    _feed(st, ["POS_0", "PART_0", "VEL_4", "PITCH_67", "DUR_12", "PART_1", "VEL_4", "PITCH_64",
               "DUR_24", "PART_3", "VEL_4", "PITCH_48", "DUR_12", "POS_12"])
    allowed = _allowed_pitches(st)
    assert not allowed & {45, 57}  # A under the held E: fifths again
    assert {43, 48, 53, 55} <= allowed


def test_form_v1_keeps_its_own_check_only():
    assert {50, 62, 74} <= _allowed_pitches(_middle_part_takes_the_bass("form-v1"))  # (the bass part only)


def _to_cadence_chord(version: str) -> GrammarState:
    """A four-part C major piece whose plan repeats bar 1 in bar 5, decoded to the cadence chord
    of bar 4 (V, from tick 24), after an octave G over G; bar 1 opens with G over C (a fifth)."""
    seed = next(s for s in range(50) if make_plan(
        seed=s, index=0, tonic=0, mode="major", n_bars=8, n_parts=4, time_signature="4/4",
        bar_len=48).letters == "AA")
    plan = make_plan(seed=seed, index=0, tonic=0, mode="major", n_bars=8, n_parts=4,
                     time_signature="4/4", bar_len=48, version=version)
    assert plan.copies[5] == 1 and plan.cadences[4].degree == "V"
    st = GrammarState(1, 48, 4, 8, [plan])
    chord = ["PART_0", "VEL_4", "PITCH_67", "DUR_24", "PART_1", "VEL_4", "PITCH_64", "DUR_24",
             "PART_2", "VEL_4", "PITCH_60", "DUR_24", "PART_3", "VEL_4", "PITCH_48", "DUR_24"]
    _feed(st, ["POS_0", *chord, "BAR", "POS_0", "PART_0", "PITCH_69", "DUR_12", "BAR", "POS_0",
               "PITCH_71", "DUR_12", "BAR", "POS_0", "PITCH_67", "DUR_12",
               "PART_1", "PITCH_62", "DUR_12", "PART_2", "PITCH_59", "DUR_12", "PART_3",
               "PITCH_55", "DUR_12", "POS_24", "PART_0"])
    return st


def test_form_v2_voices_a_cadence_chord_out_of_parallels_into_it_and_into_the_repeat():
    st = _to_cadence_chord("form-v2")
    # V (G B D) over G, near the soprano's G4: not another G (octaves again; G4 itself stays,
    # no move), not D (a fifth over the bass, then G over C in the repeated bar 1: fifths)
    assert _allowed_pitches(st) == {59, 67, 71}
    assert _allowed_pitches(_to_cadence_chord("form-v1")) == {59, 62, 67, 71, 74}


def test_form_v2_decodes_four_parts_without_parallel_outer_voices_under_random_logits():
    for ts, blen in (("4/4", 48), ("3/4", 36), ("6/8", 36)):
        plans = [make_plan(seed=s, index=0, tonic=s % 12, mode=("major", "minor")[s % 2],
                           n_bars=12, n_parts=4, time_signature=ts, bar_len=blen)
                 for s in range(6)]
        assert {p.version for p in plans} == {"form-v2"}
        for plan, piece in zip(plans, _decode(plans, ts, 4, 12, seed=3), strict=True):
            assert outer_parallels(piece)[0] == 0
            assert tonic_ending(piece, plan.tonic, plan.mode)


# digests of main's decoding before form-v2 (commit 14ebb16), checkpoint cadenza 1.1.0 (now
# retired): tracks composed with form-v1 or without a plan must regenerate byte for byte
OLD_DECODING = [
    (Conditioning(88.0, 9, "minor", "3/4", 2.0, 62.0, 3.0, 8, ("strings", "bass")), 11, 2,
     {"form-v1": "4e0e73137db394aacd2fadcdda96644c04f8fb3095382e99b3c1e8077cb90f5d",
      None: "68b5a491747376e8925190084eaac2a23cd2241b7f0a4054509f721407741b52"}),
    (Conditioning(104.0, 3, "major", "4/4", 3.0, 60.0, 4.0, 12, ("piano",)), 5, 6,
     {"form-v1": "2edc55cc0fde1b2e122e0075bf67f3d81615995214b7d7220499a09099f1d566",
      None: "344a210d032450e407091f6a2afcaa821a9c7cd3d0caebc4731671ee0a6ed2d2"}),
]


@pytest.fixture(scope="module")
def shipped():
    return load_bundle(DEFAULT_CHECKPOINT)


@pytest.fixture(scope="module")
def retired_v1():
    return load_bundle(V1_CHECKPOINT)


@pytest.mark.parametrize("case", range(len(OLD_DECODING)))
@pytest.mark.parametrize("plan", ["form-v1", None])
def test_form_v1_and_no_plan_decode_byte_for_byte_as_before_form_v2(retired_v1, case, plan):
    cond, seed, n, digests = OLD_DECODING[case]
    comp = compose(retired_v1, cond, seed=seed, n_candidates=n, check_originality=False, plan=plan)
    assert comp.midi_sha256 == digests[plan]
    assert comp.sampling["plan"] == plan
    assert (comp.sampling["form"] or {}).get("version") == plan


def test_form_v2_four_part_pieces_of_the_shipped_model_have_at_most_one_percent_parallels(
        shipped):
    par = moves = 0
    for seed in range(6):
        cond = Conditioning(96.0, seed * 5 % 12, ("major", "minor")[seed % 2],
                            ("4/4", "3/4", "2/4")[seed % 3], 3.0, 62.0, 4.0, 12, ("strings",))
        comp = compose(shipped, cond, seed=seed, n_candidates=2, check_originality=False)
        assert comp.sampling["plan"] == "form-v2"
        p, m = outer_parallels(tokens_to_piece(comp.tokens))
        par, moves = par + p, moves + m
        assert tonic_ending(tokens_to_piece(comp.tokens), cond.key_tonic, cond.mode)
    print(f"form-v2 outer-voice parallels: {par}/{moves}")
    assert moves >= 50 and par / moves <= 0.01  # (0 of 89 when written)
