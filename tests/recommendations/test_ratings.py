"""A listener's rating of a track (liked / disliked / none): set by like and dislike, taken back by
unlike and undislike, remembered by the server, the same on the track page and in the playlist."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import event_payload
from tests.recommendations.conftest import make_track

pytestmark = pytest.mark.django_db


def rate(track, kind, *, minutes_ago=0):
    return event_payload(track, kind=kind, occurred_at=(timezone.now() - timedelta(minutes=minutes_ago)).isoformat())


def liked(client, track) -> str:
    response = client.get(f"/api/v1/tracks/{track.id}")
    assert response.status_code == 200, response.content
    return response.json()["liked"]


@pytest.fixture
def track(alice):
    return make_track(alice, "piano", 72.0, "major", ["piano"], title="Calm piano in C")


def test_it_handles_a_like_and_taking_it_back(alice_client, track, listen):
    assert liked(alice_client, track) == "none"
    listen(alice_client, [rate(track, "like")])
    assert liked(alice_client, track) == "liked"
    listen(alice_client, [rate(track, "unlike")])
    assert liked(alice_client, track) == "none"


def test_it_handles_a_dislike_and_taking_it_back(alice_client, track, listen):
    listen(alice_client, [rate(track, "like", minutes_ago=2)])
    listen(alice_client, [rate(track, "dislike", minutes_ago=1)])
    assert liked(alice_client, track) == "disliked"
    listen(alice_client, [rate(track, "undislike")])
    assert liked(alice_client, track) == "none"


def test_a_late_offline_event_does_not_overrule_a_later_one(alice_client, track, listen):
    listen(alice_client, [rate(track, "like")])
    listen(alice_client, [rate(track, "dislike", minutes_ago=30)])  # sent from a phone that was offline
    assert liked(alice_client, track) == "liked"


def test_the_playlist_shows_the_same_rating(alice, alice_client, bob, listen):
    tracks = [make_track(bob, "folk", 120.0 + i, "major", ["guitar"], title=f"folk #{i}") for i in range(4)]
    listen(alice_client, [rate(tracks[0], "like"), rate(tracks[1], "dislike")])
    body = alice_client.get("/api/v1/me/playlist").json()
    shown = {item["track"]["id"]: item["liked"] for item in body["items"] if item["kind"] == "track"}
    assert shown  # the catalog tracks are in it
    for t in tracks:
        if str(t.id) in shown:
            assert shown[str(t.id)] == liked(alice_client, t)
    assert set(shown.values()) <= {"liked", "disliked", "none"}


def test_one_listeners_rating_is_not_anothers(alice_client, bob_client, bob, listen):
    shared = make_track(bob, "folk", 120.0, "major", ["guitar"], title="Shared folk")
    listen(alice_client, [rate(shared, "like")])
    assert liked(alice_client, shared) == "liked"
    assert liked(bob_client, shared) == "none"


def test_an_unknown_kind_is_refused_by_name(alice_client, track, listen):
    body = listen(alice_client, [rate(track, "unlove")])
    assert body["rejected"] == 1
    assert body["results"][0]["field"] == "kind" and "unlike" in body["results"][0]["reason"]


def test_a_like_taken_back_is_no_longer_a_reason(alice, alice_client, bob, listen):
    """Reasons name what the listener enjoyed: a like they took back is not one of them."""
    from recommendations.matrix import feature_matrix
    from recommendations.services.playlists import _enjoyed

    tracks = [make_track(bob, "folk", 120.0 + i, "major", ["guitar"], title=f"folk #{i}") for i in range(2)]
    listen(alice_client, [rate(tracks[0], "like", minutes_ago=1), rate(tracks[1], "like", minutes_ago=1)])
    listen(alice_client, [rate(tracks[0], "unlike")])
    enjoyed = _enjoyed(alice, feature_matrix())
    assert list(enjoyed.verbs) == ["liked"]  # only tracks[1]
