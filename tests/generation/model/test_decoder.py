"""The decoder that sampling runs computes the trained model: same logits, through its cache."""

from dataclasses import replace

import pytest
import torch

from generation.model.decoder import Decoder, fp16_weights_available
from generation.model.network import CondTransformer, ModelConfig

CFG = ModelConfig(n_layer=2, n_head=4, n_embd=64, block_size=48, n_prefix=4)


@pytest.fixture(scope="module", params=[None, 2, 1], ids=["multi-head", "grouped", "multi-query"])
def model(request):
    """The same small model with 4, 2 and 1 key/value heads (grouped-query attention)."""
    torch.manual_seed(0)
    m = CondTransformer(replace(CFG, n_kv_head=request.param)).eval()
    with torch.no_grad():  # a trained model's LayerNorms are not the identity
        for name, p in m.named_parameters():
            if "ln" in name:
                p.add_(0.1 * torch.randn_like(p))
    return m


def _inputs(B=3, T=20, seed=1):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, CFG.vocab_size, (B, T), generator=g)
    feats = torch.randn(B, CFG.n_cond, generator=g)
    uncond = torch.tensor([False, True, False][:B])
    return tokens, feats, uncond


def test_fp32_decoder_gives_the_module_logits(model):
    tokens, feats, uncond = _inputs()
    with torch.no_grad():
        want = model(tokens, feats, uncond)
    got = Decoder(model, "fp32")(tokens, feats, uncond)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("weights", ["fp32", "fp16"])
def test_stepping_through_the_cache_gives_the_full_forward_logits(model, weights):
    """Prefill 5 tokens, then step the rest one at a time: each step's logits are the full
    forward's logits at that position (the KV cache holds exactly what attention needs)."""
    dec = Decoder(model, weights)
    tokens, feats, uncond = _inputs()
    full = dec(tokens, feats, uncond)
    cache = dec.new_cache(tokens.shape[0])
    logits = dec.prefill(tokens[:, :5], feats, uncond, cache)
    torch.testing.assert_close(logits, full[:, 4], atol=1e-4, rtol=1e-4)
    for t in range(5, tokens.shape[1]):
        logits = dec.step(tokens[:, t], CFG.n_prefix + t, cache)
        torch.testing.assert_close(logits, full[:, t], atol=1e-4, rtol=1e-4)


@pytest.mark.skipif(not fp16_weights_available(), reason="this PyTorch build has no FBGEMM")
def test_fp16_weights_move_the_logits_by_rounding_only(model):
    tokens, feats, uncond = _inputs()
    want = Decoder(model, "fp32")(tokens, feats, uncond)
    dec = Decoder(model, "fp16")
    assert dec.weights == "fp16"
    got = dec(tokens, feats, uncond)
    diff = (got - want).abs().max().item()
    assert 0 < diff < 2e-3  # rounded (not identical), and only by fp16's ~5e-4 relative step
    assert torch.equal(got.argmax(-1), want.argmax(-1))


def test_unknown_weight_mode_is_refused(model):
    with pytest.raises(ValueError, match="weights"):
        Decoder(model, "int4")


def test_fewer_key_value_heads_shrink_the_cache_the_step_reads(model):
    dec = Decoder(model, "fp32")
    k, v = dec.new_cache(3)[0]
    assert k.shape == v.shape == (3, model.cfg.kv_heads, CFG.block_size, CFG.head_dim)
    assert model.blocks[0].qkv.out_features == CFG.n_embd + 2 * k.shape[1] * k.shape[3]


def test_a_checkpoint_config_without_kv_heads_is_multi_head_attention():
    cfg = ModelConfig(**{k: v for k, v in vars(CFG).items() if k != "n_kv_head"})
    assert cfg.n_kv_head is None and cfg.kv_heads == cfg.n_head
    with pytest.raises(ValueError, match="n_kv_head"):
        ModelConfig(n_head=4, n_kv_head=3)


def test_the_modules_own_cache_path_gives_its_full_forward_logits(model):
    tokens, feats, uncond = _inputs()
    with torch.no_grad():
        full = model(tokens, feats, uncond)
        cache = model.new_cache(tokens.shape[0])
        torch.testing.assert_close(model.prefill(tokens[:, :5], feats, uncond, cache), full[:, 4],
                                   atol=1e-5, rtol=1e-5)
        for t in range(5, 8):
            torch.testing.assert_close(model.step(tokens[:, t], CFG.n_prefix + t, cache), full[:, t],
                                       atol=1e-5, rtol=1e-5)
