"""Ed25519 licence certificates: build, sign, verify, tamper, malformed input, keys."""

import copy
import datetime as dt
import hashlib
import json
import os
import stat
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.provenance import licence as lic

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
KID = lic.key_id(KEY.public_key())


def _claims(**overrides):
    fields = dict(
        licence_uuid=uuid.UUID("2b0f8a3e-9c1d-4f5e-8a7b-0c1d2e3f4a5b"),
        licence_id=lic.LICENCE_PERSONAL,
        track_id="7f3c1a2b-0000-4000-8000-000000000001",
        track_sha256s={
            "flac": hashlib.sha256(b"flac").hexdigest(),
            "mp3": hashlib.sha256(b"mp3").hexdigest(),
        },
        midi_sha256=hashlib.sha256(b"midi").hexdigest(),
        licensor="Cadenza Ltd",
        licensee_ref="0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70",
        scope="personal_streaming",
        commercial_use=False,
        attribution="Composed for you by Cadenza (AI) — «Étude»",
        territory="worldwide",
        granted_at=dt.datetime(2026, 11, 25, 6, 0, 0, tzinfo=dt.UTC),
        model_name="cadenza-decoder",
        model_version="1.2.0",
    )
    fields.update(overrides)
    return lic.build_licence_claims(**fields)


def _cert():
    return lic.sign_certificate(_claims(), KEY, key_id=KID)


def test_certificate_verifies_and_has_documented_shape():
    cert = _cert()
    assert set(cert) == {"claims", "alg", "key_id", "signature"}
    assert cert["alg"] == "Ed25519"
    assert "=" not in cert["signature"]
    result = lic.verify_certificate(cert, KEY.public_key())
    assert result == lic.VerifyResult(True, "ok")
    # and with the PEM a third party would be given, after a JSON round trip
    assert lic.verify_certificate(json.loads(json.dumps(cert)), lic.public_key_pem(KEY)).valid


def test_claims_content():
    claims = _claims()
    assert claims["ai_disclosure"] == {
        "digital_source_type": lic.DIGITAL_SOURCE_TYPE,
        "generator": {"name": "cadenza-decoder", "version": "1.2.0"},
    }
    assert lic.DIGITAL_SOURCE_TYPE.endswith("/trainedAlgorithmicMedia")
    assert claims["granted_at"] == "2026-11-25T06:00:00Z"
    assert claims["licensee_ref"] == "0d9e8f7a-6b5c-4d3e-9f1a-2b3c4d5e6f70"
    assert claims["track"]["renditions_sha256"]["mp3"] == hashlib.sha256(b"mp3").hexdigest()
    assert "@" not in json.dumps(claims)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"licensee_ref": "alice@example.com"}, "licensee_ref"),
        ({"scope": "everything"}, "scope"),
        ({"scope": "personal_streaming", "commercial_use": True}, "commercial"),
        ({"midi_sha256": "xyz"}, "midi_sha256"),
        ({"track_sha256s": {}}, "track_sha256s"),
        ({"track_sha256s": {"mp3": "ABC"}}, "mp3"),
        ({"granted_at": dt.datetime(2026, 1, 1)}, "timezone"),
        ({"licence_id": "not a licence"}, "licence_id"),
        ({"licence_uuid": "nope"}, "licence_uuid"),
        ({"attribution": ""}, "attribution"),
    ],
)
def test_build_rejects_bad_input(overrides, message):
    with pytest.raises(ValueError, match=message):
        _claims(**overrides)


def test_catalog_scope_may_allow_commercial_use():
    claims = _claims(licence_id=lic.LICENCE_CATALOG, scope="catalog", commercial_use=True)
    assert claims["commercial_use"] is True
    assert lic.verify_certificate(lic.sign_certificate(claims, KEY, key_id=KID), KEY.public_key())


def _leaf_paths(obj, prefix=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaf_paths(value, (*prefix, key))
    else:
        yield prefix


def _tampered(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1")
    raise AssertionError(value)


@pytest.mark.parametrize("path", list(_leaf_paths(_claims())), ids=lambda p: ".".join(p))
def test_tampering_with_any_claim_fails(path):
    cert = _cert()
    target = cert["claims"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _tampered(target[path[-1]])
    result = lic.verify_certificate(cert, KEY.public_key())
    assert not result.valid
    assert result.reason == "signature does not match claims and key"


def test_adding_or_removing_a_claim_fails():
    cert = _cert()
    cert["claims"]["commercial_use_extra"] = True
    assert not lic.verify_certificate(cert, KEY.public_key()).valid
    cert = _cert()
    del cert["claims"]["territory"]
    assert not lic.verify_certificate(cert, KEY.public_key()).valid


def test_tampered_signature_fails():
    cert = _cert()
    raw = bytearray(lic.b64url_decode(cert["signature"]))
    for index in (0, 31, 63):
        bad = copy.deepcopy(cert)
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        bad["signature"] = lic.b64url_encode(bytes(flipped))
        result = lic.verify_certificate(bad, KEY.public_key())
        assert not result.valid
        assert "signature does not match" in result.reason


@pytest.mark.parametrize(
    "signature, reason",
    [
        ("!!!not base64!!!", "base64url"),
        ("", "0 bytes"),
        (lic.b64url_encode(b"x" * 63), "63 bytes"),
        (None, "base64url"),
    ],
)
def test_malformed_signature_fails_with_reason(signature, reason):
    cert = _cert()
    cert["signature"] = signature
    result = lic.verify_certificate(cert, KEY.public_key())
    assert not result.valid
    assert reason in result.reason


def test_non_canonical_base64_spelling_is_rejected():
    cert = _cert()
    sig = cert["signature"]
    # 64 bytes -> 86 chars; the last char carries 2 data bits + 4 zero bits. Setting one of
    # those zero bits spells the same bytes differently: must be rejected, not ignored.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    cert["signature"] = sig[:-1] + alphabet[alphabet.index(sig[-1]) | 1]
    assert cert["signature"] != sig
    result = lic.verify_certificate(cert, KEY.public_key())
    assert not result.valid and "base64url" in result.reason


@pytest.mark.parametrize("alg", ["none", "ES256", "ed25519", "", None, 1])
def test_wrong_alg_fails(alg):
    cert = _cert()
    cert["alg"] = alg
    result = lic.verify_certificate(cert, KEY.public_key())
    assert not result.valid
    assert "alg" in result.reason


def test_other_key_fails():
    cert = _cert()
    result = lic.verify_certificate(cert, OTHER_KEY.public_key())
    assert not result.valid and "key_id" in result.reason
    # even if the attacker also rewrites key_id, the signature does not verify
    cert["key_id"] = lic.key_id(OTHER_KEY.public_key())
    result = lic.verify_certificate(cert, OTHER_KEY.public_key())
    assert not result.valid and "signature does not match" in result.reason
    # signed by another key under our key_id
    forged = lic.sign_certificate(_claims(), OTHER_KEY, key_id=KID)
    assert not lic.verify_certificate(forged, KEY.public_key()).valid


@pytest.mark.parametrize("field", ["claims", "alg", "key_id", "signature"])
def test_missing_field_fails(field):
    cert = _cert()
    del cert[field]
    result = lic.verify_certificate(cert, KEY.public_key())
    assert not result.valid and field in result.reason


@pytest.mark.parametrize(
    "certificate",
    [None, [], "cert", 42, {"claims": [], "alg": "Ed25519", "key_id": KID, "signature": ""}],
)
def test_malformed_certificates_fail(certificate):
    result = lic.verify_certificate(certificate, KEY.public_key())
    assert result.valid is False and result.reason


@pytest.mark.parametrize("public_key", [None, "not pem", b"\x00" * 32, object()])
def test_bad_public_key_fails_without_raising(public_key):
    result = lic.verify_certificate(_cert(), public_key)
    assert result.valid is False and "public key" in result.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
cert_like = st.fixed_dictionaries(
    {},
    optional={
        "claims": json_values,
        "alg": st.sampled_from(["Ed25519"]) | json_values,
        "key_id": st.just(KID) | json_values,
        "signature": st.text(alphabet="ABCDEFabcdef0123456789-_=+/", max_size=90) | json_values,
        "extra": json_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(certificate=json_values | cert_like)
def test_arbitrary_json_never_raises(certificate):
    result = lic.verify_certificate(certificate, KEY.public_key())
    assert result.valid is False
    assert isinstance(result.reason, str) and result.reason


@settings(max_examples=100, deadline=None)
@given(claims=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_any_signed_json_claims_round_trip(claims):
    try:
        cert = lic.sign_certificate(claims, KEY, key_id=KID)
    except ValueError:  # NaN / Infinity cannot be encoded canonically: refused at signing
        return
    assert lic.verify_certificate(json.loads(json.dumps(cert)), KEY.public_key()).valid


def test_canonical_encoding_is_stable_and_documented():
    claims = _claims()
    encoded = lic.canonical_json(claims)
    # the documented recipe, independent of our helper
    assert encoded == json.dumps(
        claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    # insertion order and a JSON round trip do not change it
    reversed_claims = json.loads(json.dumps(dict(reversed(list(claims.items())))))
    assert lic.canonical_json(reversed_claims) == encoded
    assert b"\\u" not in encoded and "«Étude»".encode() in encoded
    assert lic.canonical_json({"b": 1, "a": [True, None, "é"]}) == (
        b'{"a":[true,null,"\xc3\xa9"],"b":1}'
    )
    # Ed25519 is deterministic: same claims, same key -> same certificate
    assert lic.sign_certificate(claims, KEY, key_id=KID) == lic.sign_certificate(
        reversed_claims, KEY, key_id=KID
    )


def test_known_answer_vector():
    """RFC 8032 test 1 key: pins the exact signed bytes for third-party verifiers."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    cert = lic.sign_certificate({"z": 1, "a": "x"}, key, key_id=lic.key_id(key))
    message = b'{"a":"x","z":1}'
    key.public_key().verify(lic.b64url_decode(cert["signature"]), message)
    assert cert["signature"] == (
        "KYXs7y6NvAfsq1VSb9vTS-bgocJjsDgM5nLIcBSNJQGUeySTmZOBYwtgBzxBb4YnHR9Y-0iC_b0xHMSFSTtdDQ"
    )
    assert (
        cert["key_id"]
        == hashlib.sha256(
            bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        ).hexdigest()[:16]
    )


def test_key_helpers(tmp_path):
    path = tmp_path / "keys" / "nested" / "licence.pem"
    key = lic.load_or_create_private_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = lic.load_or_create_private_key(path)
    assert lic.key_id(again) == lic.key_id(key.public_key())
    assert lic.key_id(lic.private_key_from_pem(path.read_text())) == lic.key_id(key)
    assert lic.key_id(lic.private_key_from_pem(path.read_bytes())) == lic.key_id(key)
    pem = lic.public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert lic.key_id(lic.public_key_from_pem(pem)) == lic.key_id(key)
    assert len(lic.key_id(key)) == 16 and int(lic.key_id(key), 16) >= 0
    assert lic.key_id(key) != lic.key_id(OTHER_KEY)


def test_private_key_from_pem_rejects_other_key_types():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="Ed25519"):
        lic.private_key_from_pem(pem)
