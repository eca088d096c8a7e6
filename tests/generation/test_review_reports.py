"""Listener reports: POST /api/v1/tracks/{id}/report, one open report per listener per track."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

from generation.models import ReportStatus, ReviewAction, TrackReport, TrackStatus
from generation.services.tracks import track_decide
from tests.factories import PublishedTrackFactory
from tests.generation.reviewing import reviewer

pytestmark = pytest.mark.django_db


def _report(client, track, **body):
    return client.post(f"/api/v1/tracks/{track.id}/report", {"reason": "known_work", **body}, format="json")


def test_a_listener_reports_a_catalog_track_with_a_reason_and_a_note(alice, bob_client, bob):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    response = _report(bob_client, track, note="  The opening is 'Greensleeves'.  ")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("track", "reason", "note", "status")} == {
        "track": str(track.id), "reason": "known_work", "note": "The opening is 'Greensleeves'.", "status": "open"}
    assert TrackReport.objects.get(id=body["id"]).reporter == bob


def test_the_note_is_optional(alice, alice_client):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.IN_REVIEW)
    assert _report(alice_client, track, reason="broken_audio").status_code == 201


def test_a_second_open_report_from_the_same_listener_is_refused(alice, bob_client, alice_client):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    assert _report(bob_client, track).status_code == 201
    again = _report(bob_client, track, reason="offensive")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reported"
    assert _report(alice_client, track).status_code == 201  # another listener may
    assert TrackReport.objects.filter(track=track).count() == 2


def test_once_a_decision_resolves_it_the_listener_may_report_again(alice, bob_client, settings, tmp_path):
    settings.CADENZA_DEV_LICENCE_KEY_PATH = tmp_path / "key.pem"
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    assert _report(bob_client, track).status_code == 201
    track_decide(track=track, reviewer=reviewer(), action=ReviewAction.APPROVE, reason="four notes in common")
    assert TrackReport.objects.get(track=track).status == ReportStatus.RESOLVED
    assert _report(bob_client, track, reason="other", note="still hear it").status_code == 201


@pytest.mark.parametrize(("body", "field"), [({"reason": "boring"}, "reason"), ({"reason": None}, "reason"),
                                             ({"note": "x" * 1001}, "note"), ({"note": 5, "reason": "other"}, "note")])
def test_a_bad_report_names_the_field(alice, alice_client, body, field):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.IN_REVIEW)
    response = alice_client.post(f"/api/v1/tracks/{track.id}/report", {"reason": "other", **body}, format="json")
    assert response.status_code == 400  # a number is not text: no field of the API casts JSON types
    assert field in response.json()["error"]["fields"]
    assert not TrackReport.objects.exists()


@pytest.mark.parametrize("status", [TrackStatus.IN_REVIEW, TrackStatus.PRIVATE, TrackStatus.REJECTED,
                                    TrackStatus.TAKEN_DOWN])
def test_a_track_the_listener_may_not_hear_answers_404(alice, bob_client, alice_client, status):
    track = PublishedTrackFactory(owner=alice, status=status)
    assert _report(bob_client, track).status_code == 404
    if status in (TrackStatus.REJECTED, TrackStatus.TAKEN_DOWN):  # nobody hears these, not even the owner
        assert _report(alice_client, track).status_code == 404
    assert not TrackReport.objects.filter(track=track, reporter__email="bob@example.com").exists()


def test_reports_are_throttled_in_their_own_scope(alice, bob_client, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "reports", "3/hour")
    tracks = [PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG) for _ in range(4)]
    assert [_report(bob_client, t).status_code for t in tracks] == [201, 201, 201, 429]
    assert bob_client.get("/api/v1/tracks").status_code == 200  # other routes are not held back
    assert TrackReport.objects.count() == 3


def test_reports_are_in_the_listeners_export_and_go_with_erasure(alice, bob, bob_client):
    track = PublishedTrackFactory(owner=alice, status=TrackStatus.CATALOG)
    _report(bob_client, track, note="too close to a hymn")
    export = bob_client.get("/api/v1/me/export").json()
    assert [(r["track"], r["note"]) for r in export["track_reports"]] == [(str(track.id), "too close to a hymn")]
    bob_client.delete("/api/v1/me")
    assert not TrackReport.objects.exists()
