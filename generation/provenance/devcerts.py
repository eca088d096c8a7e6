"""Development C2PA signing chain.

C2PA signers must present an X.509 chain whose leaf can sign (``digitalSignature`` key usage)
and carries an extended key usage the C2PA trust model accepts; ``emailProtection`` is one of
them (see FIELD-NOTES.md, "C2PA"). This module makes such a chain for development and tests:

* ``ca.pem``     -- a self-signed ES256 (P-256) certificate authority,
* ``signer.pem`` -- the ES256 leaf certificate followed by the CA certificate (PEM chain, the
  form ``c2pa.C2paSignerInfo`` expects),
* ``signer.key`` -- the leaf's private key, PKCS#8 PEM, file mode 0600.

Readers report manifests signed with it as valid but the signer as untrusted, as for any
development certificate. Production uses a certificate from a CA on the C2PA trust list.

Run ``python -m generation.provenance.devcerts DIR``: idempotent, it does nothing when the three
files already exist and prints what it did.

Pure module: no Django imports.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CHAIN_FILE = "signer.pem"
KEY_FILE = "signer.key"

CA_VALIDITY_DAYS = 3650
LEAF_VALIDITY_DAYS = 825


@dataclass(frozen=True)
class DevCertPaths:
    ca: Path
    chain: Path
    key: Path

    def exist(self) -> bool:
        return self.ca.is_file() and self.chain.is_file() and self.key.is_file()


def paths_for(directory: Path) -> DevCertPaths:
    directory = Path(directory)
    return DevCertPaths(directory / CA_FILE, directory / CHAIN_FILE, directory / KEY_FILE)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cadenza (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_chain(now: dt.datetime | None = None) -> tuple[bytes, bytes, bytes]:
    """Return ``(ca_pem, chain_pem, leaf_key_pem)`` for a fresh development chain."""
    now = now or dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Cadenza Development C2PA CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + dt.timedelta(days=CA_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Cadenza Development C2PA Signer"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + dt.timedelta(days=LEAF_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    chain_pem = leaf_cert.public_bytes(pem) + ca_pem
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca_pem, chain_pem, key_pem


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def ensure_dev_certs(directory: Path) -> tuple[DevCertPaths, bool]:
    """Create the development chain in ``directory`` unless all three files exist.

    Returns ``(paths, created)``. If only some of the files exist (an interrupted run), all
    three are written again so that key and certificate always match.
    """
    paths = paths_for(directory)
    if paths.exist():
        return paths, False
    Path(directory).mkdir(parents=True, exist_ok=True)
    ca_pem, chain_pem, key_pem = make_chain()
    _write(paths.key, key_pem, 0o600)
    _write(paths.ca, ca_pem, 0o644)
    _write(paths.chain, chain_pem, 0o644)
    return paths, True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in {"-h", "--help"}:
        print("usage: python -m generation.provenance.devcerts DIR", file=sys.stderr)
        return 2
    paths, created = ensure_dev_certs(Path(argv[0]))
    if created:
        print(f"created development C2PA chain: {paths.ca}, {paths.chain}, {paths.key} (0600)")
    else:
        print(f"development C2PA chain already present in {paths.ca.parent}; nothing to do")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
