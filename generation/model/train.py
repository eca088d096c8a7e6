"""Training: resumable, deterministic for a seed, 2 CPU threads.

``python -m generation.model.train [--steps N] [--debug]`` reads ``var/corpus/tokens.npz``,
trains the conditional transformer with condition dropout and train-only transposition
augmentation, keeps a resumable state in ``var/train/state.pt`` and writes the shipped checkpoint
(weights, config, vocabulary, cond schema, corpus manifest sha256) plus ``MODEL_CARD.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from generation.gm import GM_FAMILIES
from generation.model.conditioning import SCHEMA, SCHEMA_VERSION, model_features
from generation.model.corpus import DEFAULT_MANIFEST, DEFAULT_OUT, file_sha256, load_corpus
from generation.model.decoder import Decoder
from generation.model.network import CondTransformer, ModelConfig
from generation.model.vocab import VOCAB, VOCAB_VERSION

REPO = Path(__file__).resolve().parents[2]
CHECKPOINT_DIR = REPO / "generation" / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "cadenza-v2.pt"
STATE_DIR = REPO / "var" / "train"
DEBUG_DIR = REPO / "var" / "train-debug"
MODEL_NAME = "cadenza"
MODEL_VERSION = "2.0.0"


@dataclass
class TrainConfig:
    steps: int = 3000  # ~35 min on this 2-core machine
    batch_size: int = 16
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    cond_dropout: float = 0.1  # share of windows trained with the null (unconditional) prefix
    family_relabel: float = 0.5  # share of windows whose INST tokens are relabelled at random
    full_start: float = 0.3  # share of long pieces cropped from their beginning
    seed: int = 1234
    threads: int = 2  # both cores (0.7 s per step here); 1 if the box is shared
    eval_every: int = 200
    save_every: int = 50
    # multi-query attention (one key/value head): batched decoding reads a 4x smaller KV cache
    model: ModelConfig = field(default_factory=lambda: ModelConfig(n_kv_head=1))


DEBUG_MODEL = ModelConfig(n_layer=2, n_head=2, n_embd=64, block_size=256, dropout=0.0)


def header_len(tokens: np.ndarray) -> int:
    """Index of the first BAR (the header is BOS TS TEMPO INST+)."""
    return int(np.argmax(tokens == VOCAB.bar))


class Batcher:
    """Random training windows, with augmentation (train) or fixed windows (evaluation)."""

    def __init__(self, data: dict[str, np.ndarray], split: int, cfg: TrainConfig) -> None:
        self.tokens, self.offsets = data["tokens"].astype(np.int64), data["offsets"]
        self.labels = data["labels"]
        self.idx = np.flatnonzero(data["split"] == split)
        self.cfg = cfg
        self.L = cfg.model.max_tokens

    def piece(self, i: int) -> np.ndarray:
        return self.tokens[self.offsets[i]:self.offsets[i + 1]]

    def window(self, t: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        L = self.L + 1  # inputs + shifted targets
        if len(t) <= L:
            return t
        h = header_len(t)
        if rng is None or rng.random() < self.cfg.full_start:
            return t[:L]
        s = int(rng.integers(h, len(t) - (L - h) + 1))
        return np.concatenate([t[:h], t[s:s + L - h]])

    def augment(self, t: np.ndarray, label: np.ndarray,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        t, label = t.copy(), label.copy()
        v = VOCAB
        pm = (t >= v.pitch0) & (t < v.pitch0 + 128)
        lo, hi = t[pm].min() - v.pitch0, t[pm].max() - v.pitch0
        k = int(rng.integers(max(-5, -lo), min(6, 127 - hi) + 1))
        t[pm] += k
        label[1] = (label[1] + k) % 12
        label[6] += k
        if rng.random() < self.cfg.family_relabel:
            h = header_len(t)
            n_parts = h - 3
            m = int(rng.integers(1, n_parts + 1))
            fams = sorted(rng.choice(len(GM_FAMILIES), size=m, replace=False).tolist())
            for j in range(n_parts):
                t[3 + j] = v.inst0 + fams[j % m]
            label[9:] = 0
            label[9 + np.array(fams)] = 1
        return t, label

    def make(self, pieces: list[int], rng: np.random.Generator | None,
             augment: bool) -> tuple[torch.Tensor, ...]:
        B, L = len(pieces), self.L
        x = np.full((B, L), VOCAB.pad, dtype=np.int64)
        y = np.full((B, L), -1, dtype=np.int64)
        feats = np.zeros((B, self.cfg.model.n_cond), dtype=np.float32)
        uncond = np.zeros(B, dtype=bool)
        for b, i in enumerate(pieces):
            t, label = self.piece(i), self.labels[i]
            if augment and rng is not None:
                t, label = self.augment(t, label, rng)
                uncond[b] = rng.random() < self.cfg.cond_dropout
            w = self.window(t, rng if augment else None)
            x[b, :len(w) - 1] = w[:-1]
            y[b, :len(w) - 1] = w[1:]
            feats[b] = model_features(label.tolist())
        return (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(feats),
                torch.from_numpy(uncond))

    def sample(self, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        return self.make(rng.choice(self.idx, size=self.cfg.batch_size).tolist(), rng, True)


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    p = min((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), 1.0)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * p))


@torch.inference_mode()
def evaluate_nll(model: CondTransformer | Decoder, batcher: Batcher, *,
                 max_pieces: int | None = None, batch_size: int = 16) -> float:
    """Mean NLL (nats) per predicted token over each held-out piece's first window.

    ``model`` may be the trained module or the ``Decoder`` that sampling runs (its weights).
    """
    if isinstance(model, CondTransformer):
        model.eval()
    idx = batcher.idx[:max_pieces] if max_pieces else batcher.idx
    total, count = 0.0, 0
    for s in range(0, len(idx), batch_size):
        x, y, feats, uncond = batcher.make(idx[s:s + batch_size].tolist(), None, False)
        logits = model(x, feats, uncond)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               ignore_index=-1, reduction="sum")
        total += float(loss)
        count += int((y >= 0).sum())
    return total / max(count, 1)


def _checkpoint_payload(model: CondTransformer, cfg: TrainConfig, manifest_sha: str,
                        metrics: dict) -> dict:
    return {
        "format": "cadenza-checkpoint-v1",
        "model_name": MODEL_NAME,
        "model_version": MODEL_VERSION,
        "config": asdict(cfg.model),
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "model"},
        "vocab": VOCAB.to_dict(),
        "vocab_version": VOCAB_VERSION,
        "cond_schema": SCHEMA_VERSION,
        "manifest_sha256": manifest_sha,
        "metrics": metrics,
        "state_dict": {k: v.detach().clone().contiguous()
                       for k, v in model.state_dict().items() if k != "head.weight"},
    }


def train(cfg: TrainConfig, *, corpus_dir: Path = DEFAULT_OUT,
          manifest_path: Path = DEFAULT_MANIFEST, state_dir: Path = STATE_DIR,
          out: Path = DEFAULT_CHECKPOINT, resume: bool = True, progress: bool = True,
          write_card: bool = True, stop_after: int | None = None) -> dict:
    """Train to ``cfg.steps`` (resuming from ``state_dir``); ``stop_after`` interrupts early
    (state saved, no checkpoint written) - a later call continues to the same weights."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    data = load_corpus(corpus_dir)
    manifest_sha = file_sha256(manifest_path)
    train_b, valid_b = Batcher(data, 0, cfg), Batcher(data, 1, cfg)
    model = CondTransformer(cfg.model)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr,
                            betas=(0.9, 0.95))
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_path = state_dir / "state.pt"
    step, elapsed, history = 0, 0.0, []
    rng = np.random.default_rng(cfg.seed)
    if resume and state_path.exists():
        st = torch.load(state_path, weights_only=False)  # our own resumable state (RNG pickles)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, elapsed, history = st["step"], st["elapsed"], st["history"]
        rng.bit_generator.state = st["np_rng"]
        torch.set_rng_state(st["torch_rng"])
    t_start = time.time() - elapsed
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc="train", unit="step")
    model.train()
    while step < cfg.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        x, y, feats, uncond = train_b.sample(rng)
        logits = model(x, feats, uncond)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                               ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        rec = {"step": step, "loss": round(loss.item(), 4)}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            rec["valid_nll"] = round(evaluate_nll(model, valid_b, max_pieces=64), 4)
            model.train()
        history.append(rec)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=rec["loss"], lr=f"{lr_at(step, cfg):.2e}")
        if step % cfg.save_every == 0 or step == cfg.steps:
            tmp = state_path.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "elapsed": time.time() - t_start, "history": history,
                        "np_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()},
                       tmp)
            tmp.replace(state_path)
            with open(state_dir / "history.jsonl", "w") as f:
                f.writelines(json.dumps(h) + "\n" for h in history)
        if stop_after is not None and step >= stop_after and step < cfg.steps:
            if bar is not None:
                bar.close()
            return {"stopped_at": step}
    if bar is not None:
        bar.close()
    minutes = (time.time() - t_start) / 60
    valid_nll = evaluate_nll(model, valid_b)
    metrics = {"steps": step, "train_minutes": round(minutes, 1), "valid_nll": round(valid_nll, 4),
               "final_train_loss": history[-1]["loss"] if history else None,
               "train_pieces": int(len(train_b.idx)), "valid_pieces": int(len(valid_b.idx)),
               "train_tokens": int(sum(len(train_b.piece(i)) for i in train_b.idx))}
    payload = _checkpoint_payload(model, cfg, manifest_sha, metrics)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, out)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    if write_card:
        write_model_card(out, payload, sha, manifest_path)
    return {"checkpoint": str(out), "sha256": sha, "size_bytes": out.stat().st_size, **metrics}


def write_model_card(ckpt: Path, payload: dict, sha: str, manifest_path: Path,
                     evaluation: dict | None = None, note: str = "") -> Path:
    manifest = json.loads(Path(manifest_path).read_text())
    n_params = sum(v.numel() for v in payload["state_dict"].values())
    colls = manifest["collections"]
    rows = "\n".join(
        f"| {name} | {c['pieces']} | {'yes' if c['included'] else 'no'} | "
        f"{'yes' if c['composition_public_domain'] else 'no'} | "
        f"{'allowed' if c['commercial_use'] else 'NON-COMMERCIAL ONLY'} | {c['encoding_terms']} "
        f"(`{c['terms_source']}`) |"
        for name, c in colls.items())
    commercial = all(c["commercial_use"] for c in colls.values() if c["included"])
    schema = "\n".join(f"| {i} | {n} | {u} | {r} |" for i, n, u, r in SCHEMA)
    card = f"""# Model card: {payload['model_name']} {payload['model_version']}

Conditional symbolic-music transformer that composes MIDI under a `{payload['cond_schema']}`
conditioning vector. Generated by `generation/model/train.py`; evaluation figures by
`python manage.py evaluate_model --json`.

- Checkpoint: `{ckpt.name}`, sha256 `{sha}`, {ckpt.stat().st_size / 1e6:.1f} MB, {n_params:,} parameters
- Vocabulary: `{payload['vocab_version']}` ({len(payload['vocab']['names'])} tokens, REMI family,
  12 ticks per quarter note)
- Training-data manifest: `corpus-manifest.json`, sha256 `{payload['manifest_sha256']}`
- Data licence: compositions in the public domain; encodings from music21's bundled corpus under
  its terms (`music21/corpus/license.txt`). Commercial use of outputs:
  **{'allowed (no non-commercial collection in the training data)' if commercial else 'NON-COMMERCIAL ONLY'}**.

## Training data

| collection | pieces | trained on | composition PD | commercial use | encoding terms |
|---|---|---|---|---|---|
{rows}

Split by piece (sha256 of the piece id): 90 % train, 5 % valid, 5 % test; transposition
augmentation (-5..+6 semitones) on the train split only. Pieces that failed to convert are listed
with their reason under `skipped` in the manifest.

## Architecture and hyper-parameters

```
{json.dumps(payload['config'], indent=1)}
{json.dumps(payload['train_config'], indent=1)}
```

Conditioning: the vector's normalised features are projected by an MLP into
{payload['config']['n_prefix']} prefix embeddings; condition dropout trains a learned null prefix
used by classifier-free guidance. Decoding is grammar-constrained (header, bar count, positions,
parts are forced or masked), with a KV cache, temperature / top-p and best-of-N candidates.
Attention: {payload['config']['n_head']} query heads share {ModelConfig(**payload['config']).kv_heads} key/value head(s) per layer
(1 = multi-query attention; the KV cache that batched decoding reads each step shrinks in
proportion). Sampling runs `generation/model/decoder.py`: the same weights rounded to fp16 and packed for
FBGEMM (fp32 activations), which makes one-stream decoding memory-light; its NLL is reported
beside the fp32 model's (`nll_model_sampling_weights`).

## Conditioning schema `{payload['cond_schema']}`

| index | name | unit | range |
|---|---|---|---|
{schema}

## Metrics

```
{json.dumps(payload['metrics'], indent=1)}
```
"""
    if note:
        card += f"\n## Training notes\n\n{note}\n"
    if evaluation is not None:
        card += f"\n## Evaluation (`evaluate_model --json`)\n\n```\n{json.dumps(evaluation, indent=1)}\n```\n"
    card += """
## Limitations

Trained on a small corpus of Bach chorales and 18th-19th century fiddle/fife tunes in under an
hour on 2 CPU cores: the style is narrow (diatonic melodies, four-part hymn texture). Notated
repeats are not expanded; one tempo and one time signature per piece; no drums.
"""
    path = ckpt.parent / "MODEL_CARD.md"
    path.write_text(card)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=TrainConfig.steps)
    ap.add_argument("--seed", type=int, default=TrainConfig.seed)
    ap.add_argument("--threads", type=int, default=TrainConfig.threads)
    ap.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    ap.add_argument("--state-dir", type=Path, default=STATE_DIR)
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--debug", action="store_true", help="tiny model, for tests")
    a = ap.parse_args(argv)
    cfg = TrainConfig(steps=a.steps, seed=a.seed, threads=a.threads)
    out, state_dir = a.out, a.state_dir
    if a.debug:  # never overwrite the shipped checkpoint with a debug model
        cfg.model, cfg.batch_size, cfg.eval_every = DEBUG_MODEL, 4, 10
        if out == DEFAULT_CHECKPOINT:
            out, state_dir = DEBUG_DIR / "debug.pt", DEBUG_DIR / "state"
    print(json.dumps(train(cfg, state_dir=state_dir, out=out, resume=not a.no_resume,
                           write_card=not a.debug)))


if __name__ == "__main__":
    main()
