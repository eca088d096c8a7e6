"""Load a checkpoint once and compose pieces under a ``Conditioning``.

    bundle = load_bundle(DEFAULT_CHECKPOINT)
    comp = compose(bundle, Conditioning.default(), seed=7)
    comp.midi_bytes  # deterministic for (checkpoint, cond, seed, sampling parameters)

``compose`` decodes ``n_candidates`` streams in one batch (grammar forces the header, bar count
and parts), optionally transposes each candidate to the requested tonic and register
(``key_transpose``), measures it, rejects candidates that are too close to the corpus and keeps
the one whose measured attributes fit the request best.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from generation.midi_lib import pretty_midi
from generation.model.attributes import Attributes, density_bucket, measure, part_continuity
from generation.model.conditioning import SCHEMA_VERSION, Conditioning, model_features
from generation.model.decoder import Decoder
from generation.model.network import CondTransformer, ModelConfig
from generation.model.plan import PLAN_VERSION, PLAN_VERSIONS, Plan, make_plan
from generation.model.sampling import sample_tokens
from generation.model.structure import outer_parallels
from generation.model.train import DEFAULT_CHECKPOINT
from generation.model.vocab import (
    VOCAB,
    VOCAB_VERSION,
    bar_ticks,
    midi_bytes,
    piece_to_tokens,
    tempo_bin,
    tokens_to_midi,
    tokens_to_piece,
    transpose_tokens,
)

__all__ = ["DEFAULT_CHECKPOINT", "ModelBundle", "Composition", "load_bundle", "compose",
           "header_tokens", "fit_score"]

# a part that only plays in one half of the piece (enters for the last bars, or stops halfway)
# costs as much as a wrong density bucket, per share of the parts
TEXTURE_WEIGHT = 2.5
# each 1 % of outer-voice moves in parallel fifths/octaves costs 0.2 (5 % = a wrong density)
PARALLELS_WEIGHT = 20.0
DEFAULTS = {"temperature": 0.9, "top_p": 0.95, "guidance": 1.5, "n_candidates": 6,
            "key_transpose": True, "threads": 1, "weights": "fp16", "plan": PLAN_VERSION}


@dataclass
class ModelBundle:
    model: CondTransformer
    config: ModelConfig
    vocab: list[str]
    vocab_version: str
    cond_schema: str
    checkpoint_sha256: str
    manifest_sha256: str
    model_name: str
    model_version: str
    path: str
    metrics: dict = field(default_factory=dict)
    _index: object = None
    _decoders: dict = field(default_factory=dict)

    def decoder(self, weights: str = DEFAULTS["weights"]) -> Decoder:
        """The sampling form of the model with ``weights`` (built once per mode)."""
        if weights not in self._decoders:
            self._decoders[weights] = Decoder(self.model, weights)
        return self._decoders[weights]

    @property
    def index(self):
        """The originality index (loaded on first use)."""
        if self._index is None:
            from generation.model.originality import load_index

            self._index = load_index()
        return self._index


@dataclass
class Composition:
    midi: pretty_midi.PrettyMIDI
    midi_bytes: bytes
    tokens: list[int]
    measured: Attributes
    sampling: dict
    originality: dict
    candidates: list[dict]
    candidate_midi: list[pretty_midi.PrettyMIDI] = field(default_factory=list, repr=False)  # all, in order

    @property
    def midi_sha256(self) -> str:
        return hashlib.sha256(self.midi_bytes).hexdigest()


def load_bundle(path: str | Path = DEFAULT_CHECKPOINT, *, device: str = "cpu") -> ModelBundle:
    """Load a checkpoint (``weights_only=True``) into an eval-mode model."""
    if device != "cpu":
        raise ValueError("only device='cpu' is supported")
    path = Path(path)
    raw = path.read_bytes()
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if ck.get("vocab", {}).get("names") != VOCAB.names:
        raise ValueError(f"{path}: vocabulary differs from {VOCAB_VERSION}")
    if ck.get("cond_schema") != SCHEMA_VERSION:
        raise ValueError(f"{path}: conditioning schema {ck.get('cond_schema')} != {SCHEMA_VERSION}")
    cfg = ModelConfig(**ck["config"])
    model = CondTransformer(cfg)
    sd = dict(ck["state_dict"])
    sd["head.weight"] = sd["tok_emb.weight"]
    model.load_state_dict(sd)
    model.eval()
    return ModelBundle(
        model=model, config=cfg, vocab=list(ck["vocab"]["names"]),
        vocab_version=ck["vocab_version"], cond_schema=ck["cond_schema"],
        checkpoint_sha256=hashlib.sha256(raw).hexdigest(),
        manifest_sha256=ck["manifest_sha256"], model_name=ck["model_name"],
        model_version=ck["model_version"], path=str(path), metrics=dict(ck.get("metrics", {})))


def header_tokens(cond: Conditioning) -> list[int]:
    """The forced header ``BOS TS TEMPO INST... BAR`` for a request."""
    v = VOCAB
    return ([v.bos, v.index[f"TS_{cond.time_signature}"], v.tempo0 + tempo_bin(cond.tempo_bpm)]
            + [v.index[f"INST_{f}"] for f in cond.part_families()] + [v.bar])


def fit_score(m: Attributes, cond: Conditioning, *, key: bool = True) -> float:
    """Distance between measured attributes and the request (0 = perfect)."""
    s = 0.0
    if key:
        s += 4.0 * (m.key_tonic != cond.key_tonic)
    s += 4.0 * (m.mode != cond.mode)
    s += 2.5 * abs(m.density_bucket - density_bucket(cond.density))
    s += abs(m.pitch_mean - cond.register) / 12.0
    s += 0.5 * abs(m.polyphony - cond.polyphony)
    s += 4.0 * (m.length_bars != cond.length_bars)
    return s


def _best_transpose(tokens: list[int], m: Attributes, cond: Conditioning, *,
                    octaves_only: bool = False) -> int:
    """Semitone shift to the requested tonic whose register lands nearest the request (only
    whole octaves when the piece was composed in the requested key under a plan)."""
    base = 0 if octaves_only else (cond.key_tonic - m.key_tonic) % 12
    options = []
    for lo, hi in ((21, 108), (0, 127)):  # the piano range, else anything MIDI can hold
        options = [k for k in (base - 12, base, base + 12)
                   if m.pitch_min + k >= lo and m.pitch_max + k <= hi]
        if options:
            break
    if not options:
        return 0
    return min(options, key=lambda k: (abs(m.pitch_mean + k - cond.register), abs(k)))


def compose(
    bundle: ModelBundle,
    cond: Conditioning,
    *,
    seed: int,
    temperature: float = DEFAULTS["temperature"],
    top_p: float = DEFAULTS["top_p"],
    guidance: float = DEFAULTS["guidance"],
    n_candidates: int = DEFAULTS["n_candidates"],
    key_transpose: bool = DEFAULTS["key_transpose"],
    threads: int = DEFAULTS["threads"],
    weights: str = DEFAULTS["weights"],
    check_originality: bool = True,
    plan: str | None = DEFAULTS["plan"],
    too_close: list[int] | None = None,
) -> Composition:
    """Compose one piece; deterministic for (bundle, cond, seed, parameters).

    A candidate the originality index calls too close is not chosen; which ones were is recorded
    (``sampling.too_close_candidates``) and ``too_close=`` replays that record, so a track
    regenerates byte for byte after the index grows (new known works, a new music21).

    ``plan=PLAN_VERSION`` composes each candidate to a form plan (``generation.model.plan``) in
    the requested key; an older version in ``PLAN_VERSIONS`` decodes as it did (the tracks it
    made regenerate byte for byte); ``plan=None`` is the decoding of tracks made before plans
    existed.
    """
    cond.validate()
    if n_candidates < 1:
        raise ValueError("n_candidates must be >= 1")
    if plan is not None and plan not in PLAN_VERSIONS:
        raise ValueError(f"unknown plan {plan!r} (this code knows {', '.join(PLAN_VERSIONS)})")
    blen = bar_ticks(cond.time_signature)
    plans: list[Plan] | None = None
    if plan is not None:
        plans = [make_plan(seed=seed, index=i, tonic=cond.key_tonic, mode=cond.mode,
                           n_bars=cond.length_bars, n_parts=cond.n_parts,
                           time_signature=cond.time_signature, bar_len=blen, version=plan)
                 for i in range(n_candidates)]
    decoder = bundle.decoder(weights)
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        seqs, steps = sample_tokens(
            decoder, header_tokens(cond), model_features(cond.to_vector()),
            n_streams=n_candidates, seed=seed, bar_len=blen,
            n_parts=cond.n_parts, target_bars=cond.length_bars, temperature=temperature,
            top_p=top_p, guidance=guidance, plans=plans)
    finally:
        torch.set_num_threads(prev_threads)
    cands = []
    for i, seq in enumerate(seqs):
        piece = tokens_to_piece(seq)
        seq = piece_to_tokens(piece)  # canonical form (round-trips via a file)
        raw = measure(tokens_to_midi(seq))
        shift = (_best_transpose(seq, raw, cond, octaves_only=plans is not None)
                 if key_transpose else 0)
        toks = transpose_tokens(np.asarray(seq), shift).tolist() if shift else seq
        pm = tokens_to_midi(toks)
        m = measure(pm)
        orig = (bundle_check(bundle, pm) if check_originality
                else {"verdict": "unchecked", "longest_match_notes": 0, "nearest_piece": None})
        close = orig["verdict"] == "too_close" if too_close is None else i in too_close
        score = (fit_score(m, cond) + TEXTURE_WEIGHT * (1.0 - part_continuity(pm))
                 + (100.0 if close else 0.0))
        if plans is not None:
            par, moves = outer_parallels(piece)
            score += PARALLELS_WEIGHT * par / max(moves, 1)
        cands.append({"index": i, "tokens": toks, "midi": pm, "measured": m, "raw": raw,
                      "transpose": shift, "score": round(score, 4), "originality": orig,
                      "too_close": close})
    best = min(cands, key=lambda c: (c["score"], c["index"]))
    tokens_to_piece(best["tokens"])  # raises if the grammar were ever violated
    sampling = {
        "seed": int(seed), "temperature": float(temperature), "top_p": float(top_p),
        "guidance": float(guidance), "n_candidates": int(n_candidates),
        "key_transpose": bool(key_transpose), "threads": int(threads),
        "weights": decoder.weights, "plan": plan,
        "form": plans[best["index"]].summary() if plans is not None else None,
        "chosen_candidate": best["index"], "transpose": best["transpose"],
        "too_close_candidates": [c["index"] for c in cands if c["too_close"]],
        "decode_steps": steps, "cond_schema": SCHEMA_VERSION, "cond_vector": cond.to_vector(),
        "vocab_version": bundle.vocab_version, "checkpoint_sha256": bundle.checkpoint_sha256,
        "manifest_sha256": bundle.manifest_sha256,
        "model": f"{bundle.model_name}-{bundle.model_version}",
    }
    summary = [{"index": c["index"], "score": c["score"], "transpose": c["transpose"],
                "verdict": c["originality"]["verdict"],
                "raw_key": [c["raw"].key_tonic, c["raw"].mode]} for c in cands]
    return Composition(midi=best["midi"], midi_bytes=midi_bytes(best["midi"]),
                       tokens=best["tokens"], measured=best["measured"], sampling=sampling,
                       originality=best["originality"], candidates=summary,
                       candidate_midi=[c["midi"] for c in cands])


def bundle_check(bundle: ModelBundle, pm: pretty_midi.PrettyMIDI) -> dict:
    from generation.model.originality import check_originality

    return check_originality(pm, bundle.index)
