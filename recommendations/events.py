"""Validation of listening events sent by the app: pure, per event, so one bad event drops alone."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from accounts.vocabulary import EVENT_MAX_AGE_DAYS, EVENT_MAX_FUTURE_S
from recommendations.models import EventKind

EVENT_FIELDS = frozenset({"client_event_id", "track", "kind", "position_ms", "occurred_at"})
KINDS = frozenset(EventKind.values)
MAX_POSITION_MS = 24 * 3600 * 1000


class EventRejected(ValueError):
    """An event that cannot be stored, with the field at fault."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class CleanEvent:
    client_event_id: uuid.UUID
    track_id: uuid.UUID
    kind: str
    position_ms: int
    occurred_at: datetime


def _uuid(raw: dict[str, Any], field: str) -> uuid.UUID:
    value = raw.get(field)
    if not isinstance(value, str):
        raise EventRejected(field, "This field is required and must be a UUID string.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise EventRejected(field, "Must be a valid UUID.") from None


def _occurred_at(raw: dict[str, Any], now: datetime) -> datetime:
    value = raw.get("occurred_at")
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is not None and parsed.tzinfo is not None:
            parsed.astimezone(UTC)  # an offset that cannot exist, or a time beyond the calendar
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise EventRejected("occurred_at", "Must be an ISO 8601 date-time with a time zone.")
    if parsed > now + timedelta(seconds=EVENT_MAX_FUTURE_S):
        raise EventRejected("occurred_at", "More than 5 minutes in the future.")
    if parsed < now - timedelta(days=EVENT_MAX_AGE_DAYS):
        raise EventRejected("occurred_at", f"More than {EVENT_MAX_AGE_DAYS} days in the past.")
    return parsed


def _position(raw: dict[str, Any]) -> int:
    value = raw.get("position_ms", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION_MS:
        raise EventRejected("position_ms", f"Must be an integer from 0 to {MAX_POSITION_MS}.")
    return value


def clean_event(raw: Any, *, now: datetime) -> CleanEvent:
    """One raw event → a CleanEvent, or EventRejected naming the field."""
    if not isinstance(raw, dict):
        raise EventRejected("non_field_errors", "Each event must be a JSON object.")
    unknown = set(raw) - EVENT_FIELDS
    if unknown:
        raise EventRejected(sorted(unknown)[0], "Unknown field.")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise EventRejected("kind", f"Must be one of: {', '.join(sorted(KINDS))}.")
    return CleanEvent(
        client_event_id=_uuid(raw, "client_event_id"),
        track_id=_uuid(raw, "track"),
        kind=kind,
        position_ms=_position(raw),
        occurred_at=_occurred_at(raw, now),
    )
