"""The committed checkpoint loads, names its corpus and composes a few bars."""

import json

import pytest

from generation.model import DEFAULT_CHECKPOINT
from generation.model.compose import compose, load_bundle
from generation.model.conditioning import Conditioning
from generation.model.corpus import DEFAULT_MANIFEST, file_sha256


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(DEFAULT_CHECKPOINT)


def test_checkpoint_is_small_and_names_the_committed_manifest(bundle):
    assert DEFAULT_CHECKPOINT.stat().st_size <= 25 * 1024 * 1024
    assert bundle.manifest_sha256 == file_sha256(DEFAULT_MANIFEST)
    manifest = json.loads(DEFAULT_MANIFEST.read_text())
    trained = [c for c in manifest["collections"].values() if c["included"]]
    assert trained and all(c["commercial_use"] for c in trained)
    card = (DEFAULT_CHECKPOINT.parent / "MODEL_CARD.md").read_text()
    assert bundle.manifest_sha256 in card and bundle.checkpoint_sha256 in card


def test_shipped_model_composes_eight_bars_in_the_requested_key(bundle):
    cond = Conditioning(96.0, 2, "major", "4/4", 2.0, 70.0, 1.0, 8, ("strings",))
    comp = compose(bundle, cond, seed=1)
    m = comp.measured
    assert m.length_bars == 8 and m.time_signature == "4/4"
    assert (m.key_tonic, m.mode) == (2, "major")
    assert m.n_notes >= 16
    assert comp.originality["verdict"] == "original"
    longest = max(n.end - n.start for i in comp.midi.instruments for n in i.notes)
    assert longest <= 8 * 60 / 96.0  # no stuck notes: at most two bars
