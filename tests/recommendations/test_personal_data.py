"""Export and erasure cover what recommendations keeps: events, taste, playlists."""

from recommendations.models import (
    ListeningEvent,
    PersonalPlaylist,
    PlaylistItem,
    SavedPlaylist,
    SavedPlaylistItem,
    TasteProfile,
)
from tests.recommendations.conftest import complete, skip


def _history(client, catalog, listen):
    listen(client, [complete(catalog[0]), skip(catalog[1])])
    client.delete("/api/v1/me/taste")
    client.post("/api/v1/me/playlists", {"name": "Keep", "tracks": [str(catalog[2].id)]}, format="json")


def test_export_has_taste_versions_playlists_and_events(alice, alice_client, catalog, listen):
    _history(alice_client, catalog, listen)
    export = alice_client.get("/api/v1/me/export").json()
    assert len(export["listening_events"]) == 2
    assert [(p["version"], p["cause"]) for p in export["taste_profiles"]] == [(1, "events"), (2, "reset")]
    assert export["taste_profiles"][0]["changes"] and export["taste_profiles"][0]["state"]["mean"]
    assert len(export["personal_playlist"]) == PlaylistItem.objects.filter(playlist__user=alice).count() > 0
    assert export["saved_playlists"][0]["name"] == "Keep"
    assert export["saved_playlists"][0]["tracks"] == [str(catalog[2].id)]


def test_export_holds_nothing_of_another_listener(alice_client, bob_client, catalog, listen):
    _history(bob_client, catalog, listen)
    export = alice_client.get("/api/v1/me/export").json()
    assert export["listening_events"] == export["taste_profiles"] == export["saved_playlists"] == []


def test_erasure_removes_taste_playlists_and_events(alice, alice_client, bob_client, catalog, listen):
    _history(alice_client, catalog, listen)
    _history(bob_client, catalog, listen)
    assert alice_client.delete("/api/v1/me").status_code == 204
    for model, owner in ((ListeningEvent, "user_id"), (TasteProfile, "user_id"), (PersonalPlaylist, "user_id"),
                         (SavedPlaylist, "owner_id")):
        assert not model.objects.filter(**{owner: alice.pk}).exists(), model
        assert model.objects.exclude(**{owner: alice.pk}).exists(), model  # bob's stay
    assert not SavedPlaylistItem.objects.filter(playlist__owner_id=alice.pk).exists()
