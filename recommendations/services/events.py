"""Listening-event ingest: a batch validated per event, stored idempotently in one statement."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from accounts.models import User
from generation.selectors import visible_track_ids
from recommendations.events import CleanEvent, EventRejected, clean_event
from recommendations.models import ListeningEvent
from recommendations.services.listening import listening_digest_enqueue

INSERT_FIELDS = ("user", "client_event_id", "track", "kind", "position_ms", "occurred_at", "received_at")


def _clean_batch(
    raw_events: list[Any], *, now: datetime
) -> tuple[list[dict[str, Any]], dict[int, CleanEvent]]:
    results: list[dict[str, Any]] = []
    clean: dict[int, CleanEvent] = {}
    for position, raw in enumerate(raw_events):
        client_id = raw.get("client_event_id") if isinstance(raw, dict) else None
        client_id = client_id if isinstance(client_id, str) else None  # echoed as sent when a string
        result: dict[str, Any] = {"index": position, "client_event_id": client_id}
        try:
            clean[position] = clean_event(raw, now=now)
        except EventRejected as rejected:
            result.update(status="rejected", field=rejected.field, reason=rejected.reason)
        results.append(result)
    return results, clean


def _insert_new(user: User, events: Iterable[CleanEvent], now: datetime) -> set[uuid.UUID]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING: exactly the ids this call stored."""
    events = list(events)
    if not events:
        return set()
    if connection.vendor == "postgresql":
        return _insert_new_postgresql(user, events, now)
    meta = ListeningEvent._meta
    fields = [meta.get_field(name) for name in INSERT_FIELDS]
    columns = [field.column for field in fields]
    rows: list[Any] = []
    for event in events:
        values = (user.pk, event.client_event_id, event.track_id, event.kind, event.position_ms, event.occurred_at, now)
        rows.extend(
            field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)
        )
    quote = connection.ops.quote_name
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(events))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) VALUES {placeholders} "
        "ON CONFLICT (user_id, client_event_id) DO NOTHING RETURNING client_event_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, rows)
        return {uuid.UUID(str(row[0])) for row in cursor.fetchall()}


def _insert_new_postgresql(user: User, events: list[CleanEvent], now: datetime) -> set[uuid.UUID]:
    """The same statement with one array per column (``unnest``): seven parameters instead of
    seven per event, so the statement is parsed, bound and planned once per batch."""
    meta = ListeningEvent._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in INSERT_FIELDS]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
        "SELECT %s, e.client_event_id, e.track_id, e.kind, e.position_ms, e.occurred_at, %s "
        "FROM unnest(%s::uuid[], %s::uuid[], %s::varchar[], %s::integer[], %s::timestamptz[]) "
        "AS e(client_event_id, track_id, kind, position_ms, occurred_at) "
        "ON CONFLICT (user_id, client_event_id) DO NOTHING RETURNING client_event_id"
    )
    params = [
        user.pk,
        now,
        [e.client_event_id for e in events],
        [e.track_id for e in events],
        [e.kind for e in events],
        [e.position_ms for e in events],
        [e.occurred_at for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {uuid.UUID(str(row[0])) for row in cursor.fetchall()}


def events_ingest(*, user: User, raw_events: list[Any]) -> list[dict[str, Any]]:
    """Store a batch of events; per event: accepted, duplicate, or rejected with field and reason."""
    now = timezone.now()
    results, clean = _clean_batch(raw_events, now=now)
    known_tracks = visible_track_ids(user=user, track_ids={event.track_id for event in clean.values()})
    first_in_batch: dict[uuid.UUID, int] = {}
    to_store: dict[int, CleanEvent] = {}
    for position, event in clean.items():
        if event.track_id not in known_tracks:
            results[position].update(status="rejected", field="track", reason="Unknown track.")
        elif event.client_event_id in first_in_batch:
            results[position]["status"] = "duplicate"
        else:
            first_in_batch[event.client_event_id] = position
            to_store[position] = event
    stored = _insert_new(user, to_store.values(), now)
    for position, event in to_store.items():
        results[position]["status"] = "accepted" if event.client_event_id in stored else "duplicate"
    if stored:  # the taste learns from them and the playlist follows, in a task of their own
        listening_digest_enqueue(user_id=user.pk)
    return results
