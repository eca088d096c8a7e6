"""Batched, grammar-constrained sampling with a preallocated KV cache and classifier-free guidance.

``sample_tokens`` decodes ``n_streams`` sequences in lock-step after a forced header. With
``guidance != 1`` each stream also runs an unconditional twin (null prefix) and the logits are
mixed as ``uncond + guidance * (cond - uncond)``. When the context window is full, the cache is
rebuilt from the header plus the most recent half window (the model is trained on such crops).
Deterministic for a seed on CPU: all randomness comes from one seeded ``torch.Generator``.
"""

from __future__ import annotations

import torch

from generation.model.grammar import GrammarState
from generation.model.network import CondTransformer
from generation.model.vocab import VOCAB


def _top_p_sample(logits: torch.Tensor, temperature: float, top_p: float,
                  gen: torch.Generator) -> torch.Tensor:
    probs = torch.softmax(logits / max(temperature, 1e-4), dim=-1)
    if top_p < 1.0:
        sp, si = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(sp, dim=-1)
        sp = sp.masked_fill(cum - sp > top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, si, sp)
    return torch.multinomial(probs, 1, generator=gen)[:, 0]


@torch.inference_mode()
def sample_tokens(
    model: CondTransformer,
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
) -> tuple[list[list[int]], int]:
    """Decode ``n_streams`` token sequences; return them (header included) and steps taken."""
    cfg = model.cfg
    P, B = cfg.n_prefix, n_streams
    cfg_on = guidance != 1.0
    BB = 2 * B if cfg_on else B
    gen = torch.Generator().manual_seed(int(seed))
    f = torch.tensor(feats, dtype=torch.float32).expand(BB, -1)
    uncond = torch.zeros(BB, dtype=torch.bool)
    if cfg_on:
        uncond[B:] = True
    h = len(header)
    max_new = max_new_tokens or target_bars * 600
    hist = torch.full((B, h + max_new + 1), VOCAB.eos, dtype=torch.long)
    hist[:, :h] = torch.tensor(header)
    cache = model.new_cache(BB)
    logits = model.prefill(hist[:1, :h].expand(BB, -1), f, uncond, cache)
    state = GrammarState(B, bar_len, n_parts, target_bars)
    n, pos = h, P + h  # tokens so far, next absolute position
    g = float(guidance)
    steps = 0
    while n < h + max_new:
        lg = logits[:B] + (g - 1.0) * (logits[:B] - logits[B:]) if cfg_on else logits
        lg = lg.masked_fill(~state.mask(), float("-inf"))
        tok = _top_p_sample(lg, temperature, top_p, gen)
        state.update(tok)
        hist[:, n] = tok
        n += 1
        steps += 1
        if bool(state.done.all()):
            break
        step_tok = torch.cat([tok, tok]) if cfg_on else tok
        if pos >= cfg.block_size:  # slide: header + the latest half window
            keep = cfg.max_tokens // 2 - h
            ctx = torch.cat([hist[:, :h], hist[:, n - keep:n]], dim=1)
            ctx = torch.cat([ctx, ctx]) if cfg_on else ctx
            logits = model.prefill(ctx, f, uncond, cache)
            pos = P + ctx.shape[1]
        else:
            logits = model.step(step_tok, pos, cache)
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
