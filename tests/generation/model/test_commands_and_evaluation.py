"""Management command wrappers and evaluation helpers."""

import io
import json

import numpy as np
from django.core.management import call_command

from generation.model.attributes import measure
from generation.model.conditioning import Conditioning
from generation.model.evaluate import matches, nll_section, statistics_section
from generation.model.vocab import piece_to_midi, tokens_to_midi, transpose_tokens

from .conftest import synthetic_pieces


def test_check_originality_command_prints_the_verdict_as_json(tmp_path):
    from generation.model.corpus import load_corpus  # noqa: F401  (module import only)
    from generation.model.originality import load_index

    index = load_index()
    # rebuild one corpus melody from the index itself: intervals -> pitches
    start = int(np.flatnonzero(index.owner == 100)[0])
    ivs = index.seq[start:start + 20]
    pitches = 60 + np.concatenate([[0], np.cumsum(ivs)])
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(velocity=80, pitch=int(p), start=i / 4, end=i / 4 + .25))
    pm.instruments.append(inst)
    path = tmp_path / "quote.mid"
    pm.write(str(path))
    out = io.StringIO()
    call_command("check_originality", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["verdict"] == "too_close"
    assert result["nearest_piece"] == index.names[100]
    assert result["longest_match_notes"] == 21


def test_matches_compares_measured_with_requested_attributes():
    piece = synthetic_pieces(1, seed=4)[0]
    m = measure(piece_to_midi(piece))
    c = Conditioning(m.tempo, m.key_tonic, m.mode, m.time_signature, max(m.density, 0.25),
                     m.pitch_mean, 1.0, m.length_bars, tuple(m.families))
    assert all(matches(m, c).values())
    other = Conditioning(m.tempo * 1.5, (m.key_tonic + 1) % 12, m.mode, m.time_signature,
                         max(m.density, 0.25), m.pitch_mean, 1.0, m.length_bars + 1, ("brass",))
    got = matches(m, other)
    assert not got["tempo"] and not got["key"] and not got["length_bars"]
    assert not got["instruments"]


def test_statistics_of_identical_sets_overlap_fully():
    pms = [piece_to_midi(p) for p in synthetic_pieces(6, seed=2)]
    s = statistics_section(pms, pms)
    assert s["pitch_class_histogram_overlap"] == 1.0
    assert s["pitch_range"]["generated"] == s["pitch_range"]["held_out"]


def test_nll_section_scores_model_and_ngram_on_the_same_tokens(debug_run):
    from generation.model.compose import load_bundle
    from generation.model.corpus import load_corpus

    data = load_corpus(debug_run["root"] / "corpus")
    r = nll_section(load_bundle(debug_run["ckpt"]), data)
    assert r["test_pieces"] == 4
    assert 0 < r["nll_ngram"] < np.log(370)
    assert 0 < r["nll_model"] < 10
    assert set(r["nll_ngram_by_order"]) == {"2", "3", "4", "5", "6", "8"}


def test_transposed_tokens_measure_a_transposed_key():
    piece = synthetic_pieces(1, seed=9)[0]
    from generation.model.vocab import piece_to_tokens

    toks = np.asarray(piece_to_tokens(piece))
    a = measure(tokens_to_midi(toks.tolist()))
    b = measure(tokens_to_midi(transpose_tokens(toks, 3).tolist()))
    assert b.key_tonic == (a.key_tonic + 3) % 12


def test_it_names_the_missing_corpus_instead_of_a_traceback(tmp_path):
    import pytest
    from django.core.management.base import CommandError

    from generation.model.corpus import CorpusMissing, load_corpus

    with pytest.raises(CorpusMissing, match="build_corpus"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CommandError, match="build_corpus"):
        call_command("train_model", "--debug", "--steps", "1", "--out", str(tmp_path / "x.pt"),
                     "--state-dir", str(tmp_path / "state"), "--corpus", str(tmp_path / "nowhere"))
    with pytest.raises(CommandError, match="build_corpus"):
        call_command("evaluate_model", "--sections", "nll", "--corpus", str(tmp_path / "nowhere"))
