"""Training (debug config), resumption, checkpoint loading and deterministic composition."""

import hashlib
import subprocess
import sys

import torch

from generation.model.compose import compose, load_bundle
from generation.model.conditioning import Conditioning
from generation.model.train import DEBUG_MODEL, train
from generation.model.vocab import VOCAB, tokens_to_piece

COND = Conditioning(110.0, 7, "major", "3/4", 2.0, 64.0, 2.0, 6, ("strings", "bass"))


def test_training_lowers_the_loss_and_writes_a_self_describing_checkpoint(debug_run):
    r = debug_run["result"]
    ck = torch.load(debug_run["ckpt"], weights_only=True)
    assert ck["vocab"]["names"] == VOCAB.names
    assert ck["cond_schema"] == "cond-v1"
    assert ck["config"]["n_embd"] == DEBUG_MODEL.n_embd
    assert len(ck["manifest_sha256"]) == 64
    assert r["steps"] == 12
    hist = [h["loss"] for h in _history(debug_run)]
    assert min(hist[-4:]) < hist[0]


def _history(run):
    import json

    return [json.loads(x) for x in (run["root"] / "state" / "history.jsonl").read_text().splitlines()]


def test_training_resumes_to_the_same_weights(debug_run, tmp_path):
    cfg = debug_run["cfg"]
    # interrupt after 6 steps, resume to 12: same weights as one uninterrupted 12-step run
    kw = dict(corpus_dir=debug_run["root"] / "corpus", manifest_path=debug_run["manifest"],
              state_dir=tmp_path / "state", progress=False, write_card=False)
    assert train(cfg, out=tmp_path / "b.pt", stop_after=6, **kw) == {"stopped_at": 6}
    assert not (tmp_path / "b.pt").exists()
    train(cfg, out=tmp_path / "b.pt", **kw)
    a = torch.load(debug_run["ckpt"], weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_compose_is_deterministic_and_honours_forced_attributes(debug_run):
    bundle = load_bundle(debug_run["ckpt"])
    a = compose(bundle, COND, seed=11, n_candidates=3, check_originality=False)
    b = compose(bundle, COND, seed=11, n_candidates=3, check_originality=False)
    c = compose(bundle, COND, seed=12, n_candidates=3, check_originality=False)
    assert a.midi_bytes == b.midi_bytes
    assert a.midi_bytes != c.midi_bytes
    m = a.measured
    assert m.time_signature == "3/4"
    assert m.length_bars == 6
    assert set(m.families) == {"strings", "bass"}
    assert abs(m.tempo - 110.0) / 110.0 < 0.05
    assert m.key_tonic == 7  # transposed to the requested tonic
    tokens_to_piece(a.tokens)
    assert a.sampling["seed"] == 11 and a.sampling["checkpoint_sha256"] == bundle.checkpoint_sha256


def test_compose_gives_the_same_bytes_in_another_process(debug_run):
    bundle = load_bundle(debug_run["ckpt"])
    here = compose(bundle, COND, seed=5, n_candidates=2, check_originality=False)
    code = (
        "import hashlib,sys\n"
        "from generation.model.compose import compose, load_bundle\n"
        "from generation.model.conditioning import Conditioning\n"
        f"c = Conditioning.from_vector({COND.to_vector()!r})\n"
        f"b = load_bundle({str(debug_run['ckpt'])!r})\n"
        "print(hashlib.sha256(compose(b, c, seed=5, n_candidates=2,"
        " check_originality=False).midi_bytes).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == hashlib.sha256(here.midi_bytes).hexdigest()
