"""Tracks after publishing: the review state machine, take-down, erasure of a listener's private tracks.

One state machine: ``DECISIONS`` says, as data, from which states each decision may move a track,
to which state, and whether it needs a reason. ``track_decide`` is the only code that moves a
published track (the admin, commands and tests call it; ``track_review`` and ``track_take_down``
are its older names). Every decision leaves an immutable ``ReviewEvent``: who, when, from which
state to which, why, and what it did (licences granted or revoked, objects removed).

What a state means for listeners is ``generation.selectors.tracks_visible_to``: the catalog is
heard by everyone, waiting/flagged tracks by their owner, rejected and taken-down tracks by
nobody (so their URLs are no longer issued).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from generation import objects
from generation.models import (
    Licence,
    LicenceScope,
    Rendition,
    ReportStatus,
    ReviewAction,
    ReviewEvent,
    Track,
    TrackReport,
    TrackStatus,
)

S = TrackStatus


@dataclass(frozen=True)
class Decision:
    """One review decision: where it may start, where it leaves the track, what it needs."""

    action: str
    sources: frozenset[str]
    target: str
    reason_required: bool
    verb: str  # "take down": "Yes, take down 2 tracks"
    participle: str  # "taken down": "… cannot be taken down"
    done: str  # message after it: "Took down {tracks}"

    @property
    def label(self) -> str:
        return ReviewAction(self.action).label


DECISIONS: dict[str, Decision] = {
    d.action: d
    for d in (
        # approving a catalog track keeps it there and resolves its reports
        Decision(ReviewAction.APPROVE, frozenset({S.IN_REVIEW, S.FLAGGED, S.REJECTED, S.CATALOG}), S.CATALOG,
                 False, "approve", "approved", "Approved {tracks} into the catalog"),
        Decision(ReviewAction.REJECT, frozenset({S.IN_REVIEW, S.FLAGGED, S.CATALOG}), S.REJECTED,
                 True, "reject", "rejected", "Rejected {tracks}"),
        Decision(ReviewAction.FLAG, frozenset({S.IN_REVIEW, S.CATALOG}), S.FLAGGED,
                 True, "flag", "flagged", "Flagged {tracks} for a second review"),
        Decision(ReviewAction.TAKE_DOWN, frozenset({S.PRIVATE, S.IN_REVIEW, S.FLAGGED, S.CATALOG, S.REJECTED}),
                 S.TAKEN_DOWN, True, "take down", "taken down", "Took down {tracks}"),
        Decision(ReviewAction.RESTORE, frozenset({S.REJECTED}), S.IN_REVIEW,
                 False, "restore", "restored", "Restored {tracks} to the review queue"),
    )
}
# Why a state refuses decisions, beyond "not from this state".
STATE_NOTES: dict[str, str] = {S.TAKEN_DOWN: "its objects were removed"}


class DecisionRefused(ValueError):
    """The state machine does not allow this decision on this track (the message says why)."""


def tracks_phrase(count: int) -> str:
    return f"{count} track" if count == 1 else f"{count} tracks"


def decisions_allowed(track: Track) -> list[Decision]:
    """The decisions a reviewer may take on ``track`` in its current state."""
    return [d for d in DECISIONS.values() if track.status in d.sources]


def decision_refusal(track: Track, action: str, reason: str = "") -> str | None:
    """Why ``action`` may not be taken on ``track`` now, in words; ``None`` when it may."""
    decision = DECISIONS.get(action)
    if decision is None:
        return f"there is no decision called {action!r}"
    if track.status not in decision.sources:
        note = STATE_NOTES.get(track.status)
        state = TrackStatus(track.status).label.lower()
        return f"“{track.title}” is {state}{f' ({note})' if note else ''}: it cannot be {decision.participle}"
    if decision.reason_required and not reason.strip():
        return f"a reason is needed for “{decision.label.lower()}”"
    return None


# ------------------------------------------------------------------------------------------------
# What a decision does (shown on the confirmation page, then done by track_decide)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredFile:
    key: str
    what: str
    size: int | None = None


@dataclass
class Plan:
    """What ``action`` would do to ``track``: a refusal, or its effects in words and the files it removes."""

    track: Track
    decision: Decision
    refusal: str | None
    effects: list[str] = field(default_factory=list)
    removes: list[StoredFile] = field(default_factory=list)


def decision_plan(*, track: Track, action: str) -> Plan:
    decision = DECISIONS[action]
    plan = Plan(track=track, decision=decision, refusal=decision_refusal(track, action, reason="(checked later)"))
    if plan.refusal:
        return plan
    live = [lic for lic in track.licences.all() if lic.revoked_at is None]
    if decision.target == S.CATALOG and track.status != S.CATALOG:
        plan.effects.append("joins the shared catalog: every listener can hear it")
        plan.effects.append("a catalog licence is granted to its requester")
    if decision.target == S.CATALOG and track.reports.filter(status=ReportStatus.OPEN).exists():
        plan.effects.append("its open listener reports are resolved")
    if track.status == S.CATALOG and decision.target not in (S.CATALOG, S.TAKEN_DOWN):
        plan.effects.append("leaves the shared catalog; its catalog licence is revoked")
    if decision.target in (S.REJECTED, S.TAKEN_DOWN):
        plan.effects.append("listeners stop hearing it: it leaves playlists, radio and the catalog, "
                            "and its URLs are no longer issued")
    if decision.target == S.TAKEN_DOWN:
        revoked = ", ".join(f"{lic.licence_id} ({LicenceScope(lic.scope).label.lower()})" for lic in live)
        plan.effects.append(f"{len(live)} licence(s) revoked: {revoked}" if live else "no live licence to revoke")
        plan.removes = _files_of(track)
        plan.effects.append(f"{len(plan.removes)} stored file(s) deleted (listed below); the provenance "
                            "record, licence certificates and this decision are kept")
    if decision.target == S.IN_REVIEW:
        plan.effects.append("back in the review queue; its owner can hear it again")
    if decision.target == S.FLAGGED:
        plan.effects.append("waits for a second reviewer (its owner can still hear it)")
    return plan


def _files_of(track: Track) -> list[StoredFile]:
    """Every stored file a take-down removes (those no other track shares)."""
    files = []
    for r in track.renditions.all():
        files += [StoredFile(r.key, f"audio, {r.format}", r.size), StoredFile(r.key + ".c2pa.json", "C2PA manifest")]
    files += [StoredFile(track.midi_key, "MIDI (arranged)"), StoredFile(_composition_key(track), "MIDI (composed)"),
              StoredFile(track.piano_roll_key, "picture: piano roll"), StoredFile(track.waveform_key, "picture: waveform")]
    files = [f for f in files if f.key]
    shared = _shared_elsewhere(track, [f.key for f in files])
    return [f for f in files if f.key not in shared]


def _composition_key(track: Track) -> str:
    job = track.job
    return (job.work.get("composition", {}).get("midi_key", "") if job else "") or ""


def _delete_objects(keys: list[str]) -> None:
    for key in keys:
        if objects.object_exists(key):
            objects.delete_object(key)


def _shared_elsewhere(track: Track, keys: list[str]) -> set[str]:
    """Keys another track also references (content addressing can make two tracks share one)."""
    sidecar = ".c2pa.json"
    plain = {key.removesuffix(sidecar) for key in keys}
    others = Track.objects.exclude(id=track.id)
    shared = set(Rendition.objects.filter(key__in=plain).exclude(track=track).values_list("key", flat=True))
    for column in ("midi_key", "piano_roll_key", "waveform_key"):
        shared |= set(others.filter(**{f"{column}__in": plain}).values_list(column, flat=True))
    shared |= set(others.filter(job__work__composition__midi_key__in=plain)
                  .values_list("job__work__composition__midi_key", flat=True))
    return {key for key in keys if key.removesuffix(sidecar) in shared}


# ------------------------------------------------------------------------------------------------
# The state machine
# ------------------------------------------------------------------------------------------------
def track_decide(*, track: Track, reviewer: User, action: str, reason: str = "") -> ReviewEvent:
    """Take one decision on a track (compare-and-set on its status) and record it.

    Raises ``DecisionRefused`` (a ``ValueError``) when the state machine does not allow it, the
    reason is missing, or another reviewer moved the track meanwhile; nothing changes then.
    """
    reason = reason.strip()
    with transaction.atomic():
        current = Track.objects.select_related("job").get(pk=track.pk)
        refusal = decision_refusal(current, action, reason)
        if refusal:
            raise DecisionRefused(refusal)
        decision = DECISIONS[action]
        plan = decision_plan(track=current, action=action)
        moved = Track.objects.filter(pk=current.pk, status=current.status).update(status=decision.target)
        if not moved:
            raise DecisionRefused(f"“{current.title}” was changed by someone else meanwhile; look again")
        details = _apply(current, decision, plan)
        event = ReviewEvent.objects.create(
            track=current, track_ref=current.id, reviewer=reviewer, reviewer_ref=reviewer.public_id,
            action=action, from_status=current.status, to_status=decision.target, reason=reason, details=details,
        )
        TrackReport.objects.filter(track=current, status=ReportStatus.OPEN).update(
            status=ReportStatus.RESOLVED, resolved_by=event
        )
        removed = details.get("objects_removed", [])
        transaction.on_commit(lambda: _after_commit(current.id, removed))
    track.refresh_from_db()
    return event


def _apply(track: Track, decision: Decision, plan: Plan) -> dict:
    """The effects of a decision on licences and stored files; returns what was done."""
    now = timezone.now()
    done: dict = {"reports_resolved": track.reports.filter(status=ReportStatus.OPEN).count()}
    if decision.target == S.CATALOG:
        done.update(_catalog_licence_ensure(track))
    if track.status == S.CATALOG and decision.target != S.CATALOG:
        catalog = track.licences.filter(scope=LicenceScope.CATALOG, revoked_at__isnull=True)
        done["licences_revoked"] = [str(i) for i in catalog.values_list("id", flat=True)]
        catalog.update(revoked_at=now)
    if decision.target == S.TAKEN_DOWN:
        live = track.licences.filter(revoked_at__isnull=True)
        done["licences_revoked"] = sorted(set(done.get("licences_revoked", []))
                                          | {str(i) for i in live.values_list("id", flat=True)})
        live.update(revoked_at=now)
        done["objects_removed"] = [f.key for f in plan.removes]
        track.renditions.all().delete()
        Track.objects.filter(pk=track.pk).update(midi_key="", piano_roll_key="", waveform_key="")
    return done


def _after_commit(track_id, removed: list[str]) -> None:
    _delete_objects(removed)
    review_document_write(track=Track.objects.get(pk=track_id))


def _catalog_licence_ensure(track: Track) -> dict:
    """Approval moves the requester's grant to catalog scope (commercial use if the data allows).

    A catalog licence revoked when the track left the catalog is reinstated, not issued twice.
    """
    from generation.services.licences import catalog_certificate, licence_key

    personal = track.licences.filter(scope=LicenceScope.PERSONAL).first()
    if personal is None:
        return {}
    existing = track.licences.filter(scope=LicenceScope.CATALOG, licensee_ref=personal.licensee_ref).first()
    if existing is not None:
        if existing.revoked_at is None:
            return {}
        Licence.objects.filter(pk=existing.pk).update(revoked_at=None)
        return {"licences_reinstated": [str(existing.id)]}
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
    return {"licences_granted": [str(claims["licence_uuid"])]}


def track_review(*, track: Track, reviewer: User, action: str, reason: str = "") -> Track:
    """Approve, reject, flag or restore (``track_decide`` under its older name)."""
    track_decide(track=track, reviewer=reviewer, action=action, reason=reason)
    return track


def track_take_down(*, track: Track, actor: User, reason: str) -> Track:
    """Remove a track's objects, revoke its licences and availability, keep an audit record."""
    track_decide(track=track, reviewer=actor, action=ReviewAction.TAKE_DOWN, reason=reason)
    return track


# ------------------------------------------------------------------------------------------------
# The review document beside the provenance record in the bucket
# ------------------------------------------------------------------------------------------------
def review_key(track_id) -> str:
    return f"reviews/{track_id}.json"


def review_document_write(*, track: Track) -> None:
    """The track's review status and history beside its provenance, so the bucket tells the catalog."""
    history = [
        {"action": e.action, "from": e.from_status, "to": e.to_status, "reason": e.reason, "at": e.at.isoformat(),
         "reviewer_ref": str(e.reviewer_ref or "")}
        for e in ReviewEvent.objects.filter(track_ref=track.id)
    ]
    document = json.dumps({"track_id": str(track.id), "status": track.status, "history": history}, sort_keys=True)
    key = review_key(track.id)
    if objects.object_exists(key):
        objects.delete_object(key)  # the one mutable document: rewritten on every review
    objects.put_at_key(key, document.encode(), content_type="application/json", metadata={"track-id": str(track.id)})


def tracks_erase_for_user(*, user: User) -> None:
    """Delete a listener's private tracks (rows and objects); catalog tracks stay, unowned."""
    for track in Track.objects.filter(owner=user).exclude(status=TrackStatus.CATALOG).select_related("job"):
        keys = [f.key for f in _files_of(track)]
        track.delete()
        transaction.on_commit(lambda keys=keys: _delete_objects(keys))

