"""Licences: the service's signing key, certificates for personal and catalog scopes, verification."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from generation.models import GenerationJob, Track
from generation.provenance import licence as certs

ATTRIBUTION = "Composed by Cadenza's model for {who}. AI-generated (IPTC trainedAlgorithmicMedia)."


def uuid_for(job: GenerationJob, kind: str) -> uuid.UUID:
    """A stable id derived from the job: a rerun of a stage names the same track and licence."""
    return uuid.uuid5(job.id, kind)


def licence_key(licence_uuid: str) -> str:
    return f"licences/{licence_uuid}.json"


@lru_cache(maxsize=1)
def signing_key():
    """The Ed25519 key that signs licence certificates (a development key under var/ by default)."""
    if settings.CADENZA_LICENCE_SIGNING_KEY:
        return certs.private_key_from_pem(settings.CADENZA_LICENCE_SIGNING_KEY)
    return certs.load_or_create_private_key(settings.CADENZA_DEV_LICENCE_KEY_PATH)


def public_key_document() -> dict[str, str]:
    key = signing_key()
    return {
        "alg": certs.ALG,
        "key_id": certs.key_id(key.public_key()),
        "public_key_pem": certs.public_key_pem(key),
        "canonicalisation": "JSON, keys sorted, no whitespace, UTF-8 (the certificate's claims)",
    }


def _certificate(*, licence_uuid: str, track_id: str, renditions: dict[str, str], midi_sha256: str,
                 licensee_ref: str, scope: str, commercial_use: bool, model: dict[str, str]) -> tuple[dict, dict]:
    claims = certs.build_licence_claims(
        licence_uuid=licence_uuid,
        licence_id=certs.LICENCE_PERSONAL if scope == certs.SCOPE_PERSONAL else certs.LICENCE_CATALOG,
        track_id=track_id,
        track_sha256s=renditions,
        midi_sha256=midi_sha256,
        licensor=settings.CADENZA_LICENSOR,
        licensee_ref=licensee_ref,
        scope=scope,
        commercial_use=commercial_use,
        attribution=ATTRIBUTION.format(who="its listener" if scope == certs.SCOPE_PERSONAL else "the catalog"),
        territory="worldwide",
        granted_at=timezone.now(),
        model_name=model["name"],
        model_version=model["version"],
    )
    key = signing_key()
    return certs.sign_certificate(claims, key, key_id=certs.key_id(key.public_key())), claims


def personal_certificate(*, job: GenerationJob, track_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The requesting listener's personal streaming licence for the job's track."""
    return _certificate(
        licence_uuid=str(uuid_for(job, "licence-personal")),
        track_id=track_id,
        renditions={r["format"]: r["sha256"] for r in job.work["renditions"]},
        midi_sha256=job.work["arrangement"]["midi_sha256"],
        licensee_ref=str(job.user.public_id),
        scope=certs.SCOPE_PERSONAL,
        commercial_use=False,
        model=job.work["composition"]["model"],
    )


def catalog_certificate(*, track: Track, licensee_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A catalog licence for a reviewed track: commercial use only if the model's data allows it."""
    model = track.provenance.record["model"]
    return _certificate(
        licence_uuid=str(uuid.uuid5(track.id, f"licence-catalog-{licensee_ref}")),
        track_id=str(track.id),
        renditions={r.format: r.sha256 for r in track.renditions.all()},
        midi_sha256=track.midi_sha256,
        licensee_ref=licensee_ref,
        scope=certs.SCOPE_CATALOG,
        commercial_use=bool(model.get("training_data", {}).get("commercial_use", False)),
        model=model,
    )


def certificate_verify(*, certificate: Any) -> certs.VerifyResult:
    """Check a certificate against the service's public key (offline-verifiable the same way)."""
    return certs.verify_certificate(certificate, signing_key().public_key())
