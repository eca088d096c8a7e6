"""A tiny synthetic corpus and a debug checkpoint, built once per session (no var/ needed)."""

import json

import numpy as np
import pytest

from generation.model.vocab import GridNote, Piece, piece_to_tokens


def synthetic_pieces(n: int, seed: int = 0) -> list[Piece]:
    """Scale-wise melodies in random keys and metres, some with a bass part."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        ts = str(rng.choice(["4/4", "3/4", "6/8", "2/4"]))
        two = bool(rng.random() < 0.4)
        fams = ("strings", "bass") if two else ("pipe",)
        tonic = int(rng.integers(55, 67))
        scale = [0, 2, 4, 5, 7, 9, 11, 12]
        notes, t = [], 0
        for _ in range(int(rng.integers(16, 40))):
            d = int(rng.choice([6, 12, 12, 24]))
            notes.append(GridNote(t, 0, 5, tonic + scale[int(rng.integers(0, 8))], d))
            if two and t % 24 == 0:
                notes.append(GridNote(t, 1, 4, tonic - 12, 24))
            t += d
        out.append(Piece(ts, int(rng.integers(5, 25)), fams, notes).canonical())
    return out


def write_corpus(path, pieces):
    from generation.model.corpus import piece_label

    path.mkdir(parents=True, exist_ok=True)
    toks = [piece_to_tokens(p) for p in pieces]
    offsets = np.cumsum([0] + [len(t) for t in toks])
    split = np.array([0] * (len(toks) - 8) + [1] * 4 + [2] * 4)
    np.savez_compressed(path / "tokens.npz", tokens=np.concatenate(toks).astype(np.int16),
                        offsets=offsets, labels=np.array([piece_label(p) for p in pieces],
                                                         dtype=np.float32), split=split)
    manifest = path / "manifest.json"
    manifest.write_text(json.dumps({"pieces": [{"id": f"synthetic#{i}"} for i in
                                               range(len(toks))]}))
    return manifest, toks


@pytest.fixture(scope="session")
def debug_run(tmp_path_factory):
    """Train the tiny debug model for a few steps; return paths and the result."""
    from generation.model.train import DEBUG_MODEL, TrainConfig, train

    root = tmp_path_factory.mktemp("model")
    manifest, toks = write_corpus(root / "corpus", synthetic_pieces(48))
    cfg = TrainConfig(steps=12, batch_size=4, eval_every=6, save_every=6, warmup=2,
                      threads=1, model=DEBUG_MODEL)
    ckpt = root / "debug.pt"
    result = train(cfg, corpus_dir=root / "corpus", manifest_path=manifest,
                   state_dir=root / "state", out=ckpt, progress=False, write_card=False)
    return {"root": root, "ckpt": ckpt, "manifest": manifest, "result": result, "cfg": cfg,
            "tokens": toks}
