"""Rebuilding the catalog from storage: provenance documents, licence certificates, review status."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import User
from generation import objects
from generation.models import Licence, Provenance, Rendition, Track, TrackStatus
from generation.services.tracks import review_key


def _load(key: str) -> dict[str, Any]:
    return json.loads(objects.read_object(key))


def _status(track_id: str) -> str:
    key = review_key(track_id)
    return _load(key)["status"] if objects.object_exists(key) else TrackStatus.IN_REVIEW


@transaction.atomic
def _track_from_record(key: str, document: bytes) -> Track | None:
    record = json.loads(document)
    if Track.objects.filter(id=record["track_id"]).exists():
        return None
    owner = User.objects.filter(public_id=record["requester"]).first()
    renditions = record["renditions"]
    track = Track.objects.create(
        id=record["track_id"],
        owner=owner,
        title=record["title"],
        style=record["arrangement"]["style"],
        duration_s=max(r["duration_s"] for r in renditions),
        status=_status(record["track_id"]),
        conditioning=record["conditioning"]["vector"],
        measured=record["attributes"]["measured"],
        midi_key=objects.content_key("midi", record["midi"]["arranged_sha256"], "mid"),
        midi_sha256=record["midi"]["arranged_sha256"],
        piano_roll_key=record["pictures"]["piano_roll"],
        waveform_key=record["pictures"]["waveform"],
    )
    Rendition.objects.bulk_create(
        Rendition(track=track, format=r["format"], codec=r["codec"], mime_type=r["mime_type"],
                  bitrate_kbps=r["bitrate_kbps"], key=r["key"], sha256=r["sha256"], size=r["size"],
                  duration_s=r["duration_s"])
        for r in renditions
    )
    Provenance.objects.create(id=record["provenance_id"], track=track, record=record,
                              record_sha256=hashlib.sha256(document).hexdigest(), storage_key=key)
    return track


def _licence_from_certificate(certificate: dict[str, Any]) -> bool:
    claims = certificate["claims"]
    if Licence.objects.filter(id=claims["licence_uuid"]).exists() or not Track.objects.filter(id=claims["track"]["id"]).exists():
        return False
    Licence.objects.create(
        id=claims["licence_uuid"],
        track_id=claims["track"]["id"],
        licensee=User.objects.filter(public_id=claims["licensee_ref"]).first(),
        licensee_ref=claims["licensee_ref"],
        licence_id=claims["licence_id"],
        scope=claims["scope"],
        commercial_use=claims["commercial_use"],
        attribution=claims["attribution"],
        territory=claims["territory"],
        certificate=certificate,
        granted_at=datetime.fromisoformat(claims["granted_at"].replace("Z", "+00:00")),
    )
    return True


def catalog_rebuild() -> dict[str, int]:
    """Create whatever rows are missing for the objects in storage; existing rows are kept."""
    tracks = sum(
        _track_from_record(key, objects.read_object(key)) is not None
        for key, _ in objects.list_objects("provenance/")
        if key.endswith(".json")
    )
    licences = sum(
        _licence_from_certificate(_load(key)) for key, _ in objects.list_objects("licences/") if key.endswith(".json")
    )
    return {"tracks": tracks, "licences": licences}
