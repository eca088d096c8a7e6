"""The inference form of a ``CondTransformer``: what sampling runs, one token per stream per step.

Why a separate form. On these machines one core reads at ~40 GB/s while its working set stays
under ~4 MB and at ~10 GB/s beyond that (``python -m generation.model.decoder`` prints the
figures). The model's fp32 weights are 13 MB, so at batch 1 every decoding step
streams them from memory and each ``Linear`` is a memory-bound GEMV (~200 µs per 1024x256
matrix); PyTorch's CPU flash-attention kernel, built for long queries, spends ~0.2 ms (batch 1)
to ~1.2 ms (batch 16) per layer on a one-token query. The decoder therefore:

* keeps the weights as fp16 packed for FBGEMM's fp16-weight GEMM (fp32 activations and
  accumulation; 6.6 MB, ~18 µs per 1024x256 matrix at batch 1, 11x faster) when this PyTorch
  has it, and plain fp32 otherwise (``weights="fp32"`` forces that). fp16 rounding moves the
  logits by ~1e-3; the evaluation reports NLL through the decoder's weights as well;
* attends with two batched matrix products over the KV cache (the query is one token);
* calls ATen functions directly (no module dispatch), on a preallocated cache.

Deterministic on CPU: the same weights mode, PyTorch build and inputs give the same logits.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from generation.model.network import CondTransformer, repeat_kv

WEIGHT_MODES = ("fp16", "fp32")


def fp16_weights_available() -> bool:
    """Whether this PyTorch build has FBGEMM's fp16-weight GEMM (x86 builds do)."""
    if not hasattr(torch, "fbgemm_pack_gemm_matrix_fp16"):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            packed = torch.fbgemm_pack_gemm_matrix_fp16(torch.ones(8, 8))
            torch.fbgemm_linear_fp16_weight(torch.ones(1, 8), packed, torch.zeros(8))
    except (RuntimeError, AttributeError):
        return False
    return True


@dataclass
class _Linear:
    weight: torch.Tensor  # (out, in) fp32, as trained
    bias: torch.Tensor  # (out,) fp32 (zeros where the layer has none)
    packed: torch.Tensor | None  # FBGEMM fp16 packing of ``weight``, or None for fp32

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is not None:
            return torch.fbgemm_linear_fp16_weight(x, self.packed, self.bias)
        return F.linear(x, self.weight, self.bias)


def _linear(layer: torch.nn.Linear | None, weight: torch.Tensor | None = None,
            *, fp16: bool) -> _Linear:
    w = (weight if weight is not None else layer.weight).detach().contiguous()
    b = (layer.bias.detach() if layer is not None and layer.bias is not None
         else torch.zeros(w.shape[0]))
    packed = None
    if fp16:
        # FBGEMM's fp16 packing is marked deprecated in PyTorch 2.13 (still shipped and
        # tested there); fp16_weights_available() falls back to fp32 once it is gone.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            packed = torch.fbgemm_pack_gemm_matrix_fp16(w)
    return _Linear(w, b.contiguous(), packed)


@dataclass
class _Layer:
    ln1: tuple[torch.Tensor, torch.Tensor]
    qkv: _Linear
    proj: _Linear
    ln2: tuple[torch.Tensor, torch.Tensor]
    fc: _Linear
    fc_out: _Linear


class Decoder:
    """Prefill and one-token steps for B streams over a preallocated KV cache."""

    def __init__(self, model: CondTransformer, weights: str = "fp16") -> None:
        if weights not in WEIGHT_MODES:
            raise ValueError(f"weights must be one of {WEIGHT_MODES}")
        if weights == "fp16" and not fp16_weights_available():
            weights = "fp32"
        self.weights = weights
        fp16 = weights == "fp16"
        self.model = model
        self.cfg = cfg = model.cfg
        self.C, self.H, self.KV = cfg.n_embd, cfg.n_head, cfg.kv_heads
        self.hd = cfg.head_dim
        self.scale = 1.0 / math.sqrt(self.hd)
        self.eps = model.ln_f.eps
        with torch.no_grad():
            self.tok_emb = model.tok_emb.weight.detach()
            self.pos_emb = model.pos_emb.weight.detach()
            self.layers = [
                _Layer(ln1=(b.ln1.weight.detach(), b.ln1.bias.detach()),
                       qkv=_linear(b.qkv, fp16=fp16), proj=_linear(b.proj, fp16=fp16),
                       ln2=(b.ln2.weight.detach(), b.ln2.bias.detach()),
                       fc=_linear(b.fc, fp16=fp16), fc_out=_linear(b.fc_out, fp16=fp16))
                for b in model.blocks
            ]
            self.ln_f = (model.ln_f.weight.detach(), model.ln_f.bias.detach())
            self.head = _linear(None, model.head.weight, fp16=fp16)

    # -- cache --------------------------------------------------------------------------------
    def new_cache(self, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer (K, V), each (B, KV heads, block_size, head_dim)."""
        shape = (batch, self.KV, self.cfg.block_size, self.hd)
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in self.layers]

    @torch.inference_mode()
    def keep_rows(self, cache: list, rows: list[int], filled: int) -> list:
        """The cache of streams ``rows`` (ascending indices) only: each moves down to its new
        row in place and only its first ``filled`` positions are copied (a later position is
        written by a step or prefill before it is read). Returns views of the first rows."""
        moves = [(j, i) for j, i in enumerate(rows) if i != j]  # j < i: sources not yet overwritten
        for k, v in cache:
            for j, i in moves:
                k[j, :, :filled] = k[i, :, :filled]
                v[j, :, :filled] = v[i, :, :filled]
        return [(k[: len(rows)], v[: len(rows)]) for k, v in cache]

    # -- forward --------------------------------------------------------------------------------
    def _ln(self, x: torch.Tensor, p: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return F.layer_norm(x, (self.C,), p[0], p[1], self.eps)

    def _mlp(self, x: torch.Tensor, L: _Layer) -> torch.Tensor:
        return x + L.fc_out(F.gelu(L.fc(self._ln(x, L.ln2)), approximate="tanh"))

    @torch.inference_mode()
    def prefill(self, tokens: torch.Tensor, feats: torch.Tensor, uncond: torch.Tensor,
                cache: list) -> torch.Tensor:
        """Fill the cache with prefix + tokens (B, T); return (B, V) logits after the last."""
        return self.forward(tokens, feats, uncond, cache, last_only=True)[:, -1]

    @torch.inference_mode()
    def forward(self, tokens: torch.Tensor, feats: torch.Tensor, uncond: torch.Tensor,
                cache: list | None = None, *, last_only: bool = False) -> torch.Tensor:
        """(B, T) tokens -> (B, T, V) next-token logits (and the cache filled, if given)."""
        B, T = tokens.shape
        P, C, H, hd = self.cfg.n_prefix, self.C, self.H, self.hd
        x = torch.cat([self.model.prefix(feats, uncond), self.tok_emb[tokens]], dim=1)
        x = x + self.pos_emb[: P + T]
        S = P + T
        kvd = self.KV * hd
        for i, L in enumerate(self.layers):
            q, k, v = L.qkv(self._ln(x, L.ln1)).split((C, kvd, kvd), dim=-1)
            q = q.view(B, S, H, hd).transpose(1, 2)  # (B, H, S, hd)
            k = k.view(B, S, self.KV, hd).transpose(1, 2)  # (B, KV, S, hd)
            v = v.view(B, S, self.KV, hd).transpose(1, 2)
            if cache is not None:
                cache[i][0][:, :, :S] = k
                cache[i][1][:, :, :S] = v
            y = F.scaled_dot_product_attention(q, repeat_kv(k, H), repeat_kv(v, H), is_causal=True)
            x = x + L.proj(y.transpose(1, 2).reshape(B, S, C))
            x = self._mlp(x, L)
        return self.head(self._ln(x[:, -1:] if last_only else x[:, P:], self.ln_f))

    __call__ = forward

    @torch.inference_mode()
    def step(self, tok: torch.Tensor, pos: int, cache: list) -> torch.Tensor:
        """One token per stream (B,) at absolute position ``pos`` -> (B, V) logits."""
        B = tok.shape[0]
        C, hd = self.C, self.hd
        x = self.tok_emb[tok] + self.pos_emb[pos]  # (B, C)
        n = pos + 1
        KV, G = self.KV, self.H // self.KV
        for L, (kc, vc) in zip(self.layers, cache, strict=True):
            qkv = L.qkv(self._ln(x, L.ln1))
            kc[:, :, pos] = qkv[:, C:C + KV * hd].view(B, KV, hd)
            vc[:, :, pos] = qkv[:, C + KV * hd:].view(B, KV, hd)
            q = qkv[:, :C].reshape(B * KV, G, hd)  # a KV head's G query heads are one GEMM
            kk = kc[:, :, :n].reshape(B * KV, n, hd)  # views: (B, KV) merge without a copy
            vv = vc[:, :, :n].reshape(B * KV, n, hd)
            att = torch.softmax(torch.bmm(q, kk.transpose(1, 2)).mul_(self.scale), dim=-1)
            y = torch.bmm(att, vv).view(B, C)
            x = x + L.proj(y)
            x = self._mlp(x, L)
        return self.head(self._ln(x, self.ln_f))


def _bandwidth_report() -> dict:
    """Single-core read bandwidth by working-set size (why the weights are fp16)."""
    import time

    torch.set_num_threads(1)
    out = {}
    for mb in (1, 4, 8, 13, 64):
        x = torch.ones(int(mb * 2**20 / 4))
        for _ in range(3):
            x.sum()
        n = max(5, int(400 / mb))
        t0 = time.perf_counter()
        for _ in range(n):
            x.sum()
        out[f"{mb}MB_GBps"] = round(mb / 1024 / ((time.perf_counter() - t0) / n), 1)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps({"fp16_weights_available": fp16_weights_available(),
                      "read_bandwidth": _bandwidth_report()}))
