"""Track detail as an app caches it: a weak ETag (its signed URLs are new on every answer), 304
while nothing but the URLs changed, and never a 304 on a copy whose URLs are half spent."""

from unittest import mock

from config.api import conditional
from tests.factories import PublishedTrackFactory


def test_track_detail_answers_304_while_the_track_is_unchanged(alice, alice_client, settings):
    settings.SITE_URL = ""
    track = PublishedTrackFactory(owner=alice)
    first = alice_client.get(f"/api/v1/tracks/{track.id}")
    tag = first["ETag"]
    assert tag.startswith('W/"') and "Authorization" in first["Vary"]
    assert first.json()["renditions"][0]["url"]
    again = alice_client.get(f"/api/v1/tracks/{track.id}", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b""
    track.title = "Renamed"
    track.save(update_fields=["title"])
    changed = alice_client.get(f"/api/v1/tracks/{track.id}", HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"


def test_a_copy_older_than_half_the_url_lifetime_is_sent_again_with_fresh_urls(alice, alice_client, settings):
    settings.SITE_URL = ""
    settings.SIGNED_URL_TTL_SECONDS = 300
    track = PublishedTrackFactory(owner=alice)
    real_time = conditional.time.time
    tag = alice_client.get(f"/api/v1/tracks/{track.id}")["ETag"]
    with mock.patch.object(conditional.time, "time", lambda: real_time() + 151):
        later = alice_client.get(f"/api/v1/tracks/{track.id}", HTTP_IF_NONE_MATCH=tag)
    assert later.status_code == 200 and later["ETag"] != tag


def test_another_listeners_track_is_404_whatever_the_etag(alice, bob_client):
    track = PublishedTrackFactory(owner=alice)
    assert bob_client.get(f"/api/v1/tracks/{track.id}", HTTP_IF_NONE_MATCH="*").status_code == 404
