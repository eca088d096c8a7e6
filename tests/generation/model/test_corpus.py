"""music21 -> Piece conversion, skip reasons, manifest terms."""

import json

import pytest
from music21 import converter

from generation.model.corpus import COLLECTIONS, DEFAULT_MANIFEST, score_to_piece, split_of


def test_a_tune_with_a_pickup_starts_its_first_full_bar_on_a_barline():
    s = converter.parse("X:1\nT:t\nM:3/4\nL:1/4\nK:C\nc|d2e|fga|b3|c'3|]", format="abc")
    p = score_to_piece(s, COLLECTIONS["oneills1850"])
    assert p.ts == "3/4"
    assert p.notes[0].start == 24  # the one-beat pickup ends at the first barline (36)
    assert (p.notes[1].start, p.notes[1].pitch, p.notes[1].dur) == (36, 74, 24)
    assert len(p.notes) == 8


def test_a_score_with_an_unsupported_metre_is_skipped_with_a_reason():
    s = converter.parse("X:1\nT:t\nM:5/4\nL:1/4\nK:C\ncdefg|abc'd'e'|]", format="abc")
    with pytest.raises(ValueError, match="time signature"):
        score_to_piece(s, COLLECTIONS["oneills1850"])


def test_split_is_by_piece_and_stable():
    assert split_of("oneills1850/x.abc#1") == split_of("oneills1850/x.abc#1")
    splits = {split_of(f"piece{i}") for i in range(200)}
    assert splits == {"train", "valid", "test"}


def test_manifest_records_terms_and_excludes_non_commercial_collections():
    m = json.loads(DEFAULT_MANIFEST.read_text())
    assert not m["collections"]["essenFolksong"]["included"]
    assert "NON-COMMERCIAL" in m["collections"]["essenFolksong"]["encoding_terms"]
    ids = [p["id"] for p in m["pieces"]]
    assert len(ids) == len(set(ids)) > 3000
    assert {p["collection"] for p in m["pieces"]} == {
        "bach_chorales", "oneills1850", "ryansMammoth", "airdsAirs"}
    for p in m["pieces"][:50]:
        assert p["split"] in {"train", "valid", "test"} and len(p["tokens_sha256"]) == 64
        assert p["commercial_use"] and p["composition_public_domain"]
    assert all(s["reason"] for s in m["skipped"])
