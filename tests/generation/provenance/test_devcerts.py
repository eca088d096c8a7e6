"""Development C2PA chain: created once, a valid ES256 chain with the right usages."""

import os
import stat
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from generation.provenance import devcerts

REPO = Path(__file__).resolve().parents[3]


def test_created_once(tmp_path):
    directory = tmp_path / "var" / "dev-certs"
    paths, created = devcerts.ensure_dev_certs(directory)
    assert created and paths.exist()
    before = {p: p.read_bytes() for p in (paths.ca, paths.chain, paths.key)}
    assert stat.S_IMODE(os.stat(paths.key).st_mode) == 0o600

    paths2, created2 = devcerts.ensure_dev_certs(directory)
    assert not created2
    assert {p: p.read_bytes() for p in (paths2.ca, paths2.chain, paths2.key)} == before


def test_partial_directory_is_completed_consistently(tmp_path):
    paths, _ = devcerts.ensure_dev_certs(tmp_path)
    paths.chain.unlink()
    _, created = devcerts.ensure_dev_certs(tmp_path)
    assert created
    leaf = x509.load_pem_x509_certificates(paths.chain.read_bytes())[0]
    key = serialization.load_pem_private_key(paths.key.read_bytes(), None)
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()


def test_valid_chain(tmp_path):
    paths, _ = devcerts.ensure_dev_certs(tmp_path)
    ca = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    chain = x509.load_pem_x509_certificates(paths.chain.read_bytes())
    assert len(chain) == 2 and chain[1] == ca
    leaf = chain[0]

    # leaf signed by the CA (raises if not), CA self-signed
    leaf.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True

    # ES256: P-256 keys, ECDSA with SHA-256
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)

    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False

    key = serialization.load_pem_private_key(paths.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.public_key().public_numbers() == leaf.public_key().public_numbers()


def test_command_line_is_idempotent(tmp_path):
    directory = tmp_path / "dev-certs"
    cmd = [sys.executable, "-m", "generation.provenance.devcerts", str(directory)]
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    assert "created" in first.stdout
    key = (directory / "signer.key").read_bytes()
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    assert "nothing to do" in second.stdout
    assert (directory / "signer.key").read_bytes() == key
    usage = subprocess.run(
        [sys.executable, "-m", "generation.provenance.devcerts"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_provenance_package_imports_no_django():
    code = (
        "import sys\n"
        "import generation.provenance.c2pa_embed, generation.provenance.devcerts\n"
        "import generation.provenance.licence\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework'}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
