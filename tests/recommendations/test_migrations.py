"""ListeningEvent moved from accounts to recommendations: every event stored before is there after."""

import uuid

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0002_initial"), ("recommendations", None)]


def _leaves(executor: MigrationExecutor) -> list[tuple[str, str]]:
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_every_event_stored_before_the_move():
    executor = MigrationExecutor(connection)
    latest = _leaves(executor)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state([BEFORE[0]]).apps
        User, Track = old.get_model("accounts", "User"), old.get_model("generation", "Track")
        Event = old.get_model("accounts", "ListeningEvent")
        user = User.objects.create(email="old@example.com", public_id=uuid.uuid4())
        track = Track.objects.create(title="old", style="piano", duration_s=60.0, status="private", owner=user)
        stored = {
            uuid.uuid4(): kind for kind in ("play", "progress", "complete", "skip", "like", "dislike", "save")
        }
        now = timezone.now()
        for client_id, kind in stored.items():
            Event.objects.create(user=user, track=track, client_event_id=client_id, kind=kind, position_ms=1234,
                                 occurred_at=now)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    from recommendations.models import ListeningEvent

    after = ListeningEvent.objects.filter(user_id=user.pk)
    assert {e.client_event_id: e.kind for e in after} == stored
    assert {(e.track_id, e.position_ms, e.occurred_at) for e in after} == {(track.id, 1234, now)}
    assert ListeningEvent._meta.db_table == "recommendations_listeningevent"
    with pytest.raises(IntegrityError):  # the idempotency constraint came along
        ListeningEvent.objects.create(user_id=user.pk, track_id=track.id, client_event_id=next(iter(stored)),
                                      kind="play", occurred_at=now)
