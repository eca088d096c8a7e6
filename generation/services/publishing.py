"""Publishing a job as a Track with its renditions, provenance record and personal licence.

Objects first (content-addressed or keyed by opaque ids, so a rerun writes the same keys), then
all rows in one transaction guarded by the one-track-per-job constraint: a retried or resumed
publish never duplicates a track.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from generation import objects, pipeline
from generation.audio.soundfonts import soundfont_identity
from generation.models import (
    GenerationJob,
    Licence,
    LicenceScope,
    Provenance,
    Rendition,
    Track,
    TrackStatus,
)
from generation.services import licences

PNG = "image/png"


@lru_cache(maxsize=1)
def code_version() -> str:
    """The deployed code's version: CADENZA_CODE_VERSION, else the git commit, else unknown."""
    if settings.CADENZA_CODE_VERSION:
        return settings.CADENZA_CODE_VERSION
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance_key(provenance_id: str) -> str:
    return f"provenance/{provenance_id}.json"


def _pictures(job: GenerationJob) -> dict[str, str]:
    from generation.audio.pictures import piano_roll_png, waveform_png

    arranged = pipeline.midi_from_bytes(objects.read_object(job.work["arrangement"]["midi_key"]))
    mastered, rate = pipeline.audio_from_bytes(objects.read_object(job.work["master"]["key"]))
    meta = {"provenance-id": job.work["provenance_id"]}
    roll = objects.put_object(piano_roll_png(arranged), prefix="images", extension="png", content_type=PNG, metadata=meta)
    wave = objects.put_object(waveform_png(mastered, rate), prefix="images", extension="png", content_type=PNG, metadata=meta)
    return {"piano_roll": roll.key, "waveform": wave.key}


def provenance_record(job: GenerationJob, *, track_id: str, pictures: dict[str, str]) -> dict[str, Any]:
    """DESIGN.md's provenance record, from what the stages wrote into ``job.work``."""
    work = job.work
    composition, mix, master = work["composition"], work["mix"], work["master"]
    return {
        "schema": "cadenza.provenance.v1",
        "provenance_id": work["provenance_id"],
        "track_id": track_id,
        "job_id": str(job.id),
        "requester": str(job.user.public_id),
        "created_at": job.created_at.astimezone(UTC).isoformat(),
        "title": work["title"],
        "model": composition["model"],
        "code_version": code_version(),
        "seed": job.seed,
        "sampling": composition["sampling"],
        "conditioning": {"schema": job.conditioning_schema, "vector": job.conditioning},
        "preference_snapshot": job.preference_snapshot,
        "overrides": job.overrides,
        "request": work["request"],
        "attributes": {"requested": _requested(job), "measured": _heard(job), "composed": composition["measured"]},
        "arrangement": {
            "style": job.style,
            "length_s": job.length_s,
            "version": work["arrangement"].get("version", 1),  # the arranger that wrote it (1: before versions)
            "instruments": work["arrangement"]["instruments"],
            "midi_sha256": work["arrangement"]["midi_sha256"],
        },
        "soundfont": soundfont_identity(sha256=mix["soundfont"]["sha256"], file_name=mix["soundfont"]["path_name"]),
        "content_credentials": work.get("content_credentials", {"c2pa": "unrecorded"}),
        "mix": mix["plan"],
        "master": master["report"],
        "renditions": [
            {k: r.get(k) for k in ("format", "container", "codec", "mime_type", "bitrate_kbps", "key", "sha256", "size",
                               "duration_s", "encoder", "decoded", "c2pa")}
            for r in work["renditions"]
        ],
        "midi": {"composed_sha256": composition["midi_sha256"], "arranged_sha256": work["arrangement"]["midi_sha256"]},
        "originality": composition["originality"],
        "gates": work.get("gates", {}),
        "pictures": pictures,
        "review_history": [],
    }


def _requested(job: GenerationJob) -> dict[str, Any]:
    from generation.model.conditioning import Conditioning

    conditioning = Conditioning.from_vector(job.conditioning)
    return {
        "tempo_bpm": conditioning.tempo_bpm,
        "key_tonic": conditioning.key_tonic,
        "mode": conditioning.mode,
        "time_signature": conditioning.time_signature,
        "density": conditioning.density,
        "length_bars": conditioning.length_bars,
        "families": list(conditioning.families),
    }


def track_publish(*, job: GenerationJob) -> Track:
    """Create the job's Track, renditions, provenance and personal licence (once)."""
    existing = Track.objects.filter(job=job).first()
    if existing is not None:
        return existing
    track_id = str(licences.uuid_for(job, "track"))
    pictures = _pictures(job)
    record = provenance_record(job, track_id=track_id, pictures=pictures)
    document = json.dumps(record, sort_keys=True, indent=1).encode()
    key = provenance_key(record["provenance_id"])
    objects.put_at_key(
        key,
        document,
        content_type="application/json",
        metadata={"provenance-id": record["provenance_id"], "sha256": hashlib.sha256(document).hexdigest()},
    )
    certificate, claims = licences.personal_certificate(job=job, track_id=track_id)
    objects.put_at_key(
        licences.licence_key(claims["licence_uuid"]),
        json.dumps(certificate, sort_keys=True).encode(),
        content_type="application/json",
        metadata={"provenance-id": record["provenance_id"], "licence-id": claims["licence_id"]},
    )
    try:
        with transaction.atomic():
            return _rows(job, track_id, record, document, key, pictures, certificate, claims)
    except IntegrityError:
        return Track.objects.get(job=job)  # a concurrent publish of the same job won


def _heard(job: GenerationJob) -> dict:
    """What the listener hears (the arrangement as played); jobs arranged before it was
    recorded fall back to the composition's attributes."""
    return job.work["arrangement"].get("measured") or job.work["composition"]["measured"]


def _rows(job, track_id, record, document, key, pictures, certificate, claims) -> Track:
    track = Track.objects.create(
        id=track_id,
        job=job,
        owner=job.user,
        title=job.work["title"],
        style=job.style,
        duration_s=max(r["duration_s"] for r in job.work["renditions"]),
        status=TrackStatus.IN_REVIEW,
        conditioning=job.conditioning,
        measured=_heard(job),
        midi_key=job.work["arrangement"]["midi_key"],
        midi_sha256=job.work["arrangement"]["midi_sha256"],
        piano_roll_key=pictures["piano_roll"],
        waveform_key=pictures["waveform"],
    )
    Rendition.objects.bulk_create(
        Rendition(
            track=track,
            format=r["format"],
            codec=r["codec"],
            mime_type=r["mime_type"],
            bitrate_kbps=r["bitrate_kbps"],
            key=r["key"],
            sha256=r["sha256"],
            size=r["size"],
            duration_s=r["duration_s"],
        )
        for r in job.work["renditions"]
    )
    Provenance.objects.create(
        id=record["provenance_id"],
        track=track,
        record=record,
        record_sha256=hashlib.sha256(document).hexdigest(),
        storage_key=key,
    )
    Licence.objects.create(
        id=claims["licence_uuid"],
        track=track,
        licensee=job.user,
        licensee_ref=job.user.public_id,
        licence_id=claims["licence_id"],
        scope=LicenceScope.PERSONAL,
        commercial_use=claims["commercial_use"],
        attribution=claims["attribution"],
        territory=claims["territory"],
        certificate=certificate,
        granted_at=datetime.fromisoformat(claims["granted_at"].replace("Z", "+00:00")),
    )
    return track

