"""Reads on what listeners did and what the recommender keeps for them."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from recommendations.models import ListeningEvent


def events_for(*, user: User) -> QuerySet[ListeningEvent]:
    return ListeningEvent.objects.filter(user=user)


def personal_rows(*, user: User) -> dict[str, list[dict]]:
    """recommendations' part of the listener's data export."""
    return {
        "listening_events": [
            {
                "client_event_id": str(event.client_event_id),
                "track": str(event.track_id),
                "kind": event.kind,
                "position_ms": event.position_ms,
                "occurred_at": event.occurred_at.isoformat(),
                "received_at": event.received_at.isoformat(),
            }
            for event in events_for(user=user).order_by("occurred_at", "id")
        ],
    }
