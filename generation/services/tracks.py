"""Tracks after publishing: review, take-down, erasure of a listener's private tracks."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from generation import objects
from generation.models import ReviewAction, ReviewEvent, Track, TrackStatus


def track_object_keys(track: Track) -> list[str]:
    """Every object a track owns (renditions, their C2PA sidecars, MIDI, pictures)."""
    keys = [r.key for r in track.renditions.all()]
    keys += [key + ".c2pa.json" for key in keys]
    keys += [track.midi_key, track.piano_roll_key, track.waveform_key]
    return [key for key in keys if key]


def _delete_objects(keys: list[str]) -> None:
    for key in keys:
        if objects.object_exists(key):
            objects.delete_object(key)


def _shared_elsewhere(track: Track, keys: list[str]) -> set[str]:
    """Keys another track also references (content addressing can make two tracks share one)."""
    from generation.models import Rendition

    others = Track.objects.exclude(id=track.id)
    shared = set(Rendition.objects.filter(key__in=keys).exclude(track=track).values_list("key", flat=True))
    shared |= set(others.filter(midi_key__in=keys).values_list("midi_key", flat=True))
    return shared


@transaction.atomic
def track_review(*, track: Track, reviewer: User, action: str, reason: str = "") -> Track:
    """Approve into the catalog, or reject; recorded in the audit trail."""
    if action not in (ReviewAction.APPROVE, ReviewAction.REJECT):
        raise ValueError(f"unknown review action {action!r}")
    if track.status == TrackStatus.TAKEN_DOWN:
        raise ValueError("a taken-down track cannot be reviewed")
    track.status = TrackStatus.CATALOG if action == ReviewAction.APPROVE else TrackStatus.REJECTED
    track.save(update_fields=["status"])
    ReviewEvent.objects.create(
        track=track, track_ref=track.id, reviewer=reviewer, reviewer_ref=reviewer.public_id, action=action, reason=reason
    )
    if action == ReviewAction.APPROVE:
        _grant_catalog_licence(track)
    transaction.on_commit(lambda: review_document_write(track=track))
    return track


def _grant_catalog_licence(track: Track) -> None:
    """Approval moves the requester's grant to catalog scope (commercial use if the data allows)."""
    import json

    from django.utils import timezone

    from generation.models import Licence, LicenceScope
    from generation.services.licences import catalog_certificate, licence_key

    personal = track.licences.filter(scope=LicenceScope.PERSONAL).first()
    if personal is None or track.licences.filter(scope=LicenceScope.CATALOG, licensee_ref=personal.licensee_ref).exists():
        return
    certificate, claims = catalog_certificate(track=track, licensee_ref=str(personal.licensee_ref))
    Licence.objects.create(
        id=claims["licence_uuid"], track=track, licensee=personal.licensee, licensee_ref=personal.licensee_ref,
        licence_id=claims["licence_id"], scope=LicenceScope.CATALOG, commercial_use=claims["commercial_use"],
        attribution=claims["attribution"], territory=claims["territory"], certificate=certificate,
        granted_at=timezone.now(),
    )
    transaction.on_commit(lambda: objects.put_at_key(
        licence_key(claims["licence_uuid"]), json.dumps(certificate, sort_keys=True).encode(),
        content_type="application/json", metadata={"licence-id": claims["licence_id"]},
    ))


def review_key(track_id) -> str:
    return f"reviews/{track_id}.json"


def review_document_write(*, track: Track) -> None:
    """The track's review status and history beside its provenance, so the bucket tells the catalog."""
    import json

    history = [
        {"action": e.action, "reason": e.reason, "at": e.at.isoformat(), "reviewer_ref": str(e.reviewer_ref or "")}
        for e in ReviewEvent.objects.filter(track_ref=track.id)
    ]
    document = json.dumps({"track_id": str(track.id), "status": track.status, "history": history}, sort_keys=True)
    key = review_key(track.id)
    if objects.object_exists(key):
        objects.delete_object(key)  # the one mutable document: rewritten on every review
    objects.put_at_key(key, document.encode(), content_type="application/json", metadata={"track-id": str(track.id)})


def track_take_down(*, track: Track, actor: User, reason: str) -> Track:
    """Remove a track's objects, revoke its licences and availability, keep an audit record."""
    if not reason.strip():
        raise ValueError("a take-down needs a reason")
    from django.utils import timezone

    keys = track_object_keys(track)
    with transaction.atomic():
        track.status = TrackStatus.TAKEN_DOWN
        track.save(update_fields=["status"])
        track.licences.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        ReviewEvent.objects.create(
            track=track,
            track_ref=track.id,
            reviewer=actor,
            reviewer_ref=actor.public_id,
            action=ReviewAction.TAKE_DOWN,
            reason=reason,
        )
        shared = _shared_elsewhere(track, keys)
        track.renditions.all().delete()
    _delete_objects([key for key in keys if key not in shared])
    review_document_write(track=track)
    return track


def tracks_erase_for_user(*, user: User) -> None:
    """Delete a listener's private tracks (rows and objects); catalog tracks stay, unowned."""
    for track in Track.objects.filter(owner=user).exclude(status=TrackStatus.CATALOG):
        keys = track_object_keys(track)
        shared = _shared_elsewhere(track, keys)
        track.delete()
        transaction.on_commit(lambda keys=keys, shared=shared: _delete_objects([k for k in keys if k not in shared]))
