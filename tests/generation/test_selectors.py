"""One rule for which tracks a listener may hear, one for which licence applies to them."""

import pytest
from django.utils import timezone

from generation.models import Licence, LicenceScope, TrackStatus
from generation.selectors import licence_for, tracks_visible_to, visible_track_ids
from tests.factories import PublishedTrackFactory, event_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "owner_hears", "other_hears"),
    [
        (TrackStatus.PRIVATE, True, False),
        (TrackStatus.IN_REVIEW, True, False),
        (TrackStatus.CATALOG, True, True),
        (TrackStatus.REJECTED, False, False),
        (TrackStatus.TAKEN_DOWN, False, False),
    ],
)
def test_it_lets_a_listener_hear_own_live_tracks_and_the_catalog(alice, bob, status, owner_hears, other_hears):
    track = PublishedTrackFactory(owner=alice, status=status)
    assert (track in tracks_visible_to(user=alice)) is owner_hears
    assert (track in tracks_visible_to(user=bob)) is other_hears
    assert (track.id in visible_track_ids(user=bob, track_ids={track.id})) is other_hears


@pytest.mark.parametrize("status", [TrackStatus.TAKEN_DOWN, TrackStatus.REJECTED])
def test_it_refuses_events_for_a_track_the_api_answers_404_for(alice, alice_client, status):
    """Regression (a): event ingest and the track API used two rules."""
    track = PublishedTrackFactory(owner=alice, status=status)
    assert alice_client.get(f"/api/v1/tracks/{track.id}").status_code == 404
    answer = alice_client.post("/api/v1/me/events", {"events": [event_payload(track)]}, format="json").json()
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["field"] == "track"


def _catalog_licence(track, licensee):
    return Licence.objects.create(
        track=track, licensee=licensee, licensee_ref=licensee.public_id, licence_id="LicenseRef-Cadenza-Catalog-1.0",
        scope=LicenceScope.CATALOG, commercial_use=True, attribution="Cadenza", certificate={},
        granted_at=timezone.now(),
    )


def test_it_never_shows_a_listener_another_listeners_personal_licence(alice, bob, bob_client):
    """Regression (b): the summary fell back to any licence of the track."""
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)  # only alice's personal licence
    assert licence_for(user=bob, track=track) is None
    assert bob_client.get(f"/api/v1/tracks/{track.id}").json()["licence"] is None
    assert bob_client.get(f"/api/v1/tracks/{track.id}/licence").status_code == 404


def test_it_shows_the_catalog_licence_to_other_listeners_and_the_owner_their_best(alice, bob, alice_client, bob_client):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    catalog = _catalog_licence(track, alice)
    assert licence_for(user=bob, track=track) == catalog
    assert licence_for(user=alice, track=track) == catalog  # catalog scope before personal
    summary = bob_client.get(f"/api/v1/tracks/{track.id}").json()["licence"]
    assert summary["scope"] == "catalog"
    assert bob_client.get(f"/api/v1/tracks/{track.id}/licence").json()["id"] == str(catalog.id)
    assert alice_client.get(f"/api/v1/tracks/{track.id}/licence").json()["id"] == str(catalog.id)


def test_it_prefers_an_unrevoked_licence(alice):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    catalog = _catalog_licence(track, alice)
    catalog.revoked_at = timezone.now()
    catalog.save()
    assert licence_for(user=alice, track=track).scope == LicenceScope.PERSONAL
