"""C2PA content credentials on real (synthetic, 1 s) renditions, signed with the dev chain."""

import hashlib
import io
import json
import subprocess

import c2pa
import numpy as np
import pytest
import soundfile as sf
from pedalboard.io import AudioFile

from generation.provenance import c2pa_embed as ce
from generation.provenance import devcerts
from generation.provenance.licence import DIGITAL_SOURCE_TYPE, LICENCE_PERSONAL

SR = 44100
PROVENANCE_ID = "9b2e4c1a-5d6f-4a7b-8c9d-0e1f2a3b4c5d"
FIELDS = dict(
    title="Track 9b2e4c1a",
    claim_generator="cadenza/0.1.0",
    provenance_id=PROVENANCE_ID,
    licence_id=LICENCE_PERSONAL,
    model_name="cadenza-decoder",
    model_version="1.2.0",
)
EMBEDDED = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "flac": "audio/flac"}


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    paths, _ = devcerts.ensure_dev_certs(tmp_path_factory.mktemp("dev-certs"))
    return {"cert_chain_pem": paths.chain.read_bytes(), "private_key_pem": paths.key.read_bytes()}


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """1 s 440 Hz sine in every rendition format, encoded the way the pipeline encodes."""
    directory = tmp_path_factory.mktemp("audio")
    t = np.arange(SR) / SR
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(directory / "s.wav", x, SR, subtype="PCM_16")
    sf.write(directory / "s.flac", x, SR, subtype="PCM_16")
    sf.write(directory / "s.ogg", x, SR, format="OGG", subtype="VORBIS")
    with AudioFile(str(directory / "s.mp3"), "w", SR, 1) as f:
        f.write(x[None, :])
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(directory / "s.wav"),
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            str(directory / "s.m4a"),
        ],
        check=True,
    )
    return {ext: (directory / f"s.{ext}").read_bytes() for ext in [*EMBEDDED, "ogg"]}


def _ffprobe_samples(data: bytes, tmp_path, name: str) -> int:
    path = tmp_path / name  # a file, not a pipe: ffprobe needs to seek for the duration
    path.write_bytes(data)
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "stream=duration_ts",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        check=True,
    )
    return int(json.loads(out.stdout)["streams"][0]["duration_ts"])


def _ffmpeg_decodes(data: bytes) -> str:
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", "-", "-f", "null", "-"],
        input=data,
        capture_output=True,
    )
    assert out.returncode == 0, out.stderr
    return out.stderr.decode()


@pytest.fixture(scope="module")
def signed(audio, chain):
    return {
        ext: ce.embed_credentials(audio[ext], mime, **FIELDS, **chain)
        for ext, mime in EMBEDDED.items()
    }


@pytest.mark.parametrize("ext", list(EMBEDDED))
def test_embed_and_read_back(ext, audio, signed):
    mime = EMBEDDED[ext]
    assert ce.supports_embedding(mime)
    assert signed[ext] != audio[ext]

    store = ce.read_credentials(signed[ext], mime)
    # dev chain: the manifest is valid, its signer untrusted -- and nothing else is wrong
    assert store["validation_state"] == "Valid"
    codes = {status["code"] for status in store.get("validation_status") or []}
    assert codes <= {"signingCredential.untrusted"}, codes

    assert ce.digital_source_types(store) == [DIGITAL_SOURCE_TYPE]
    assert DIGITAL_SOURCE_TYPE.endswith("trainedAlgorithmicMedia")
    assert ce.cadenza_assertion(store) == {
        "provenance_id": PROVENANCE_ID,
        "licence_id": LICENCE_PERSONAL,
        "model_name": "cadenza-decoder",
        "model_version": "1.2.0",
    }
    manifest = ce.active_manifest(store)
    assert manifest["title"] == FIELDS["title"]
    assert manifest["claim_generator_info"][0]["name"] == "cadenza"
    actions = [a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions")]
    created = actions[0]["data"]["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["softwareAgent"]["name"] == "cadenza-decoder"


@pytest.mark.parametrize("ext", list(EMBEDDED))
def test_embedded_file_still_decodes_with_same_duration(ext, audio, signed, tmp_path):
    _ffmpeg_decodes(signed[ext])
    samples = _ffprobe_samples(signed[ext], tmp_path, f"signed.{ext}")
    assert samples == _ffprobe_samples(audio[ext], tmp_path, f"plain.{ext}")
    assert samples > 0
    if ext != "m4a":  # libsndfile does not read MP4
        before, _ = sf.read(io.BytesIO(audio[ext]), dtype="float32")
        after, sr = sf.read(io.BytesIO(signed[ext]), dtype="float32")
        assert sr == SR and after.shape == before.shape
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("ext", list(EMBEDDED))
def test_changed_audio_invalidates_the_manifest(ext, audio, signed):
    # find a stretch of the original audio payload inside the signed file and flip a byte
    middle = len(audio[ext]) // 2
    offset = signed[ext].find(audio[ext][middle : middle + 64])
    assert offset > 0
    data = bytearray(signed[ext])
    data[offset + 32] ^= 0xFF
    store = ce.read_credentials(bytes(data), EMBEDDED[ext])
    assert store["validation_state"] == "Invalid"
    codes = {status["code"] for status in store.get("validation_status") or []}
    assert any("mismatch" in code for code in codes), codes


def test_unsigned_file_has_no_credentials(audio):
    store = ce.read_credentials(audio["wav"], "audio/wav")
    assert store["validation_state"] is None and store["manifests"] == {}
    assert ce.digital_source_types(store) == [] and ce.cadenza_assertion(store) is None


def test_supports_embedding():
    for mime in [
        "audio/mpeg",
        "audio/mp3",
        "audio/mp4",
        "audio/x-m4a",
        "audio/wav",
        "audio/x-wav",
        "audio/flac",
        "audio/x-flac",
        "audio/FLAC; rate=44100",
    ]:
        assert ce.supports_embedding(mime), mime
    for mime in ["audio/ogg", "audio/opus", "audio/aac", "audio/aiff", "", "text/plain"]:
        assert not ce.supports_embedding(mime), mime


def test_ogg_is_not_supported_by_c2pa(audio, chain):
    """Pins the measured reason for the sidecar: the SDK has no Ogg handler."""
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, chain["cert_chain_pem"], chain["private_key_pem"], None
    )
    definition = ce.manifest_definition(**FIELDS)
    with (
        c2pa.Signer.from_info(info) as signer,
        c2pa.Builder(definition) as builder,
        pytest.raises(c2pa.C2paError, match="unsupported"),
    ):
        builder.sign(signer, "audio/ogg", io.BytesIO(audio["ogg"]), io.BytesIO())
    with pytest.raises(ce.CredentialsError, match="not supported"):
        ce.embed_credentials(audio["ogg"], "audio/ogg", **FIELDS, **chain)


def test_sidecar_manifest(audio):
    sidecar = ce.sidecar_manifest(audio["ogg"], "audio/ogg", **FIELDS)
    assert sidecar["format"] == ce.SIDECAR_FORMAT
    assert sidecar["asset"] == {
        "mime_type": "audio/ogg",
        "sha256": hashlib.sha256(audio["ogg"]).hexdigest(),
        "size": len(audio["ogg"]),
    }
    assert sidecar["manifest"] == ce.manifest_definition(**FIELDS)
    json.dumps(sidecar)  # storable as JSON
    # same assertions as the embedded manifest
    store = {"active_manifest": "m", "manifests": {"m": sidecar["manifest"]}}
    assert ce.digital_source_types(store) == [DIGITAL_SOURCE_TYPE]
    assert ce.cadenza_assertion(store)["provenance_id"] == PROVENANCE_ID


def test_attach_credentials_embeds_or_falls_back(audio, chain):
    ogg = ce.attach_credentials(audio["ogg"], "audio/ogg", **FIELDS, **chain)
    assert not ogg.embedded and ogg.data == audio["ogg"]
    assert ogg.sidecar["asset"]["sha256"] == hashlib.sha256(audio["ogg"]).hexdigest()

    wav = ce.attach_credentials(audio["wav"], "audio/x-wav", **FIELDS, **chain)
    assert wav.embedded and wav.sidecar is None
    assert ce.read_credentials(wav.data, "audio/wav")["validation_state"] == "Valid"


def test_bad_key_raises_credentials_error(audio, chain):
    with pytest.raises(ce.CredentialsError):
        ce.embed_credentials(
            audio["wav"],
            "audio/wav",
            **FIELDS,
            cert_chain_pem=chain["cert_chain_pem"],
            private_key_pem=b"not a key",
        )
