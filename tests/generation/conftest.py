"""Fixtures for the generation pipeline: a tiny debug checkpoint, dev signing keys, fast settings."""

import pytest


@pytest.fixture(scope="session")
def debug_checkpoint(tmp_path_factory):
    """A 2-layer, d=64 model with seeded random weights, saved as the trainer saves checkpoints.

    Its music is noise-like, but every stage after it (grammar, MIDI, arrangement, audio, storage,
    provenance) is real; the shipped checkpoint has its own tests in tests/generation/model.
    """
    import torch

    from generation.model.network import CondTransformer
    from generation.model.train import DEBUG_MODEL, TrainConfig, _checkpoint_payload

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "debug.pt"
    payload = _checkpoint_payload(CondTransformer(DEBUG_MODEL), TrainConfig(model=DEBUG_MODEL), "0" * 64, {})
    torch.save(payload, path)
    return path


@pytest.fixture(scope="session")
def dev_certs(tmp_path_factory):
    from generation.provenance.devcerts import ensure_dev_certs

    paths, _ = ensure_dev_certs(tmp_path_factory.mktemp("certs"))
    return paths


@pytest.fixture
def pipeline_settings(settings, debug_checkpoint, dev_certs, tmp_path):
    """The real pipeline on the debug model: one candidate, dev C2PA chain, a fresh licence key."""
    from generation import pipeline
    from generation.services import licences

    settings.CADENZA_CHECKPOINT = debug_checkpoint
    settings.CADENZA_COMPOSE_OPTIONS = {"n_candidates": 1}
    settings.CADENZA_C2PA_CERT = dev_certs.chain
    settings.CADENZA_C2PA_KEY = dev_certs.key
    settings.CADENZA_DEV_LICENCE_KEY_PATH = tmp_path / "licence-key.pem"
    pipeline.model_bundle.cache_clear()
    licences.signing_key.cache_clear()
    yield settings
    pipeline.model_bundle.cache_clear()
    licences.signing_key.cache_clear()
