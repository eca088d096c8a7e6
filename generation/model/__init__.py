"""Cadenza's music model: a pure package (no Django), importable without torch.

Modules:
    vocab         REMI-family tokens; ``midi_to_tokens`` / ``tokens_to_midi``
    attributes    ``measure(pm) -> Attributes`` (tempo, key/mode, metre, density, ...)
    conditioning  ``Conditioning`` and the ``cond-v1`` schema
    corpus        public-domain corpus from music21 with a provenance manifest
    network       the conditional transformer (torch)
    grammar       grammar-constrained decoding masks
    sampling      batched KV-cache sampling with classifier-free guidance
    compose       ``load_bundle``, ``compose``, ``DEFAULT_CHECKPOINT``
    originality   ``check_originality``, ``load_index``
    train, evaluate, ngram

``load_bundle``, ``compose`` and ``DEFAULT_CHECKPOINT`` are re-exported lazily so that importing
``generation.model.conditioning`` (e.g. from recommendations) does not import torch.
"""

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "cadenza-v2.pt"
# the checkpoints shipped before it, as <sha256>.pt: tracks they made still verify
RETIRED_CHECKPOINTS = DEFAULT_CHECKPOINT.parent / "retired"
V1_CHECKPOINT = RETIRED_CHECKPOINTS / "8b19d70ec0a33e9f36c0a9d74560a79a29189437ade3ccecd036f7ab272ddf49.pt"

_LAZY = {
    "load_bundle": "generation.model.compose",
    "compose": "generation.model.compose",
    "ModelBundle": "generation.model.compose",
    "Composition": "generation.model.compose",
    "check_originality": "generation.model.originality",
    "load_index": "generation.model.originality",
    "measure": "generation.model.attributes",
    "Attributes": "generation.model.attributes",
    "Conditioning": "generation.model.conditioning",
    "SCHEMA": "generation.model.conditioning",
    "SCHEMA_VERSION": "generation.model.conditioning",
    "midi_to_tokens": "generation.model.vocab",
    "tokens_to_midi": "generation.model.vocab",
}

__all__ = ["DEFAULT_CHECKPOINT", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
