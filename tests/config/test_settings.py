"""Production settings refuse to start without their secrets; the deploy check passes with them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz!@#$%^&*()"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | {"DJANGO_ENV": "production", "DJANGO_ALLOWED_HOSTS": "cadenza.example",
                     "EMAIL_URL": "smtp+tls://cadenza:secret@mail.cadenza.example:587"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_key():
    result = _manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_the_development_secret_key():
    result = _manage("check", SECRET_KEY="cadenza-insecure-development-key-do-not-use-in-production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_the_deploy_check_passes_in_production(tmp_path):
    from generation.provenance.devcerts import ensure_dev_certs

    certs, _ = ensure_dev_certs(tmp_path)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=GOOD_KEY, CADENZA_LICENCE_SIGNING_KEY=_dev_key_pem(),
                     CADENZA_C2PA_CERT=str(certs.chain), CADENZA_C2PA_KEY=str(certs.key))
    assert result.returncode == 0, result.stderr


def _dev_key_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from generation.provenance.licence import private_key_pem

    return private_key_pem(Ed25519PrivateKey.generate()).decode()


def test_it_refuses_to_start_without_a_licence_signing_key():
    result = _manage("check", SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "CADENZA_LICENCE_SIGNING_KEY" in result.stderr


def test_it_refuses_to_start_without_an_smtp_server(tmp_path):
    from generation.provenance.devcerts import ensure_dev_certs

    certs, _ = ensure_dev_certs(tmp_path)
    result = _manage("check", SECRET_KEY=GOOD_KEY, CADENZA_LICENCE_SIGNING_KEY=_dev_key_pem(),
                     CADENZA_C2PA_CERT=str(certs.chain), CADENZA_C2PA_KEY=str(certs.key), EMAIL_URL="consolemail://")
    assert result.returncode != 0
    assert "EMAIL_URL" in result.stderr
