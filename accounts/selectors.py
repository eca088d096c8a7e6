"""Reads on listeners: current preferences, visible tracks, the personal-data export."""

import uuid
from typing import Any

from django.forms.models import model_to_dict

from accounts.models import PreferenceVersion, User


def preferences_current(*, user: User) -> PreferenceVersion | None:
    return user.preference_versions.order_by("-version").first()


def visible_track_ids(*, user: User, track_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``track_ids`` the user may listen to: generation's one visibility rule."""
    from generation.selectors import visible_track_ids as generation_visible

    return generation_visible(user=user, track_ids=track_ids)


def user_export(*, user: User) -> dict[str, Any]:
    """Every personal row of a listener, as JSON-ready values."""
    from generation.models import GenerationJob, Licence, Track, TrackReport

    return {
        "user": {
            "id": user.pk,
            "public_id": str(user.public_id),
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "preference_versions": [
            {**model_to_dict(version, exclude=("user",)), "created_at": version.created_at.isoformat()}
            for version in user.preference_versions.order_by("version")
        ],
        "listening_events": [
            {
                "client_event_id": str(event.client_event_id),
                "track": str(event.track_id),
                "kind": event.kind,
                "position_ms": event.position_ms,
                "occurred_at": event.occurred_at.isoformat(),
                "received_at": event.received_at.isoformat(),
            }
            for event in user.listening_events.order_by("occurred_at")
        ],
        "generation_jobs": [
            {
                "id": str(job.id),
                "status": job.status,
                "style": job.style,
                "overrides": job.overrides,
                "created_at": job.created_at.isoformat(),
            }
            for job in GenerationJob.objects.filter(user=user).order_by("created_at")
        ],
        "tracks": [
            {"id": str(track.id), "title": track.title, "status": track.status}
            for track in Track.objects.filter(owner=user).order_by("created_at")
        ],
        "licences": [
            {
                "id": str(licence.id),
                "track": str(licence.track_id),
                "licence_id": licence.licence_id,
                "scope": licence.scope,
                "granted_at": licence.granted_at.isoformat(),
            }
            for licence in Licence.objects.filter(licensee=user).order_by("granted_at")
        ],
        "track_reports": [
            {"id": str(report.id), "track": str(report.track_id), "reason": report.reason, "note": report.note,
             "status": report.status, "created_at": report.created_at.isoformat()}
            for report in TrackReport.objects.filter(reporter=user).order_by("created_at")
        ],
    }
