"""C2PA content credentials for Cadenza's audio renditions (c2pa-python 0.38, c2pa-rs 0.91).

Every published rendition carries a signed C2PA manifest with

* a ``c2pa.actions`` assertion holding one ``c2pa.created`` action whose ``digitalSourceType``
  is IPTC's ``trainedAlgorithmicMedia`` (the AI-generated disclosure) and whose
  ``softwareAgent`` names the model and its version, and
* a custom assertion ``org.cadenza.provenance`` carrying the provenance id, the licence id and
  the model -- opaque ids only, since anyone holding the file can read them.

Measured with c2pa-python 0.38 on this machine (1 s synthetic sine, dev ES256 chain):

============  ==================  ======================================================
rendition     MIME type           result
============  ==================  ======================================================
mp3           ``audio/mpeg``      embedded (ID3v2 ``GEOB`` frame); reads back ``Valid``
m4a (AAC)     ``audio/mp4``       embedded (BMFF ``uuid`` box, ``c2pa.hash.bmff``); Valid
wav           ``audio/wav``       embedded (RIFF ``C2PA`` chunk); Valid
flac          ``audio/flac``      embedded (FLAC metadata block); Valid
ogg / opus    ``audio/ogg``       **not supported**: ``Builder.sign`` raises
                                  ``C2paError.NotSupported: type is unsupported`` -- the
                                  SDK has no Ogg asset handler. Use :func:`sidecar_manifest`.
============  ==================  ======================================================

All four embedded files still decode (soundfile/pedalboard for wav/flac/mp3, ffmpeg for m4a) to
the same number of frames as before signing. The state is ``Valid`` and not ``Trusted`` with the
development chain (``signingCredential.untrusted``), as expected.

Ordering rule, measured: write tags (mutagen ID3/Vorbis comments/MP4 atoms) **before**
calling :func:`embed_credentials`. Tagging a file after signing invalidates the manifest
(``assertion.dataHash.mismatch`` for mp3/flac, ``assertion.bmffHash.mismatch`` for m4a). An
ID3 tag written before signing is kept beside the C2PA ``GEOB`` frame.

Pure module: no Django imports; it takes bytes and PEM bytes as arguments.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import c2pa

from .licence import DIGITAL_SOURCE_TYPE

CADENZA_ASSERTION = "org.cadenza.provenance"
SIDECAR_FORMAT = "cadenza.c2pa-sidecar.v1"

# MIME types for which embedding was measured to work (see the module docstring), with the
# aliases callers commonly use mapped to the canonical type.
_CANONICAL_MIME = {
    "audio/mpeg": "audio/mpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/mp4": "audio/mp4",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/aac-mp4": "audio/mp4",
    "audio/wav": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/flac": "audio/flac",
    "audio/x-flac": "audio/flac",
}
EMBEDDABLE_MIME_TYPES = frozenset(_CANONICAL_MIME.values())


class CredentialsError(Exception):
    """Signing or reading content credentials failed."""


@dataclass(frozen=True)
class Credentialed:
    """Result of :func:`attach_credentials`: embedded bytes, or the original bytes + sidecar."""

    data: bytes
    embedded: bool
    sidecar: dict | None


def _canonical_mime(mime_type: str) -> str:
    base = (mime_type or "").split(";", 1)[0].strip().lower()
    return _CANONICAL_MIME.get(base, base)


def supports_embedding(mime_type: str) -> bool:
    """True when :func:`embed_credentials` embeds a manifest in files of this MIME type."""
    return _canonical_mime(mime_type) in EMBEDDABLE_MIME_TYPES


def _generator_info(claim_generator: str) -> dict[str, str]:
    name, _, version = claim_generator.partition("/")
    info = {"name": name.strip() or claim_generator}
    if version.strip():
        info["version"] = version.strip()
    return info


def manifest_definition(
    *,
    title: str,
    claim_generator: str,
    provenance_id: str,
    licence_id: str,
    model_name: str,
    model_version: str,
) -> dict[str, Any]:
    """The C2PA manifest definition (input to ``c2pa.Builder``) shared by embed and sidecar.

    ``claim_generator`` is ``"name"`` or ``"name/version"`` (e.g. ``"cadenza/0.1.0"``).
    """
    return {
        "claim_generator_info": [_generator_info(claim_generator)],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": DIGITAL_SOURCE_TYPE,
                            "softwareAgent": {"name": model_name, "version": model_version},
                        }
                    ]
                },
            },
            {
                "label": CADENZA_ASSERTION,
                "data": {
                    "provenance_id": provenance_id,
                    "licence_id": licence_id,
                    "model_name": model_name,
                    "model_version": model_version,
                },
            },
        ],
    }


def embed_credentials(
    data: bytes,
    mime_type: str,
    *,
    title: str,
    claim_generator: str,
    provenance_id: str,
    licence_id: str,
    model_name: str,
    model_version: str,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
) -> bytes:
    """Sign a C2PA manifest into ``data`` and return the new file bytes.

    ``cert_chain_pem`` is the ES256 leaf certificate followed by its CA chain (PEM);
    ``private_key_pem`` the leaf's PKCS#8 private key. No timestamp authority is used (no
    network). Raises :class:`CredentialsError` for a MIME type that cannot embed (check
    :func:`supports_embedding` first, or use :func:`attach_credentials`) or when signing fails.
    """
    mime = _canonical_mime(mime_type)
    if mime not in EMBEDDABLE_MIME_TYPES:
        raise CredentialsError(f"C2PA embedding is not supported for {mime_type!r}")
    definition = manifest_definition(
        title=title,
        claim_generator=claim_generator,
        provenance_id=provenance_id,
        licence_id=licence_id,
        model_name=model_name,
        model_version=model_version,
    )
    try:
        info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, bytes(cert_chain_pem), bytes(private_key_pem), None
        )
        dest = io.BytesIO()
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(definition) as builder:
            builder.sign(signer, mime, io.BytesIO(bytes(data)), dest)
    except c2pa.C2paError as exc:
        raise CredentialsError(f"C2PA signing failed for {mime}: {exc}") from exc
    return dest.getvalue()


def sidecar_manifest(
    data: bytes,
    mime_type: str,
    *,
    title: str,
    claim_generator: str,
    provenance_id: str,
    licence_id: str,
    model_name: str,
    model_version: str,
) -> dict[str, Any]:
    """A JSON manifest to store beside an object whose format cannot embed C2PA (e.g. Ogg).

    It holds the same assertions as the embedded manifest and binds them to the exact bytes by
    ``asset.sha256``. It is not itself signed: its integrity comes from the provenance record
    and the signed licence certificate, which both carry the rendition's sha256.
    """
    return {
        "format": SIDECAR_FORMAT,
        "asset": {
            "mime_type": _canonical_mime(mime_type),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        },
        "reason": f"C2PA embedding not supported for {_canonical_mime(mime_type)}",
        "manifest": manifest_definition(
            title=title,
            claim_generator=claim_generator,
            provenance_id=provenance_id,
            licence_id=licence_id,
            model_name=model_name,
            model_version=model_version,
        ),
    }


def attach_credentials(
    data: bytes,
    mime_type: str,
    *,
    title: str,
    claim_generator: str,
    provenance_id: str,
    licence_id: str,
    model_name: str,
    model_version: str,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
) -> Credentialed:
    """Embed when the format supports it, otherwise return the bytes unchanged plus a sidecar."""
    fields = dict(
        title=title,
        claim_generator=claim_generator,
        provenance_id=provenance_id,
        licence_id=licence_id,
        model_name=model_name,
        model_version=model_version,
    )
    if supports_embedding(mime_type):
        signed = embed_credentials(
            data,
            mime_type,
            cert_chain_pem=cert_chain_pem,
            private_key_pem=private_key_pem,
            **fields,
        )
        return Credentialed(data=signed, embedded=True, sidecar=None)
    return Credentialed(
        data=data, embedded=False, sidecar=sidecar_manifest(data, mime_type, **fields)
    )


def read_credentials(data: bytes, mime_type: str) -> dict[str, Any]:
    """The manifest store of ``data`` as a dict (c2pa's JSON), plus ``validation_state``.

    ``validation_state`` is ``"Invalid"``, ``"Valid"`` or ``"Trusted"`` as reported by the SDK
    (development chains give ``"Valid"``), or ``None`` when the file has no manifest, in which
    case ``manifests`` is empty. Raises :class:`CredentialsError` when the format is unreadable.
    """
    mime = _canonical_mime(mime_type)
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(bytes(data)))
        if reader is None:
            return {"active_manifest": None, "manifests": {}, "validation_state": None}
        with reader:
            store = json.loads(reader.json())
            store["validation_state"] = reader.get_validation_state()
    except c2pa.C2paError as exc:
        raise CredentialsError(f"cannot read C2PA credentials from {mime}: {exc}") from exc
    return store


def active_manifest(store: dict[str, Any]) -> dict[str, Any] | None:
    """The active manifest of a store returned by :func:`read_credentials`."""
    label = store.get("active_manifest")
    return (store.get("manifests") or {}).get(label) if label else None


def _assertions(store: dict[str, Any]) -> list[dict[str, Any]]:
    manifest = active_manifest(store) or {}
    return [a for a in manifest.get("assertions") or [] if isinstance(a, dict)]


def digital_source_types(store: dict[str, Any]) -> list[str]:
    """``digitalSourceType`` of every action in the active manifest's actions assertions."""
    found = []
    for assertion in _assertions(store):
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                if action.get("digitalSourceType"):
                    found.append(action["digitalSourceType"])
    return found


def cadenza_assertion(store: dict[str, Any]) -> dict[str, Any] | None:
    """The ``org.cadenza.provenance`` assertion data of the active manifest, if any."""
    for assertion in _assertions(store):
        if assertion.get("label") == CADENZA_ASSERTION:
            return assertion.get("data")
    return None
