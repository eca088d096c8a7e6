"""The account: who am I, export everything, erase everything personal."""

from accounts.models import PreferenceVersion, User
from generation.models import Track, TrackStatus
from recommendations.models import ListeningEvent
from tests.factories import TrackFactory, event_payload


def _listen(client, track, n=3):
    client.post("/api/v1/me/events", {"events": [event_payload(track) for _ in range(n)]}, format="json")


def test_it_shows_the_signed_in_listener(alice, alice_client):
    body = alice_client.get("/api/v1/me").json()
    assert body["email"] == alice.email
    assert "password" not in body


def test_export_contains_every_personal_row(alice, alice_client):
    track = TrackFactory(owner=alice)
    alice_client.patch("/api/v1/me/preferences", {"energy": 0.8}, format="json")
    _listen(alice_client, track)
    export = alice_client.get("/api/v1/me/export").json()
    assert export["user"]["email"] == alice.email
    assert [v["version"] for v in export["preference_versions"]] == [1, 2]
    assert len(export["listening_events"]) == ListeningEvent.objects.filter(user=alice).count() == 3
    assert [t["id"] for t in export["tracks"]] == [str(track.id)]


def test_export_contains_nothing_of_another_listener(alice_client, bob, bob_client):
    track = TrackFactory(owner=bob)
    _listen(bob_client, track)
    export = alice_client.get("/api/v1/me/export").json()
    assert export["listening_events"] == [] and export["tracks"] == []
    assert bob.email not in str(export)


def test_erasure_removes_every_personal_row(alice, alice_client, bob):
    private = TrackFactory(owner=alice)
    shared = TrackFactory(owner=alice, status=TrackStatus.CATALOG)
    _listen(alice_client, private)
    bobs = TrackFactory(owner=bob)
    assert alice_client.delete("/api/v1/me").status_code == 204
    assert not User.objects.filter(email=alice.email).exists()
    assert not PreferenceVersion.objects.filter(user_id=alice.pk).exists()
    assert not ListeningEvent.objects.filter(user_id=alice.pk).exists()
    assert not Track.objects.filter(id=private.id).exists()
    shared.refresh_from_db()
    assert shared.owner is None  # the catalog keeps the piece, not the person
    assert Track.objects.filter(id=bobs.id).exists()


def test_erased_listener_cannot_sign_in_again(alice, alice_client, anon_client):
    alice_client.delete("/api/v1/me")
    response = anon_client.post(
        "/api/v1/auth/token", {"email": alice.email, "password": "correct horse battery staple"}, format="json"
    )
    assert response.status_code == 401


def test_it_changes_the_display_name(alice, alice_client):
    response = alice_client.patch("/api/v1/me", {"display_name": "Alice Liddell"}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Alice Liddell"
    alice.refresh_from_db()
    assert alice.display_name == "Alice Liddell"


def test_it_refuses_a_display_name_with_a_bidi_override_naming_the_field(alice, alice_client):
    response = alice_client.patch("/api/v1/me", {"display_name": "evil\u202egnp.exe"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["display_name"]


def test_it_refuses_to_change_the_address_through_me(alice, alice_client):
    response = alice_client.patch("/api/v1/me", {"display_name": "A", "email": "x@example.com"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
