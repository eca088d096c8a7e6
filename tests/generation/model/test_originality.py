"""Originality against known works: transposition- and re-timing-invariant melodic matches."""

import json
import time

import numpy as np
import pretty_midi
import pytest

from generation.model.known_works import line_intervals, read_source
from generation.model.originality import (
    DEFAULT_INDEX,
    DEFAULT_INDEX_MANIFEST,
    TOO_CLOSE_INTERVALS,
    build_index,
    check_originality,
    false_alarm_report,
    fresh_pieces,
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


def retimed_copy(score, *, shift: int, seed: int) -> pretty_midi.PrettyMIDI:
    """Every part of a music21 score transposed by ``shift`` and played to a new rhythm: each
    note gets a random duration, and some are split into two repeated notes."""
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=97)
    parts = list(score.parts) if score.hasPartLikeStreams() else [score]
    for k, part in enumerate(parts):
        inst = pretty_midi.Instrument(program=[0, 40, 41, 42][k % 4])
        t = 0.0
        for el in part.flatten().notes:
            if float(el.quarterLength) <= 0:
                continue
            pitch = max(p.midi for p in el.pitches) + shift
            pieces = 2 if rng.random() < 0.2 else 1
            for _ in range(pieces):
                d = float(rng.choice([0.17, 0.25, 0.4, 0.6, 0.9]))
                inst.notes.append(pretty_midi.Note(velocity=80, pitch=pitch, start=t, end=t + d * 0.9))
                t += d
        pm.instruments.append(inst)
    return pm


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
    line = [n.pitch for n in __import__("generation.model.vocab", fromlist=["x"])
            .tokens_to_piece(pieces[2][1]).notes if n.part == 0]
    quote = [p for i, p in enumerate(line) if i == 0 or p != line[i - 1]][:8]  # 8 distinct steps
    rng = np.random.default_rng(0)
    fresh = list(70 + np.cumsum(rng.choice([-7, 8, -9, 10], size=30)) % 30)
    r = check_originality(_melody(fresh[:10] + [q + 1 for q in quote] + fresh[10:]), index)
    assert r["verdict"] == "original"
    assert 8 <= r["longest_match_notes"] < TOO_CLOSE_INTERVALS + 1


def test_repeated_notes_and_rhythm_do_not_hide_a_copy():
    line = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 69, 71, 72, 71, 69, 67, 65, 64]
    assert line_intervals([60, 60, 62, 62, 62, 64]).tolist() == [2, 2]
    from generation.model.originality import build_index_from_lines

    known = build_index_from_lines([("tune", [line_intervals(line)])], "sha")
    stuttered = [p + 3 for p in line for _ in range(1 + (p % 3 == 0))]  # some notes played twice
    r = check_originality(_melody(stuttered), known)
    assert r == {"longest_match_notes": len(line), "longest_match_intervals": len(line) - 1,
                 "whole_known_line_intervals": len(line) - 1, "nearest_piece": "tune", "verdict": "too_close"}
    # a whole known line is too close even below the run threshold; the same run cut short is not
    assert len(line) - 1 < TOO_CLOSE_INTERVALS
    partial = check_originality(_melody([p + 3 for p in line[:-1]]), known)
    assert partial["whole_known_line_intervals"] == 0 and partial["verdict"] == "original"


@pytest.fixture(scope="module")
def shipped():
    return load_index(), json.loads(DEFAULT_INDEX_MANIFEST.read_text())


def test_the_shipped_index_covers_music21s_corpus_and_lists_its_works(shipped):
    import music21

    from generation.model.corpus import DEFAULT_MANIFEST, file_sha256

    index, manifest = shipped
    assert manifest["music21_version"] == index.meta["music21_version"] == music21.__version__
    assert index.manifest_sha256 == file_sha256(DEFAULT_MANIFEST) == manifest["training_manifest_sha256"]
    assert [w["id"] for w in manifest["works"]] == index.names
    collections = manifest["collections"]
    for name in ("bach", "essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs", "beethoven", "mozart",
                 "haydn", "palestrina", "monteverdi", "trecento", "josquin"):
        assert collections[name]["works"] > 0, name
    assert collections["essenFolksong"]["works"] > 5000 and collections["essenFolksong"]["trained_on"] == 0
    assert collections["palestrina"]["works"] > 1000
    # works the model never trained on are the point: most of the index
    untrained = sum(w["training"] != "train" for w in manifest["works"])
    assert untrained > len(index.names) / 2
    assert DEFAULT_INDEX.stat().st_size < 8 * 1024 * 1024


def test_the_index_is_what_the_build_command_reads_from_music21(shipped):
    from generation.evidence.passage import piece_melodies

    index, manifest = shipped
    same = {d["id"]: d["same_melodies_as"] for d in manifest["duplicates"]}
    for rel in ("bach/bwv66.6.mxl", "essenFolksong/erk5.abc", "palestrina/Agnus_01.krn",
                "beethoven/opus18no1/movement1.mxl"):
        for work in read_source(rel)[:8]:
            stored = piece_melodies(index.seq, index.owner, index.names.index(same.get(work["id"], work["id"])))
            assert [m.tolist() for m in stored] == [m.tolist() for m in work["lines"]], work["id"]
    # the fast readers (ABC tokens, **kern spines) give what music21's full parser gives
    for rel in ("essenFolksong/erk5.abc", "palestrina/Agnus_01.krn"):
        fast, full = read_source(rel)[:4], read_source(rel, fast=False)[:4]
        assert [(w["id"], [x.tolist() for x in w["lines"]]) for w in fast] == [
            (w["id"], [x.tolist() for x in w["lines"]]) for w in full]


def test_a_transposed_retimed_copy_of_a_chorale_outside_the_training_split_is_caught(shipped):
    from music21 import corpus

    index, manifest = shipped
    work = next(w for w in manifest["works"] if w["id"] == "bach/bwv269.mxl#1")
    assert work["training"] in ("valid", "test")  # the model never trained on it
    score = corpus.parse("bach/bwv269")
    whole = check_originality(retimed_copy(score, shift=-3, seed=1), index)
    assert whole["verdict"] == "too_close" and whole["nearest_piece"] == "bach/bwv269.mxl#1"
    soprano = check_originality(retimed_copy(score.parts[0], shift=5, seed=2), index)
    assert soprano["verdict"] == "too_close" and soprano["nearest_piece"] == "bach/bwv269.mxl#1"
    assert soprano["longest_match_intervals"] >= 25


def test_a_transposed_retimed_essen_tune_is_caught(shipped):
    from music21 import corpus

    index, manifest = shipped
    assert any(w["id"] == "essenFolksong/erk5.abc#7" for w in manifest["works"])
    tune = corpus.parse("essenFolksong/erk5.abc", number=7)
    r = check_originality(retimed_copy(tune, shift=4, seed=3), index)
    assert r["verdict"] == "too_close" and r["nearest_piece"] == "essenFolksong/erk5.abc#7"


def test_a_lookup_against_the_whole_index_is_fast(shipped):
    index, _ = shipped
    rng = np.random.default_rng(1)
    seconds = []
    for _ in range(30):
        pm = pretty_midi.PrettyMIDI()
        for part in range(4):  # four parts of 200 notes, scale-wise like real lines
            inst = pretty_midi.Instrument(0)
            pitches = 60 + np.cumsum(rng.choice([-2, -1, 1, 2, 0, 3, -3], size=200)) % 24 + 12 * part
            inst.notes = [pretty_midi.Note(velocity=80, pitch=int(p), start=i * .25, end=i * .25 + .25)
                          for i, p in enumerate(pitches)]
            pm.instruments.append(inst)
        t0 = time.perf_counter()
        check_originality(pm, index)
        seconds.append(time.perf_counter() - t0)
    p50 = 1000 * float(np.median(seconds))
    print(f"originality lookup p50 {p50:.1f} ms (4 parts x 200 notes, {len(index.seq)} intervals indexed)")
    assert p50 < 50


@pytest.mark.slow
def test_fresh_pieces_of_the_shipped_model_are_rarely_called_too_close(shipped):
    index, _ = shipped
    pieces = fresh_pieces(9, seed=7, n_candidates=12)  # 108 new pieces, composed as the publisher does
    report = false_alarm_report(pieces, index)
    print("originality false alarms:", json.dumps(report))
    assert report["pieces"] >= 100
    assert report["false_alarm_rate"] <= 0.02
    assert report["lookup_ms"]["p50"] < 100


def test_the_candidate_choice_replays_from_the_record_whatever_the_index_holds_later(debug_run):
    from generation.model.compose import compose, load_bundle
    from generation.model.conditioning import Conditioning
    from generation.model.originality import build_index_from_lines, melodies

    cond = Conditioning(110.0, 7, "major", "3/4", 2.0, 64.0, 1.0, 8, ("strings",))
    bundle = load_bundle(debug_run["ckpt"])
    free = compose(bundle, cond, seed=3, n_candidates=3, check_originality=False)
    chosen = free.sampling["chosen_candidate"]
    # an index that knows the candidate compose would choose: it is passed over
    bundle._index = build_index_from_lines([("known", melodies(free.candidate_midi[chosen]))], "sha")
    made = compose(bundle, cond, seed=3, n_candidates=3)
    assert made.sampling["too_close_candidates"] == [chosen]
    assert made.sampling["chosen_candidate"] != chosen and made.originality["verdict"] == "original"
    # later the index no longer holds that work: the record, not the index, decides again
    bundle._index = build_index_from_lines([("other", [np.arange(1, 30) % 5 - 2])], "sha")
    again = compose(bundle, cond, seed=3, n_candidates=3, too_close=made.sampling["too_close_candidates"])
    assert again.midi_bytes == made.midi_bytes
    assert compose(bundle, cond, seed=3, n_candidates=3).midi_bytes == free.midi_bytes
