"""Writes on listeners: registration, preferences, listening events, erasure."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from recommendations.events import CleanEvent, EventRejected, clean_event
from accounts.models import ListeningEvent, PreferenceVersion, User
from accounts.selectors import preferences_current, visible_track_ids

PREFERENCE_FIELDS = (
    "styles",
    "moods",
    "tempo_min",
    "tempo_max",
    "energy",
    "preferred_instruments",
    "avoided_instruments",
    "mode",
    "length_min_s",
    "length_max_s",
    "exploration",
)


class PasswordRejected(ValueError):
    """The password fails the configured validators; ``messages`` says why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@transaction.atomic
def user_register(*, email: str, password: str, display_name: str = "") -> User:
    """A new listener with the default preferences as version 1."""
    user = User(email=email.lower(), display_name=display_name)
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise PasswordRejected(list(error.messages)) from None
    user.set_password(password)
    user.save()
    PreferenceVersion.objects.create(user=user, version=1)
    return user


@transaction.atomic
def preferences_update(*, user: User, changes: dict[str, Any]) -> PreferenceVersion:
    """Write the next preference version: the current one with ``changes`` applied."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one writer per user at a time
    current = preferences_current(user=user)
    values = {name: getattr(current, name) for name in PREFERENCE_FIELDS} if current else {}
    if current and all(values[name] == value for name, value in changes.items()):
        return current  # nothing changed: no new version
    values.update(changes)
    last = user.preference_versions.aggregate(last=Max("version"))["last"] or 0
    return PreferenceVersion.objects.create(user=user, version=last + 1, **values)


INSERT_FIELDS = ("user", "client_event_id", "track", "kind", "position_ms", "occurred_at", "received_at")


def _clean_batch(
    raw_events: list[Any], *, now: datetime
) -> tuple[list[dict[str, Any]], dict[int, CleanEvent]]:
    results: list[dict[str, Any]] = []
    clean: dict[int, CleanEvent] = {}
    for position, raw in enumerate(raw_events):
        client_id = raw.get("client_event_id") if isinstance(raw, dict) else None
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
    return results


@transaction.atomic
def user_erase(*, user: User) -> None:
    """Erase a listener: personal rows and private objects go; licence records keep an opaque id."""
    from generation.services import tracks_erase_for_user

    tracks_erase_for_user(user=user)
    user.delete()
