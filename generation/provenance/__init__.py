"""Provenance: Ed25519 licence certificates (``licence``), C2PA content credentials
(``c2pa_embed``) and the development C2PA signing chain (``devcerts``).

A pure package: it imports no Django; callers pass keys, bytes and dicts.
"""
