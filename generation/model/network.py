"""A small conditional decoder-only transformer (nanoGPT-style), with a preallocated KV cache.

Imports only torch. The ``cond-v1`` features are projected into ``n_prefix`` prefix embeddings
placed before the tokens; a learned null prefix replaces them for condition dropout and for the
unconditional branch of classifier-free guidance.

``n_kv_head`` below ``n_head`` is grouped-query attention (1: multi-query): each key/value head
serves ``n_head // n_kv_head`` query heads, so the KV cache that batched decoding reads at every
step is that many times smaller. ``None`` (the default, and every checkpoint saved before the
field existed) is ordinary multi-head attention with the same parameter names and shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class ModelConfig:
    vocab_size: int = 370
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    block_size: int = 384  # positions, prefix included
    n_prefix: int = 4  # conditioning prefix embeddings
    n_cond: int = 44  # length of conditioning.model_features()
    dropout: float = 0.0  # >0 forces the slow (math) attention path on CPU
    n_kv_head: int | None = None  # key/value heads (grouped-query attention); None = n_head

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head or self.n_head % self.kv_heads:
            raise ValueError("n_embd must divide by n_head, and n_head by n_kv_head")

    @property
    def max_tokens(self) -> int:
        return self.block_size - self.n_prefix

    @property
    def kv_heads(self) -> int:
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def repeat_kv(t: torch.Tensor, n_head: int) -> torch.Tensor:
    """(B, KV, T, hd) -> (B, n_head, T, hd): each key/value head repeated for its query heads."""
    g = n_head // t.shape[1]
    return t if g == 1 else t.repeat_interleave(g, dim=1)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head, self.n_kv = cfg.n_head, cfg.kv_heads
        self.hd = cfg.head_dim
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.qkv = nn.Linear(cfg.n_embd, cfg.n_embd + 2 * self.n_kv * self.hd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.fc_out = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.p_drop = cfg.dropout

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None = None,
                start: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        kvd = self.n_kv * self.hd
        q, k, v = self.qkv(self.ln1(x)).split((C, kvd, kvd), dim=2)
        q = q.view(B, T, self.n_head, self.hd).transpose(1, 2)  # (B, H, T, hd)
        k = k.view(B, T, self.n_kv, self.hd).transpose(1, 2)  # (B, KV, T, hd)
        v = v.view(B, T, self.n_kv, self.hd).transpose(1, 2)
        if cache is None:
            k, v = repeat_kv(k, self.n_head), repeat_kv(v, self.n_head)
            y = F.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.p_drop if self.training else 0.0)
        else:
            kc, vc = cache  # (B, KV, Tmax, hd)
            kc[:, :, start:start + T] = k
            vc[:, :, start:start + T] = v
            kk = repeat_kv(kc[:, :, :start + T], self.n_head)
            vv = repeat_kv(vc[:, :, :start + T], self.n_head)
            if T == 1:
                y = F.scaled_dot_product_attention(q, kk, vv)
            else:
                y = F.scaled_dot_product_attention(q, kk, vv, is_causal=start == 0)
        y = y.transpose(1, 2).reshape(B, T, C)
        x = x + self.drop(self.proj(y))
        return x + self.drop(self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))


class CondTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.n_embd
        self.tok_emb = nn.Embedding(cfg.vocab_size, d)
        self.pos_emb = nn.Embedding(cfg.block_size, d)
        self.cond_mlp = nn.Sequential(
            nn.Linear(cfg.n_cond, d), nn.GELU(), nn.Linear(d, cfg.n_prefix * d))
        self.null_prefix = nn.Parameter(torch.zeros(cfg.n_prefix, d))
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, cfg.vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self.apply(self._init)
        for n, p in self.named_parameters():
            if n.endswith("proj.weight") or n.endswith("fc_out.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def prefix(self, feats: torch.Tensor, uncond: torch.Tensor) -> torch.Tensor:
        """(B, F) features, (B,) bool -> (B, P, C) prefix embeddings."""
        B = feats.shape[0]
        p = self.cond_mlp(feats).view(B, self.cfg.n_prefix, self.cfg.n_embd)
        return torch.where(uncond.view(B, 1, 1), self.null_prefix.expand_as(p), p)

    def forward(self, tokens: torch.Tensor, feats: torch.Tensor,
                uncond: torch.Tensor) -> torch.Tensor:
        """Training/scoring: (B, T) tokens -> (B, T, V) logits for the next token."""
        B, T = tokens.shape
        P = self.cfg.n_prefix
        x = torch.cat([self.prefix(feats, uncond), self.tok_emb(tokens)], dim=1)
        x = self.drop(x + self.pos_emb.weight[: P + T])
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln_f(x[:, P:]))

    # --- incremental decoding -------------------------------------------------------------
    def new_cache(self, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        c = self.cfg
        shape = (batch, c.kv_heads, c.block_size, c.head_dim)
        return [(torch.zeros(shape), torch.zeros(shape)) for _ in range(c.n_layer)]

    def prefill(self, tokens: torch.Tensor, feats: torch.Tensor, uncond: torch.Tensor,
                cache: list) -> torch.Tensor:
        """Fill the cache with prefix + tokens; return (B, V) logits after the last token."""
        B, T = tokens.shape
        P = self.cfg.n_prefix
        x = torch.cat([self.prefix(feats, uncond), self.tok_emb(tokens)], dim=1)
        x = x + self.pos_emb.weight[: P + T]
        for blk, kv in zip(self.blocks, cache, strict=True):
            x = blk(x, kv, 0)
        return self.head(self.ln_f(x[:, -1]))

    def step(self, tok: torch.Tensor, pos: int, cache: list) -> torch.Tensor:
        """One token per stream at absolute position ``pos`` -> (B, V) logits."""
        x = self.tok_emb(tok).unsqueeze(1) + self.pos_emb.weight[pos]
        for blk, kv in zip(self.blocks, cache, strict=True):
            x = blk(x, kv, pos)
        return self.head(self.ln_f(x[:, 0]))
