"""Licence certificates: per-listener licence records signed with Ed25519.

A certificate is a JSON object::

    {
      "claims":    {...},            # the licence record, see build_licence_claims()
      "alg":       "Ed25519",
      "key_id":    "<16 hex>",       # key_id() of the signing public key
      "signature": "<base64url>"     # RFC 4648 section 5 alphabet, no "=" padding
    }

How to verify one offline (any language, only the service's Ed25519 public key needed):

1. Check ``alg == "Ed25519"``.
2. Encode ``claims`` canonically: JSON with object keys sorted, no insignificant whitespace
   (separators ``,`` and ``:``), non-ASCII characters written as raw UTF-8 (not ``\\uXXXX``
   escapes), the whole text encoded as UTF-8. In Python::

       json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                  allow_nan=False).encode("utf-8")

   Claims contain only strings, booleans, integers, null, arrays and objects with ASCII keys --
   never floats -- so this encoding coincides with RFC 8785 (JCS) and any JCS library
   reproduces it byte for byte.
3. Base64url-decode ``signature`` (add ``=`` padding back) to 64 bytes and check it with
   Ed25519 (RFC 8032) over the bytes of step 2. ``key_id`` is the first 16 hex digits of the
   SHA-256 of the 32 raw public-key bytes; it only selects the key, it proves nothing.

Pure module: no Django imports. Keys, bytes and dicts come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SCHEMA = "cadenza.licence.v1"
ALG = "Ed25519"

LICENCE_PERSONAL = "LicenseRef-Cadenza-Personal-1.0"
LICENCE_CATALOG = "LicenseRef-Cadenza-Catalog-1.0"
"""Licence of a track accepted into the catalog after review.

Why a ``LicenseRef-`` id rather than an SPDX licence such as ``CC-BY-4.0``:

* Commercial use is decided per track, not per licence text. DESIGN.md's training data policy
  makes every track of a model trained on non-commercial material non-commercial, while
  CC-BY-4.0 always permits commercial use (and CC-BY-NC-4.0 never does). One Cadenza catalog
  licence whose certificate states ``commercial_use`` covers both without lying.
* Creative Commons licences are irrevocable public grants to everyone; the catalog licence is a
  grant from Cadenza to a named (pseudonymous) licensee, with a territory and a grant time, that
  Cadenza can still withdraw from the catalog after review.
* Whether a purely machine-generated work attracts copyright at all varies by jurisdiction, so a
  CC licence might purport to license rights that do not exist; a contractual licence does not
  depend on that.

``LicenseRef-<idstring>`` is SPDX's own syntax for licences outside its list, so the field stays
machine-readable and SPDX-valid; SPDX ids are used wherever one exists (e.g. the soundfont's MIT).
"""
LICENCE_IDS = frozenset({LICENCE_PERSONAL, LICENCE_CATALOG})

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

SCOPE_PERSONAL = "personal_streaming"
SCOPE_CATALOG = "catalog"
SCOPES = frozenset({SCOPE_PERSONAL, SCOPE_CATALOG})

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_LICENCE_ID_RE = re.compile(r"^(LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9.+\-]+)$")
_CERT_KEYS = frozenset({"claims", "alg", "key_id", "signature"})


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str

    def __bool__(self) -> bool:
        return self.valid


# --------------------------------------------------------------------------- claims


def _sha256(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SHA256_RE.match(value):
        raise ValueError(f"{what} must be a lowercase hex sha256, got {value!r}")
    return value


def _nonempty(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value


def _utc_iso(value: dt.datetime) -> str:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValueError("granted_at must be a timezone-aware datetime")
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_licence_claims(
    *,
    licence_uuid: str | uuid.UUID,
    licence_id: str,
    track_id: str,
    track_sha256s: Mapping[str, str],
    midi_sha256: str,
    licensor: str,
    licensee_ref: str | uuid.UUID,
    scope: str,
    commercial_use: bool,
    attribution: str,
    territory: str,
    granted_at: dt.datetime,
    model_name: str,
    model_version: str,
) -> dict[str, Any]:
    """The licence record to sign (a plain, JSON-ready dict with no floats).

    ``licensee_ref`` is an opaque UUID (never an email or a name: certificates are handed to
    third parties). ``track_sha256s`` maps rendition format (``"flac"``, ``"mp3"`` ...) to the
    sha256 of that rendition's bytes. A ``personal_streaming`` licence never allows commercial
    use. Raises ``ValueError`` on invalid input.
    """
    try:
        licence_uuid_s = str(uuid.UUID(str(licence_uuid)))
    except ValueError as exc:
        raise ValueError("licence_uuid must be a UUID") from exc
    try:
        licensee_s = str(uuid.UUID(str(licensee_ref)))
    except ValueError as exc:
        raise ValueError("licensee_ref must be an opaque UUID (never an email or name)") from exc
    if not isinstance(licence_id, str) or not _LICENCE_ID_RE.match(licence_id):
        raise ValueError(f"licence_id must be an SPDX id or LicenseRef-…, got {licence_id!r}")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {sorted(SCOPES)}, got {scope!r}")
    if not isinstance(commercial_use, bool):
        raise ValueError("commercial_use must be a bool")
    if scope == SCOPE_PERSONAL and commercial_use:
        raise ValueError("a personal_streaming licence cannot allow commercial use")
    if not track_sha256s:
        raise ValueError("track_sha256s must name at least one rendition")
    renditions = {}
    for fmt, digest in track_sha256s.items():
        renditions[_nonempty(fmt, "rendition format")] = _sha256(digest, f"sha256 of {fmt}")

    return {
        "schema": SCHEMA,
        "licence_uuid": licence_uuid_s,
        "licence_id": licence_id,
        "scope": scope,
        "commercial_use": commercial_use,
        "licensor": _nonempty(licensor, "licensor"),
        "licensee_ref": licensee_s,
        "attribution": _nonempty(attribution, "attribution"),
        "territory": _nonempty(territory, "territory"),
        "granted_at": _utc_iso(granted_at),
        "track": {
            "id": _nonempty(str(track_id), "track_id"),
            "renditions_sha256": renditions,
            "midi_sha256": _sha256(midi_sha256, "midi_sha256"),
        },
        "ai_disclosure": {
            "digital_source_type": DIGITAL_SOURCE_TYPE,
            "generator": {
                "name": _nonempty(model_name, "model_name"),
                "version": _nonempty(model_version, "model_version"),
            },
        },
    }


# --------------------------------------------------------------------------- encoding


def canonical_json(claims: Any) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, raw UTF-8, no NaN/Infinity."""
    return json.dumps(
        claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url decoding: unpadded alphabet only, canonical encodings only."""
    if not isinstance(text, str) or not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(raw) != text:  # non-zero trailing bits: a second spelling of the bytes
        raise ValueError("non-canonical base64url")
    return raw


# --------------------------------------------------------------------------- keys


def _public(key: Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def key_id(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """First 16 hex digits of sha256 over the 32 raw public-key bytes."""
    raw = _public(public_key).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def private_key_from_pem(pem: str | bytes) -> Ed25519PrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else bytes(pem)
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("PEM does not hold an Ed25519 private key")
    return key


def public_key_from_pem(pem: str | bytes) -> Ed25519PublicKey:
    data = pem.encode("ascii") if isinstance(pem, str) else bytes(pem)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("PEM does not hold an Ed25519 public key")
    return key


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SubjectPublicKeyInfo PEM of the key's public half (what verifiers are given)."""
    return (
        _public(private_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Load the PKCS#8 PEM key at ``path``, or create it (mode 0600, parent dirs created).

    Creation uses ``O_EXCL``: when two processes race, one writes and both load the same key.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, private_key_pem(key))
            finally:
                os.close(fd)
            os.chmod(path, 0o600)
            return key
    return private_key_from_pem(path.read_bytes())


# --------------------------------------------------------------------------- sign / verify


def sign_certificate(
    claims: dict[str, Any], private_key: Ed25519PrivateKey, *, key_id: str
) -> dict[str, Any]:
    """Sign ``claims`` (see the module docstring for the exact bytes signed)."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("private_key must be an Ed25519PrivateKey")
    signature = private_key.sign(canonical_json(claims))
    return {"claims": claims, "alg": ALG, "key_id": key_id, "signature": b64url_encode(signature)}


def verify_certificate(certificate: Any, public_key: Any) -> VerifyResult:
    """Check a certificate against the service's public key. Never raises.

    ``public_key`` is an ``Ed25519PublicKey`` or its PEM (str or bytes).
    """
    try:
        return _verify(certificate, public_key)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        return VerifyResult(False, f"malformed certificate: {type(exc).__name__}")


def _verify(certificate: Any, public_key: Any) -> VerifyResult:
    if isinstance(public_key, str | bytes):
        try:
            public_key = public_key_from_pem(public_key)
        except Exception:  # noqa: BLE001
            return VerifyResult(False, "public key is not an Ed25519 PEM")
    if isinstance(public_key, Ed25519PrivateKey):
        public_key = public_key.public_key()
    if not isinstance(public_key, Ed25519PublicKey):
        return VerifyResult(False, "public key is not an Ed25519 public key")

    if not isinstance(certificate, Mapping):
        return VerifyResult(False, "certificate is not a JSON object")
    missing = sorted(_CERT_KEYS - set(certificate))
    if missing:
        return VerifyResult(False, f"missing field(s): {', '.join(missing)}")
    extra = sorted(str(k) for k in set(certificate) - _CERT_KEYS)
    if extra:
        return VerifyResult(False, f"unexpected field(s): {', '.join(extra)}")
    if certificate["alg"] != ALG:
        return VerifyResult(False, f"unsupported alg {certificate['alg']!r} (expected {ALG})")
    claims = certificate["claims"]
    if not isinstance(claims, Mapping):
        return VerifyResult(False, "claims is not a JSON object")
    if not isinstance(certificate["key_id"], str):
        return VerifyResult(False, "key_id is not a string")
    if certificate["key_id"] != key_id(public_key):
        return VerifyResult(False, "key_id does not match the verifying key")
    try:
        signature = b64url_decode(certificate["signature"])
    except (ValueError, binascii.Error):
        return VerifyResult(False, "signature is not canonical base64url")
    if len(signature) != 64:
        return VerifyResult(False, f"signature has {len(signature)} bytes, expected 64")
    try:
        message = canonical_json(claims)
    except (TypeError, ValueError):
        return VerifyResult(False, "claims cannot be canonically encoded")
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return VerifyResult(False, "signature does not match claims and key")
    return VerifyResult(True, "ok")
