"""Listening events: batched, idempotent, each judged on its own."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from generation.models import TrackStatus
from recommendations.models import ListeningEvent
from tests.factories import TrackFactory, event_payload


@pytest.fixture
def track(alice):
    return TrackFactory(owner=alice)


def post(client, events):
    return client.post("/api/v1/me/events", {"events": events}, format="json")


def test_it_accepts_a_batch_and_stores_it(alice, alice_client, track):
    events = [event_payload(track, kind=kind) for kind in ("play", "progress", "skip")]
    response = post(alice_client, events)
    assert response.status_code == 200, response.json()
    assert response.json()["accepted"] == 3
    assert ListeningEvent.objects.filter(user=alice).count() == 3


def test_it_changes_nothing_when_a_batch_is_resent(alice, alice_client, track):
    events = [event_payload(track) for _ in range(5)]
    post(alice_client, events)
    again = post(alice_client, events).json()
    assert again["duplicate"] == 5 and again["accepted"] == 0
    assert ListeningEvent.objects.filter(user=alice).count() == 5


def test_it_counts_a_repeat_inside_one_batch_as_duplicate(alice_client, track):
    event = event_payload(track)
    body = post(alice_client, [event, event]).json()
    assert [r["status"] for r in body["results"]] == ["accepted", "duplicate"]


def test_it_keeps_good_events_beside_bad_ones(alice, alice_client, track):
    now = timezone.now()
    events = [
        event_payload(track),
        event_payload(track, occurred_at=(now + timedelta(minutes=6)).isoformat()),
        event_payload(track, occurred_at=(now - timedelta(days=31)).isoformat()),
        event_payload(track, kind="hum"),
        event_payload(track, client_event_id="not-a-uuid"),
        event_payload(track, position_ms=-5),
        event_payload(track) | {"track": str(uuid.uuid4())},
        event_payload(track, mood="great"),
        "not an object",
        event_payload(track, occurred_at="yesterday"),
    ]
    body = post(alice_client, events).json()
    statuses = [(r["status"], r.get("field")) for r in body["results"]]
    assert statuses == [
        ("accepted", None),
        ("rejected", "occurred_at"),
        ("rejected", "occurred_at"),
        ("rejected", "kind"),
        ("rejected", "client_event_id"),
        ("rejected", "position_ms"),
        ("rejected", "track"),
        ("rejected", "mood"),
        ("rejected", "non_field_errors"),
        ("rejected", "occurred_at"),
    ]
    assert ListeningEvent.objects.filter(user=alice).count() == 1


def test_it_rejects_events_on_another_listeners_private_track(alice_client, bob):
    private = TrackFactory(owner=bob)
    body = post(alice_client, [event_payload(private)]).json()
    assert body["results"][0]["field"] == "track"


def test_it_accepts_events_on_catalog_tracks(alice_client, bob):
    shared = TrackFactory(owner=bob, status=TrackStatus.CATALOG)
    assert post(alice_client, [event_payload(shared)]).json()["accepted"] == 1


def test_it_lets_two_listeners_reuse_a_client_id(alice_client, bob_client, alice, bob):
    shared = TrackFactory(owner=alice, status=TrackStatus.CATALOG)
    event = event_payload(shared)
    assert post(alice_client, [event]).json()["accepted"] == 1
    assert post(bob_client, [event]).json()["accepted"] == 1


@pytest.mark.parametrize(
    "body",
    [{"events": []}, {"events": "play"}, {}, {"events": [], "extra": 1}, [1, 2]],
)
def test_it_names_the_field_of_a_bad_batch(alice_client, body):
    response = alice_client.post("/api/v1/me/events", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_it_refuses_an_oversized_batch(alice_client, track):
    response = post(alice_client, [event_payload(track) for _ in range(501)])
    assert response.status_code == 400
    assert "events" in response.json()["error"]["fields"]


def test_it_lists_events_newest_first_with_a_cursor(alice_client, track):
    now = timezone.now()
    post(alice_client, [event_payload(track, occurred_at=(now - timedelta(minutes=m)).isoformat()) for m in range(5)])
    page = alice_client.get("/api/v1/me/events?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    times = [e["occurred_at"] for e in page["results"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.django_db(transaction=True)
def test_it_stays_idempotent_under_concurrent_resends(alice, track, client_for):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (CI sets DATABASE_URL)")
    events = [event_payload(track) for _ in range(200)]
    statuses: list[str] = []

    def resend() -> None:
        body = post(client_for(alice), events).json()
        statuses.extend(r["status"] for r in body["results"])
        connection.close()

    threads = [threading.Thread(target=resend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ListeningEvent.objects.filter(user=alice).count() == 200
    assert statuses.count("accepted") == 200
    assert statuses.count("duplicate") == 7 * 200
