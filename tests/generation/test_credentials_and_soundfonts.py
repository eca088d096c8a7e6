"""Content credentials are never silently missing (regression (f)), and the soundfont's name,
sha256 and licence come from a registry of known soundfonts (regression (g): the licence was the
constant "MIT" whatever soundfont was configured)."""

import hashlib

import pytest

from generation.audio.soundfonts import REGISTRY, soundfont_identity
from generation.services import stages
from tests.config.test_settings import GOOD_KEY, _dev_key_pem, _manage


def test_the_registry_names_fluidr3_by_its_bytes():
    from generation.audio.render import default_soundfont

    path = default_soundfont()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    identity = soundfont_identity(sha256=digest, file_name=path.name)
    assert (identity["name"], identity["licence"], identity["known"]) == ("FluidR3 GM", "MIT", True)


def test_an_unknown_soundfont_is_recorded_as_unknown_whatever_its_name():
    identity = soundfont_identity(sha256="ab" * 32, file_name="FluidR3_GM.sf2")
    assert (identity["name"], identity["licence"], identity["known"]) == ("unknown", "unknown", False)
    assert identity["sha256"] == "ab" * 32 and identity["file_name"] == "FluidR3_GM.sf2"
    assert all(len(sha) == 64 for sha in REGISTRY)


def test_without_a_chain_publishing_stops_unless_explicitly_allowed(settings, tmp_path):
    settings.CADENZA_C2PA_CERT = tmp_path / "missing.pem"
    settings.CADENZA_C2PA_KEY = tmp_path / "missing.key"
    settings.CADENZA_PUBLISH_WITHOUT_C2PA = False
    with pytest.raises(stages.NoSigningChain, match="CADENZA_PUBLISH_WITHOUT_C2PA"):
        stages.content_credentials_policy()
    settings.CADENZA_PUBLISH_WITHOUT_C2PA = True
    assert stages.content_credentials_policy() == {
        "c2pa": "none", "published_without_c2pa": True, "reason": "CADENZA_PUBLISH_WITHOUT_C2PA"}


def test_with_a_chain_the_record_says_signed(settings, dev_certs):
    settings.CADENZA_C2PA_CERT, settings.CADENZA_C2PA_KEY = dev_certs.chain, dev_certs.key
    settings.CADENZA_PUBLISH_WITHOUT_C2PA = False
    assert stages.content_credentials_policy() == {"c2pa": "signed", "published_without_c2pa": False}


def test_production_refuses_to_start_without_a_c2pa_chain(tmp_path):
    result = _manage("check", SECRET_KEY=GOOD_KEY, CADENZA_LICENCE_SIGNING_KEY=_dev_key_pem(),
                     CADENZA_C2PA_CERT=str(tmp_path / "none.pem"), CADENZA_C2PA_KEY=str(tmp_path / "none.key"))
    assert result.returncode != 0
    assert "CADENZA_C2PA_CERT" in result.stderr and "CADENZA_PUBLISH_WITHOUT_C2PA" in result.stderr


def test_production_starts_without_a_chain_only_when_told_to_publish_without(tmp_path):
    result = _manage("check", SECRET_KEY=GOOD_KEY, CADENZA_LICENCE_SIGNING_KEY=_dev_key_pem(),
                     CADENZA_PUBLISH_WITHOUT_C2PA="true")
    assert result.returncode == 0, result.stderr


def test_production_starts_with_a_chain(dev_certs):
    result = _manage("check", SECRET_KEY=GOOD_KEY, CADENZA_LICENCE_SIGNING_KEY=_dev_key_pem(),
                     CADENZA_C2PA_CERT=str(dev_certs.chain), CADENZA_C2PA_KEY=str(dev_certs.key))
    assert result.returncode == 0, result.stderr
