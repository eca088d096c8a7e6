"""Batched sampling draws exactly the tokens it drew before it was made faster."""

import hashlib
import json

import pytest
import torch

from generation.model import V1_CHECKPOINT
from generation.model.compose import header_tokens, load_bundle
from generation.model.conditioning import Conditioning, model_features
from generation.model.decoder import Decoder
from generation.model.network import CondTransformer, ModelConfig
from generation.model.sampling import _top_p_sample, sample_tokens
from generation.model.vocab import bar_ticks

# sha256 of json.dumps(sequences) from main's sampler at a3ebf54 (before the in-place top-p,
# the blocked-row mask and the cache's in-place row drop), speed_section's piece, fp16 weights,
# checkpoint cadenza 1.1.0 (multi-head attention; retired, and its tracks must still verify)
MAIN_16_STREAMS = {
    (1.0, 0): (480, "2c178d1a812e090a7e3025337c031038f73860ebbd788c596bfb8c1ef5f308c9"),
    (1.5, 1): (522, "7a16ec98dfbfdb1edddb6663d729a8359062df294cb35514619da4773401478e"),
}


@pytest.fixture(autouse=True)
def one_thread():
    """As speed_section measures (and small ops are slower on two contended threads)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.fixture(scope="module")
def shipped_decoder():
    return load_bundle(V1_CHECKPOINT).decoder("fp16")


@pytest.mark.parametrize("guidance, seed", list(MAIN_16_STREAMS))
def test_it_decodes_sixteen_streams_token_for_token_as_before(shipped_decoder, guidance, seed):
    """Covers the window slide (more steps than the 380-token window) and the row drops (the
    streams end at different steps)."""
    cond = Conditioning(120.0, 0, "major", "4/4", 2.0, 70.0, 1.0, 16, ("strings",))
    seqs, steps = sample_tokens(
        shipped_decoder, header_tokens(cond), model_features(cond.to_vector()),
        n_streams=16, seed=seed, bar_len=bar_ticks("4/4"), n_parts=1, target_bars=16,
        guidance=guidance)
    assert len({len(s) for s in seqs}) > 4
    digest = hashlib.sha256(json.dumps(seqs).encode()).hexdigest()
    assert (steps, digest) == MAIN_16_STREAMS[(guidance, seed)]


def _plain_top_p(logits, temperature, top_p, gen):
    """The sampler as it was written before (allocating every temporary)."""
    probs = torch.softmax(logits / max(temperature, 1e-4), dim=-1)
    if top_p < 1.0:
        sp, si = torch.sort(probs, dim=-1, descending=True)
        cum = torch.cumsum(sp, dim=-1)
        sp = sp.masked_fill(cum - sp > top_p, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, si, sp)
    return torch.multinomial(probs, 1, generator=gen)[:, 0]


@pytest.mark.parametrize("temperature, top_p", [(1.0, 0.95), (0.8, 0.9), (1.0, 1.0), (1.3, 0.5)])
def test_top_p_sample_draws_what_the_plain_form_draws(temperature, top_p):
    data = torch.Generator().manual_seed(0)
    g_fast, g_plain = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    for _ in range(300):
        logits = 3 * torch.randn(16, 370, generator=data)
        logits[torch.rand(16, 370, generator=data) < 0.7] = float("-inf")  # grammar-masked
        logits[:, 5] = 0.0  # every row keeps a token
        fast = _top_p_sample(logits.clone(), temperature, top_p, g_fast)
        assert torch.equal(fast, _plain_top_p(logits, temperature, top_p, g_plain))
    assert torch.equal(g_fast.get_state(), g_plain.get_state())


def test_keep_rows_leaves_the_kept_streams_caches_as_indexing_copied_them():
    torch.manual_seed(0)
    cfg = ModelConfig(n_layer=2, n_head=4, n_embd=64, block_size=48, n_prefix=4)
    dec = Decoder(CondTransformer(cfg).eval(), "fp32")
    g = torch.Generator().manual_seed(1)
    B, T = 6, 10
    tokens = torch.randint(0, cfg.vocab_size, (B, T), generator=g)
    feats = torch.randn(B, cfg.n_cond, generator=g)
    uncond = torch.tensor([False, False, False, True, True, True])
    cache = dec.new_cache(B)
    dec.prefill(tokens, feats, uncond, cache)
    pos = cfg.n_prefix + T
    for _ in range(3):
        dec.step(torch.randint(0, cfg.vocab_size, (B,), generator=g), pos, cache)
        pos += 1
    keep = [0, 2, 3, 5]
    want = [(k[keep].clone(), v[keep].clone()) for k, v in cache]
    got = dec.keep_rows(cache, keep, pos)
    for (k, v), (wk, wv) in zip(got, want, strict=True):
        assert torch.equal(k[:, :, :pos], wk[:, :, :pos]) and torch.equal(v[:, :, :pos], wv[:, :, :pos])
    for _ in range(4):  # later steps give the same logits from either cache
        tok = torch.randint(0, cfg.vocab_size, (len(keep),), generator=g)
        assert torch.equal(dec.step(tok, pos, got), dec.step(tok, pos, want))
        pos += 1
