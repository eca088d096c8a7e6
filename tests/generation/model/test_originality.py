"""Originality index: transposition-invariant melodic matches."""

import time

import numpy as np
import pretty_midi

from generation.model.originality import (
    TOO_CLOSE_INTERVALS,
    build_index,
    check_originality,
    load_index,
)
from generation.model.vocab import tokens_to_midi, transpose_tokens

from .conftest import synthetic_pieces


def _melody(pitches):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(velocity=80, pitch=int(p), start=i * .25,
                                           end=i * .25 + .25))
    pm.instruments.append(inst)
    return pm


def _index():
    from generation.model.vocab import piece_to_tokens

    pieces = [(f"p{i}", piece_to_tokens(p)) for i, p in enumerate(synthetic_pieces(20, seed=3))]
    return build_index(pieces, "sha"), pieces


def test_a_transposed_copy_is_too_close_and_names_its_source():
    index, pieces = _index()
    name, toks = pieces[7]
    pm = tokens_to_midi(transpose_tokens(np.asarray(toks), 5).tolist())
    r = check_originality(pm, index)
    assert r["verdict"] == "too_close"
    assert r["nearest_piece"] == name
    assert r["longest_match_notes"] >= TOO_CLOSE_INTERVALS + 1


def test_a_short_quote_inside_new_material_is_measured_exactly():
    index, pieces = _index()
    quote = [n.pitch for n in __import__("generation.model.vocab", fromlist=["x"])
             .tokens_to_piece(pieces[2][1]).notes if n.part == 0][:8]
    rng = np.random.default_rng(0)
    fresh = list(70 + np.cumsum(rng.choice([-7, 8, -9, 10], size=30)) % 30)
    r = check_originality(_melody(fresh[:10] + [q + 1 for q in quote] + fresh[10:]), index)
    assert r["verdict"] == "original"
    assert 8 <= r["longest_match_notes"] < TOO_CLOSE_INTERVALS + 1


def test_shipped_index_is_fast_and_matches_the_manifest():
    from generation.model.corpus import DEFAULT_MANIFEST, file_sha256

    index = load_index()
    assert index.manifest_sha256 == file_sha256(DEFAULT_MANIFEST)
    pm = _melody(60 + np.cumsum(np.random.default_rng(1).integers(-3, 4, size=300)) % 40)
    t0 = time.perf_counter()
    r = check_originality(pm, index)
    assert time.perf_counter() - t0 < 0.5
    assert set(r) >= {"longest_match_notes", "nearest_piece", "verdict"}
