"""Batched, grammar-constrained sampling with a preallocated KV cache and classifier-free guidance.

``sample_tokens`` decodes ``n_streams`` sequences in lock-step after a forced header. With
``guidance != 1`` each stream also runs an unconditional twin (null prefix) and the logits are
mixed as ``uncond + guidance * (cond - uncond)``. When the context window is full, the cache is
rebuilt from the header plus the most recent half window (the model is trained on such crops).
Once a quarter of the batch has ended (EOS), those streams leave the batch and their cache rows
are dropped, so the longest stream does not keep paying for the finished ones.
Deterministic for a seed on CPU: all randomness comes from one seeded ``torch.Generator``.

What bounds the batched step. With cadenza 1.1.0 (4 key/value heads), at 16 streams ~78% of the
time was ``Decoder.step`` and attention alone read 128 KiB of fp32 keys and values per position
of context per step, past the L3 cache: memory-bound, ~5.5 ms a step at positions 200-250.
cadenza 2.0.0 has one key/value head (multi-query attention), so the step reads 32 KiB per
position. Measured on the 2-core machine, quiet, one thread, speed_section's 16-bar piece
(cProfile of one 16-stream decode: 477 steps, 6,575 tokens, 1.58 s, 3.3 ms a step): the fp16
GEMMs 39 %, attention's two batched products 24 % (0.1 ms each, ~100 GFLOP/s at position 200: bound
by the core's arithmetic, not by memory), GELU 5 %, multinomial 5 %, sort 3 %, the grammar ~2 %.
The loop keeps every kernel's arithmetic and every draw as they were
(tests/generation/model/test_sampling.py pins the tokens of the retired 1.1.0 checkpoint).
"""

from __future__ import annotations

import torch

from generation.model.decoder import Decoder
from generation.model.grammar import GrammarState
from generation.model.network import CondTransformer
from generation.model.vocab import VOCAB


def _top_p_sample(logits: torch.Tensor, temperature: float, top_p: float,
                  gen: torch.Generator) -> torch.Tensor:
    """One token per row from the smallest set of top tokens holding ``top_p`` of the mass.

    The same operations as the plain form (``softmax(logits / t)``, sort, cumulative sum, zero
    past ``top_p``, scatter back, ``multinomial``) with the temporaries reused in place: the
    probabilities and the generator's draws are bit for bit the same.
    """
    probs = torch.softmax(logits if temperature == 1.0 else logits / max(temperature, 1e-4),
                          dim=-1)  # (x / 1.0 is x: the division only costs a pass)
    if top_p < 1.0:
        sp, si = torch.sort(probs, dim=-1, descending=True)
        before = torch.cumsum(sp, dim=-1).sub_(sp)  # the mass ahead of each token
        sp.masked_fill_(before > top_p, 0.0)
        probs = probs.zero_().scatter_(-1, si, sp)
    return torch.multinomial(probs, 1, generator=gen)[:, 0]


def _rows_inputs(feat_row: torch.Tensor, b: int, cfg_on: bool):
    """Conditioning features and the unconditional flags for ``b`` streams (+ CFG twins)."""
    bb = 2 * b if cfg_on else b
    uncond = torch.zeros(bb, dtype=torch.bool)
    uncond[b:] = True
    return feat_row.expand(bb, -1), uncond


@torch.inference_mode()
def sample_tokens(
    model: CondTransformer | Decoder,
    header: list[int],
    feats: list[float],
    *,
    n_streams: int,
    seed: int,
    bar_len: int,
    n_parts: int,
    target_bars: int,
    temperature: float = 1.0,
    top_p: float = 0.95,
    guidance: float = 1.0,
    max_new_tokens: int | None = None,
    weights: str = "fp16",
    plans: list | None = None,
) -> tuple[list[list[int]], int]:
    """Decode ``n_streams`` token sequences; return them (header included) and steps taken.

    ``model`` is a ``Decoder`` (built once per checkpoint) or a ``CondTransformer``, for which a
    decoder with ``weights`` is built on the spot. ``plans`` (one ``Plan`` or None per stream)
    add the form: repeated bars are forced, cadence bars constrained, the scale biased.
    """
    dec = model if isinstance(model, Decoder) else Decoder(model, weights)
    cfg = dec.cfg
    P, B = cfg.n_prefix, n_streams
    cfg_on = guidance != 1.0
    gen = torch.Generator().manual_seed(int(seed))
    feat_row = torch.tensor(feats, dtype=torch.float32)
    h = len(header)
    max_new = max_new_tokens or target_bars * 600
    hist = torch.full((B, h + max_new + 1), VOCAB.eos, dtype=torch.long)
    hist[:, :h] = torch.tensor(header)
    rows = torch.arange(B)  # the streams still decoding, in batch order
    f, uncond = _rows_inputs(feat_row, len(rows), cfg_on)
    cache = dec.new_cache(len(uncond))
    logits = dec.prefill(hist[:1, :h].expand(len(uncond), -1), f, uncond, cache)
    state = GrammarState(B, bar_len, n_parts, target_bars, plans)
    n, pos = h, P + h  # tokens so far, next absolute position
    g = float(guidance)
    steps = 0
    while n < h + max_new:
        b = len(rows)
        lg = logits[:b] + (g - 1.0) * (logits[:b] - logits[b:]) if cfg_on else logits
        bias = state.bias()
        if bias is not None:
            lg = lg + bias
        lg = lg.masked_fill_(state.blocked(), float("-inf"))  # (lg is this step's own)
        tok = _top_p_sample(lg, temperature, top_p, gen)
        forced = state.forced()
        if any(t is not None for t in forced):
            tok = torch.tensor([int(t) if f is None else f for t, f in zip(tok.tolist(), forced, strict=True)])
        finished = state.update(tok)
        hist[rows, n] = tok
        n += 1
        steps += 1
        if finished == b:
            break
        if finished >= max(1, b // 4):  # drop finished streams: later steps cost less
            kept = [i for i, st in enumerate(state.streams) if not st.done]
            tok, rows = tok[kept], rows[kept]
            state.streams = [state.streams[i] for i in kept]
            sel = kept + [b + i for i in kept] if cfg_on else kept
            cache = dec.keep_rows(cache, sel, pos)
            f, uncond = _rows_inputs(feat_row, len(rows), cfg_on)
        step_tok = torch.cat([tok, tok]) if cfg_on else tok
        if pos >= cfg.block_size:  # slide: header + the latest half window
            keep = cfg.max_tokens // 2 - h
            ctx = torch.cat([hist[rows, :h], hist[rows, n - keep:n]], dim=1)
            ctx = torch.cat([ctx, ctx]) if cfg_on else ctx
            logits = dec.prefill(ctx, f, uncond, cache)
            pos = P + ctx.shape[1]
        else:
            logits = dec.step(step_tok, pos, cache)
            pos += 1
    out = []
    for b in range(B):
        seq = hist[b, :n].tolist()
        if VOCAB.eos in seq[h:]:
            seq = seq[: seq.index(VOCAB.eos, h) + 1]
        else:
            seq.append(VOCAB.eos)
        out.append(seq)
    return out, steps
