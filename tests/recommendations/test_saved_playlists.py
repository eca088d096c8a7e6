"""Saved playlists: create, rename, add, remove, reorder, delete; the owner only."""

import uuid

import pytest

from generation.models import Track, TrackStatus
from tests.recommendations.conftest import make_track


@pytest.fixture
def tracks(bob):
    return [make_track(bob, "piano", 60.0 + n, "minor", ["piano"], title=f"T{n}") for n in range(4)]


def titles(body) -> list[str]:
    return [item["track"]["title"] for item in body["items"]]


def test_a_listener_builds_and_edits_a_playlist(alice_client, tracks):
    made = alice_client.post("/api/v1/me/playlists", {"name": "Evening", "tracks": [str(tracks[0].id)]},
                             format="json")
    assert made.status_code == 201, made.json()
    url = f"/api/v1/me/playlists/{made.json()['id']}"
    for track in tracks[1:3]:
        assert alice_client.post(f"{url}/items", {"track": str(track.id)}, format="json").status_code == 200
    body = alice_client.post(f"{url}/items", {"track": str(tracks[3].id), "position": 0}, format="json").json()
    assert titles(body) == ["T3", "T0", "T1", "T2"]
    body = alice_client.put(f"{url}/order", {"order": [3, 2, 1, 0]}, format="json").json()
    assert titles(body) == ["T2", "T1", "T0", "T3"]
    body = alice_client.delete(f"{url}/items/1").json()
    assert titles(body) == ["T2", "T0", "T3"]
    assert alice_client.patch(url, {"name": "Late evening"}, format="json").json()["name"] == "Late evening"
    assert body["items"][0]["track"]["streams"][0]["url"]
    listed = alice_client.get("/api/v1/me/playlists").json()["results"]
    assert [p["name"] for p in listed] == ["Late evening"]
    assert alice_client.delete(url).status_code == 204
    assert alice_client.get(url).status_code == 404


def test_another_listener_cannot_see_or_touch_it(alice_client, bob_client, tracks):
    url = f"/api/v1/me/playlists/{alice_client.post('/api/v1/me/playlists', {'name': 'Mine'}, format='json').json()['id']}"
    assert bob_client.get(url).status_code == 404
    assert bob_client.patch(url, {"name": "Ours"}, format="json").status_code == 404
    assert bob_client.post(f"{url}/items", {"track": str(tracks[0].id)}, format="json").status_code == 404
    assert bob_client.delete(url).status_code == 404
    assert bob_client.get("/api/v1/me/playlists").json()["results"] == []
    assert alice_client.get(url).json()["name"] == "Mine"


def test_it_refuses_tracks_the_listener_may_not_hear(alice_client, bob):
    private = make_track(bob, "piano", 66.0, "minor", ["piano"], status=TrackStatus.PRIVATE)
    for track_id in (private.id, uuid.uuid4()):
        response = alice_client.post("/api/v1/me/playlists", {"name": "X", "tracks": [str(track_id)]}, format="json")
        assert response.status_code == 400 and "tracks" in response.json()["error"]["fields"]


def test_a_bad_order_or_position_is_refused(alice_client, tracks):
    made = alice_client.post("/api/v1/me/playlists", {"name": "X", "tracks": [str(t.id) for t in tracks[:2]]},
                             format="json").json()
    url = f"/api/v1/me/playlists/{made['id']}"
    for order in ([0], [0, 0], [1, 2]):
        response = alice_client.put(f"{url}/order", {"order": order}, format="json")
        assert response.status_code == 400 and "order" in response.json()["error"]["fields"]
    assert alice_client.delete(f"{url}/items/7").status_code == 404


def test_a_taken_down_track_drops_out_of_saved_playlists(alice_client, tracks):
    made = alice_client.post("/api/v1/me/playlists", {"name": "X", "tracks": [str(t.id) for t in tracks]},
                             format="json").json()
    Track.objects.filter(id=tracks[1].id).update(status=TrackStatus.TAKEN_DOWN)
    body = alice_client.get(f"/api/v1/me/playlists/{made['id']}").json()
    assert titles(body) == ["T0", "T2", "T3"]
